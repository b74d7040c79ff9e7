/**
 * Context binding: a token is good for the embedder whose key signed it, the address it was minted for (strict
 * mode) or that address's network (loose mode), and the keys the server holds now; replayed anywhere else, it is
 * refused.
 */
import { describe, expect, it } from 'vitest';
import {
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  PORTAL_ORIGIN,
  SECOND_ORIGIN,
  samplesPath,
  useVizLab,
} from '../harness.js';

const lab = useVizLab();

describe('replayed from another embedder (RFC 8725 §3.9 and §3.12 "cross-JWT confusion"; OWASP JWT cheat sheet "token sidejacking")', () => {
  it('a token signed for portal.test:8080 is refused from second.test, which holds another secret', async () => {
    const token = lab().token(DS.hs);
    expectGranted(await lab().get(samplesPath(DS.hs), { token }));
    expectRefusal(
      await lab().get(samplesPath(DS.hs), { token, origin: SECOND_ORIGIN }),
      401,
      'token_invalid',
    );
  });

  it('a token signed for portal.test:8080 is refused from second.test on another port, which its key without a port covers', async () => {
    const reply = await lab().get(samplesPath(DS.hs), {
      token: lab().token(DS.hs),
      origin: `${SECOND_ORIGIN}:8080`,
    });
    expectRefusal(reply, 401, 'token_invalid');
  });

  it('a token signed for second.test is refused from portal.test:8080', async () => {
    const token = lab().token(DS.hs, { key: 'second' });
    expectGranted(await lab().get(samplesPath(DS.hs), { token, origin: SECOND_ORIGIN }));
    expectRefusal(
      await lab().get(samplesPath(DS.hs), { token, origin: PORTAL_ORIGIN }),
      401,
      'token_invalid',
    );
  });

  it.each([
    'http://evil.test',
    'http://portal.test:8081',
    'http://portal.test',
    'http://portal.test.evil.test:8080',
    'http://sub.portal.test:8080',
  ])('a valid token replayed from %s is refused with embedder_not_allowed', async (origin) => {
    const reply = await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs), origin });
    expectRefusal(reply, 403, 'embedder_not_allowed');
  });
});

describe('replayed from another address (ProteinPaint dsCredentials "looseIpCheck"; OWASP Session Management cheat sheet "binding")', () => {
  it.each([
    ['another IPv4 address', '203.0.113.7'],
    ['a neighbour in the same /24', '127.0.0.2'],
    ['the IPv6 loopback', '::1'],
    ['an unspecified address', '0.0.0.0'],
  ])('strict mode: a token minted for %s is refused from 127.0.0.1 with ip_mismatch', async (_what, ip) => {
    expectRefusal(
      await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs, { claims: { ip } }) }),
      403,
      'ip_mismatch',
    );
  });

  it('strict mode: a token without an ip claim is refused with ip_mismatch', async () => {
    expectRefusal(
      await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs, { claims: { ip: undefined } }) }),
      403,
      'ip_mismatch',
    );
  });

  it('strict mode: the IPv4-mapped IPv6 spelling of the same address is the same address', async () => {
    expectGranted(
      await lab().get(samplesPath(DS.hs), {
        token: lab().token(DS.hs, { claims: { ip: '::ffff:127.0.0.1' } }),
      }),
    );
  });

  it.each([
    ['127.0.0.200', 'granted'],
    ['127.0.1.1', 'ip_mismatch'],
    ['203.0.113.7', 'ip_mismatch'],
    ['::1', 'ip_mismatch'],
  ] as const)('loose mode (second.test): a token for %s from 127.0.0.1 is %s', async (ip, outcome) => {
    const token = lab().token(DS.hs, { key: 'second', claims: { ip } });
    const reply = await lab().get(samplesPath(DS.hs), { token, origin: SECOND_ORIGIN });
    if (outcome === 'granted') expectGranted(reply);
    else expectRefusal(reply, 403, outcome);
  });

  it('loose mode: a token without an ip claim is accepted', async () => {
    const token = lab().token(DS.hs, { key: 'second', claims: { ip: undefined } });
    expectGranted(await lab().get(samplesPath(DS.hs), { token, origin: SECOND_ORIGIN }));
  });
});

describe('after key rotation (RFC 8725 §3.1; OWASP Key Management cheat sheet "compromise recovery")', () => {
  it('a restart with new secrets refuses every token signed with the old ones', async () => {
    const old = {
      hs: lab().token(DS.hs),
      second: lab().token(DS.hs, { key: 'second' }),
      star: lab().token(DS.star),
      header: lab().token(DS.header),
    };
    // Verified once, so that a cache could only ever help them through.
    expectGranted(await lab().get(samplesPath(DS.hs), { token: old.hs }));
    expectGranted(await lab().get(samplesPath(DS.star), { token: old.star }));
    const before = lab().server.pid;

    await lab().rotateSecrets();
    expect(lab().server.pid).not.toBe(before);

    expectRefusal(await lab().get(samplesPath(DS.hs), { token: old.hs }), 401, 'token_invalid');
    expectRefusal(
      await lab().get(samplesPath(DS.hs), { token: old.second, origin: SECOND_ORIGIN }),
      401,
      'token_invalid',
    );
    expectRefusal(await lab().get(samplesPath(DS.star), { token: old.star }), 401, 'token_invalid');
    expectRefusal(await lab().get(samplesPath(DS.header), { token: old.header }), 401, 'token_invalid');
    expectGranted(await lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs) }));
    // The RSA key did not change: its tokens are not affected.
    expectGranted(await lab().get(samplesPath(DS.rs), { token: lab().token(DS.rs) }));
  });
});

itLeavesCleanLogs(() => [lab()]);
