/**
 * Transport: the token travels in exactly one header, the configured one; anywhere else (URL, cookie, body,
 * Authorization) it is refused and never logged. The embedding origin must be named. X-Forwarded-For is ignored
 * unless the peer is a trusted proxy, and then only the right-most untrusted hop counts.
 */
import { describe, expect, it } from 'vitest';
import {
  CUSTOM_HEADER,
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  PORTAL_ORIGIN,
  samplesPath,
  useVizLab,
} from '../harness.js';

const lab = useVizLab();
const proxied = useVizLab({ trustProxy: ['127.0.0.1', '10.0.0.0/8'] });

describe('one token, in one header (RFC 6750 §2 "clients must not use more than one method"; docs/http-api.md)', () => {
  it.each([
    ['the same valid token twice', (t: string) => [t, t]],
    ['a valid and a forged token', (t: string) => [t, `${t.slice(0, -4)}AAAA`]],
    ['an empty header before a valid one', (t: string) => ['', t]],
    ['a valid header before an empty one', (t: string) => [t, '']],
  ])('%s in two x-ds-access-token headers is refused with 400', async (_what, values) => {
    const token = lab().token(DS.hs);
    const reply = await lab().send({
      path: samplesPath(DS.hs),
      headers: [['origin', PORTAL_ORIGIN], ...values(token).map((v) => ['x-ds-access-token', v] as const)],
    });
    expectRefusal(reply, 400, 'bad_request');
  });

  it('the same header name in two spellings is two headers, and refused', async () => {
    const token = lab().token(DS.hs);
    const reply = await lab().send({
      path: samplesPath(DS.hs),
      headers: [
        ['origin', PORTAL_ORIGIN],
        ['X-DS-Access-Token', token],
        ['x-ds-access-token', token],
      ],
    });
    expectRefusal(reply, 400, 'bad_request');
  });

  it('HeaderData reads its custom header only: the token in x-ds-access-token is missing', async () => {
    const token = lab().token(DS.header);
    expectRefusal(
      await lab().get(samplesPath(DS.header), { token, headerKey: 'x-ds-access-token' }),
      401,
      'token_missing',
    );
    expectGranted(await lab().get(samplesPath(DS.header), { token, headerKey: CUSTOM_HEADER.toUpperCase() }));
  });

  it.each(['Authorization', 'X-Access-Token', 'Token', 'X-DS-Access-Token-'])(
    'a token in the %s header is missing, not used',
    async (header) => {
      const token = lab().token(DS.hs);
      const value = header === 'Authorization' ? `Bearer ${token}` : token;
      expectRefusal(
        await lab().get(samplesPath(DS.hs), { headers: [[header, value]] }),
        401,
        'token_missing',
      );
    },
  );
});

describe('tokens outside the header are refused and not logged (RFC 6750 §2.3 and §5.3; RFC 8725 §3; OWASP JWT cheat sheet "token sidejacking")', () => {
  it.each(['token', 'access_token', 'jwt', 'x-ds-access-token', 'ACCESS_TOKEN', 'Token'])(
    'a token in the query parameter %s is refused with 400',
    async (name) => {
      const token = lab().token(DS.hs);
      const reply = await lab().get(`${samplesPath(DS.hs)}&${name}=${token}`);
      expectRefusal(reply, 400, 'bad_request');
    },
  );

  it('a token-shaped value under any query parameter name is refused with 400, even beside a valid header', async () => {
    const token = lab().token(DS.hs);
    for (const name of ['q', CUSTOM_HEADER, 'state', 'x']) {
      const reply = await lab().get(`${samplesPath(DS.hs)}&${encodeURIComponent(name)}=${token}`, { token });
      expectRefusal(reply, 400, 'bad_request');
    }
  });

  // Found by this suite: the guard once matched only whole parameter values against an anchored pattern, so these
  // were answered 200 with the token left in the URL (proxy logs, history, Referer).
  it.each<[string, (token: string) => string]>([
    ['as a bare query key', (token) => `&${token}`],
    ['as a query key with an empty value', (token) => `&${token}=`],
    ['after a Bearer prefix', (token) => `&auth=${encodeURIComponent(`Bearer ${token}`)}`],
    ['inside a JSON parameter', (token) => `&state=${encodeURIComponent(JSON.stringify({ token }))}`],
    [
      'under the custom headerKey name, prefixed',
      (token) => `&${CUSTOM_HEADER}=${encodeURIComponent(` ${token}`)}`,
    ],
  ])('a token in the query string %s is refused with 400', async (_what, query) => {
    const token = lab().token(DS.termdb);
    const reply = await lab().get(`/termdb/barchart?dslabel=${DS.termdb}&term=sex${query(token)}`);
    expectRefusal(reply, 400, 'bad_request');
  });

  it('a token in the query string of an open route is refused too', async () => {
    const token = lab().token(DS.termdb);
    expectRefusal(
      await lab().get(`/termdb/barchart?dslabel=${DS.termdb}&term=sex&access_token=${token}`),
      400,
      'bad_request',
    );
  });

  it.each(['x-ds-access-token', 'token', 'pp_session', 'jwt'])(
    'a token in the cookie %s is missing, not used',
    async (name) => {
      const token = lab().token(DS.hs);
      expectRefusal(
        await lab().get(samplesPath(DS.hs), { headers: [['cookie', `${name}=${token}`]] }),
        401,
        'token_missing',
      );
    },
  );

  it('a token in a GET body is missing, not used', async () => {
    const token = lab().token(DS.hs);
    for (const body of [`x-ds-access-token=${token}`, JSON.stringify({ token }), token]) {
      expectRefusal(await lab().get(samplesPath(DS.hs), { body }), 401, 'token_missing');
    }
  });

  it('a POST with a token in its body reaches no data route', async () => {
    const token = lab().token(DS.hs);
    const reply = await lab().get(samplesPath(DS.hs), {
      method: 'POST',
      body: JSON.stringify({ token }),
      headers: [['content-type', 'application/json']],
    });
    expectRefusal(reply, 405, 'method_not_allowed');
  });
});

describe('the embedding origin must be named (PRODUCT.md "an unknown embedding origin: refused"; RFC 6454 §7)', () => {
  it.each([null, ''])(
    'no Origin (%j) is a script, refused with scripts_not_allowed where no entry takes scripts, even with a valid token',
    async (origin) => {
      expectRefusal(
        await lab().get(samplesPath(DS.hs), { origin, token: lab().token(DS.hs) }),
        403,
        'scripts_not_allowed',
      );
    },
  );

  it.each(['null', 'NULL', 'portal.test:8080', 'http://portal.test:8080/', 'file://', 'about:blank'])(
    'Origin %j is refused with embedder_not_allowed, even with a valid token',
    async (origin) => {
      const reply = await lab().get(samplesPath(DS.hs), { origin, token: lab().token(DS.hs) });
      expectRefusal(reply, 403, 'embedder_not_allowed');
    },
  );

  it('two Origin headers (one allowed, one not) are refused', async () => {
    const reply = await lab().get(samplesPath(DS.hs), {
      token: lab().token(DS.hs),
      headers: [['origin', 'http://evil.test']],
    });
    expectRefusal(reply, 403, 'embedder_not_allowed');
  });

  it('Referer and Host do not stand in for Origin', async () => {
    const reply = await lab().get(samplesPath(DS.hs), {
      origin: null,
      token: lab().token(DS.hs),
      headers: [
        ['referer', `${PORTAL_ORIGIN}/datasets/HsData`],
        ['host', 'portal.test:8080'],
      ],
    });
    expectRefusal(reply, 403, 'scripts_not_allowed');
  });
});

describe('spoofed X-Forwarded-For without trustProxy is ignored (OWASP "IP spoofing via headers"; RFC 7239 §8.3)', () => {
  const spoofs: [string, string][][] = [
    [['x-forwarded-for', '203.0.113.9']],
    [['x-forwarded-for', '1.1.1.1, 203.0.113.9']],
    [['x-real-ip', '203.0.113.9']],
    [['forwarded', 'for=203.0.113.9']],
    [['true-client-ip', '203.0.113.9']],
    [['cf-connecting-ip', '203.0.113.9']],
  ];

  it.each(spoofs)('a token for 203.0.113.9 is refused from 127.0.0.1 whatever %j says', async (header) => {
    const token = lab().token(DS.hs, { claims: { ip: '203.0.113.9' } });
    expectRefusal(await lab().get(samplesPath(DS.hs), { token, headers: [header] }), 403, 'ip_mismatch');
  });

  it.each(spoofs)('a token for 127.0.0.1 is still accepted with %j', async (header) => {
    expectGranted(await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs), headers: [header] }));
  });
});

describe('X-Forwarded-For behind a trusted proxy: the right-most untrusted hop (RFC 7239 §5.2; OWASP; MDN X-Forwarded-For "security")', () => {
  const cases: [string, string | string[] | undefined, string, 'granted' | 'ip_mismatch'][] = [
    ['the one hop the proxy added', '203.0.113.9', '203.0.113.9', 'granted'],
    ['a client-written hop left of the real one', '1.1.1.1, 203.0.113.9', '1.1.1.1', 'ip_mismatch'],
    ['the real hop right of a client-written one', '1.1.1.1, 203.0.113.9', '203.0.113.9', 'granted'],
    ['trusted proxies right of the client', '203.0.113.9, 10.1.2.3, 127.0.0.1', '203.0.113.9', 'granted'],
    ['a trusted address the client wrote itself', '10.9.9.9, 203.0.113.9', '10.9.9.9', 'ip_mismatch'],
    ['two headers, joined in order', ['1.1.1.1', '203.0.113.9'], '203.0.113.9', 'granted'],
    ['two headers, the first written by the client', ['1.1.1.1', '203.0.113.9'], '1.1.1.1', 'ip_mismatch'],
    ['garbage left of the real hop', 'not-an-ip, 203.0.113.9', '203.0.113.9', 'granted'],
    [
      'garbage right of a hop: nothing in it is trusted',
      '203.0.113.9, garbage',
      '203.0.113.9',
      'ip_mismatch',
    ],
    ['garbage right of a hop: the peer counts', '203.0.113.9, garbage', '127.0.0.1', 'granted'],
    ['an address with a port', '203.0.113.9:4444', '203.0.113.9', 'ip_mismatch'],
    ['an IPv4-mapped IPv6 address', '::ffff:203.0.113.9', '203.0.113.9', 'granted'],
    ['an IPv6 address', '2001:db8::7', '2001:db8:0:0:0:0:0:7', 'granted'],
    ['all hops trusted: the peer counts', '10.0.0.1, 10.0.0.2', '127.0.0.1', 'granted'],
    ['no header: the peer counts', undefined, '127.0.0.1', 'granted'],
    ['an empty header', '', '203.0.113.9', 'ip_mismatch'],
  ];

  it.each(cases)('%s (X-Forwarded-For %j, token ip %s)', async (_what, xff, ip, outcome) => {
    const headers = ([] as string[]).concat(xff ?? []).map((value) => ['x-forwarded-for', value] as const);
    const token = proxied().token(DS.hs, { claims: { ip } });
    const reply = await proxied().get(samplesPath(DS.hs), { token, headers });
    if (outcome === 'granted') expectGranted(reply);
    else expectRefusal(reply, 403, outcome);
  });

  it('the header is still ignored from a peer that is not a trusted proxy', async () => {
    // The main lab trusts no proxy: its decision for the same request differs.
    const token = lab().token(DS.hs, { claims: { ip: '203.0.113.9' } });
    const headers = [['x-forwarded-for', '203.0.113.9'] as const];
    expectRefusal(await lab().get(samplesPath(DS.hs), { token, headers }), 403, 'ip_mismatch');
    expect(proxied().options.trustProxy).toContain('127.0.0.1');
  });
});

itLeavesCleanLogs(() => [lab(), proxied()]);
