/**
 * Malformed tokens: wrong shapes, bad encodings, JSON that is not an object or says two things, nested tokens and
 * oversized input. Each is refused with 401 `token_invalid` before or instead of any claim being trusted; input
 * larger than the server's header limit is refused by the HTTP layer without harming the process.
 */
import { describe, expect, it } from 'vitest';
import {
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  junk,
  samplesPath,
  useVizLab,
} from '../harness.js';
import { b64u, jsonSegment, segments } from '../jws.js';

const lab = useVizLab();

const refused = async (token: string) =>
  expectRefusal(await lab().get(samplesPath(DS.hs), { token: lab().track(token) }), 401, 'token_invalid');

function valid(): {
  token: string;
  header: string;
  payload: string;
  signature: string;
  claims: Record<string, unknown>;
} {
  const token = lab().token(DS.hs);
  const [header = '', payload = '', signature = ''] = segments(token);
  return {
    token,
    header,
    payload,
    signature,
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString()),
  };
}

/** A token whose payload segment is exactly `payloadSegment`, correctly signed with the dataset's secret. */
const signedSegment = (
  payloadSegment: string,
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
) => lab().forge({ header, payloadSegment, signWith: 'HS256', key: lab().keys.hs });
const signedText = (payloadText: string, header?: Record<string, unknown>) =>
  signedSegment(b64u(payloadText), header);

describe('wrong number of parts (RFC 7515 §7.1; RFC 7519 §7.2 step 1)', () => {
  it.each<[string, (t: ReturnType<typeof valid>) => string]>([
    ['one part', (t) => t.header],
    ['two parts', (t) => `${t.header}.${t.payload}`],
    ['four parts', (t) => `${t.token}.${t.signature}`],
    ['a trailing dot', (t) => `${t.token}.`],
    ['a leading dot', (t) => `.${t.token}`],
    ['an empty header', (t) => `.${t.payload}.${t.signature}`],
    ['an empty payload', (t) => `${t.header}..${t.signature}`],
    ['only dots', () => '..'],
    [
      'five parts, shaped like a JWE (RFC 7516 §7.1)',
      (t) => `${jsonSegment({ alg: 'dir', enc: 'A256GCM' })}..${t.payload}.${t.signature}.${t.signature}`,
    ],
  ])('%s is refused', async (_what, make) => refused(make(valid())));

  it('a JWS JSON serialization instead of the compact form is refused (its commas read as two headers: 400)', async () => {
    const t = valid();
    const token = lab().track(
      JSON.stringify({ protected: t.header, payload: t.payload, signature: t.signature }),
    );
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 400, 'bad_request');
  });
});

describe('base64url violations (RFC 7515 §2 and §7.1; RFC 4648 §5)', () => {
  it.each<[string, (t: ReturnType<typeof valid>) => string]>([
    ['padding on the header', (t) => `${t.header}==.${t.payload}.${t.signature}`],
    [
      'standard base64 "+" and "/" in the header',
      (t) => `${t.header.replace(/-/g, '+').replace(/_/g, '/')}+/.${t.payload}.${t.signature}`,
    ],
    [
      'a space inside the header',
      (t) => `${t.header.slice(0, 5)} ${t.header.slice(5)}.${t.payload}.${t.signature}`,
    ],
    ['a percent-encoded header', (t) => `${encodeURIComponent(`${t.header}=`)}.${t.payload}.${t.signature}`],
    ['non-ASCII in the header', (t) => `${t.header}é.${t.payload}.${t.signature}`],
    [
      'a header of impossible length (4n+1)',
      (t) =>
        `${t.header}${t.header.length % 4 === 0 ? 'A' : 'AAAAA'.slice(0, 5 - (t.header.length % 4))}.${t.payload}.${t.signature}`,
    ],
    ['padding on the signature', (t) => `${t.token}=`],
    [
      'standard base64 in the signature',
      (t) => `${t.header}.${t.payload}.${Buffer.from(t.signature, 'base64url').toString('base64')}`,
    ],
    ['a percent-encoded NUL after the signature', (t) => `${t.token}%00`],
    ['a Bearer prefix (RFC 6750 is not our header)', (t) => `Bearer ${t.token}`],
  ])('%s is refused', async (_what, make) => refused(make(valid())));

  it.each([
    ['padding', (p: string) => `${p}==`],
    ['standard base64 alphabet', (p: string) => Buffer.from(p, 'base64url').toString('base64')],
    ['a space', (p: string) => `${p.slice(0, 8)} ${p.slice(8)}`],
    ['a period-free junk character', (p: string) => `${p}*`],
  ])('a payload segment with %s is refused even when the HMAC over it is right', async (_what, change) => {
    await refused(signedSegment(change(valid().payload)));
  });
});

describe('headers and payloads that are not JSON objects (RFC 7515 §5.2 steps 3 and 4; RFC 7519 §7.2 steps 4 and 10)', () => {
  it.each([
    ['not JSON', 'not json'],
    ['an array', '[]'],
    ['an array holding the header', '[{"alg":"HS256"}]'],
    ['a string', '"HS256"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['truncated', '{"alg":"HS256"'],
    ['followed by junk', '{"alg":"HS256"}x'],
    ['two objects', '{"alg":"HS256"}{"alg":"HS256"}'],
    ['prefixed with a byte order mark', '\ufeff{"alg":"HS256"}'],
    ['empty', ''],
  ])('a header that is %s is refused', async (_what, headerText) => {
    const t = valid();
    await refused(
      lab().forge({ headerText, payloadSegment: t.payload, signWith: 'HS256', key: lab().keys.hs }),
    );
  });

  it('a header in UTF-16 is refused', async () => {
    const t = valid();
    const headerSegment = b64u(Buffer.from('{"alg":"HS256"}', 'utf16le'));
    await refused(
      lab().forge({ headerSegment, payloadSegment: t.payload, signWith: 'HS256', key: lab().keys.hs }),
    );
  });

  it.each([
    ['not JSON', 'not json'],
    ['an array', '[]'],
    ['an array holding the claims', () => `[${JSON.stringify(valid().claims)}]`],
    ['a string', '"claims"'],
    ['a number', '42'],
    ['null', 'null'],
    ['false', 'false'],
    ['truncated', () => JSON.stringify(valid().claims).slice(0, -1)],
    ['followed by junk', () => `${JSON.stringify(valid().claims)}x`],
    ['empty', ''],
    ['an empty object', '{}'],
  ])('a correctly signed payload that is %s is refused', async (_what, text) => {
    await refused(signedText(typeof text === 'function' ? text() : text));
  });
});

describe('duplicate JSON members (RFC 7515 §5.2 and RFC 7519 §4: recipients may refuse, we do; RFC 8725 §2.8)', () => {
  it.each([
    ['alg, last none', '{"alg":"HS256","alg":"none"}'],
    ['alg, first none', '{"alg":"none","alg":"HS256"}'],
    ['alg, the second written with an escape', '{"alg":"HS256","\\u0061lg":"HS256"}'],
    ['kid', '{"alg":"HS256","kid":"a","kid":"b"}'],
    ['crit', '{"alg":"HS256","crit":["exp"],"crit":[]}'],
  ])('a header naming %s twice is refused', async (_what, headerText) => {
    const t = valid();
    await refused(
      lab().forge({ headerText, payloadSegment: t.payload, signWith: 'HS256', key: lab().keys.hs }),
    );
  });

  const claimsText = (inject: (c: Record<string, unknown>) => string) => inject(valid().claims);
  const members = (c: Record<string, unknown>) => JSON.stringify(c).slice(1, -1);
  it.each<[string, (c: Record<string, unknown>) => string]>([
    ['datasets (another dataset first)', (c) => `{"datasets":["TermdbData"],${members(c)}}`],
    ['datasets (another dataset last)', (c) => `{${members(c)},"datasets":["TermdbData"]}`],
    ['exp (expired first, valid last)', (c) => `{"exp":${Number(c.iat) - 10},${members(c)}}`],
    ['ip', (c) => `{${members(c)},"ip":"203.0.113.9"}`],
    ['email, the second with escapes', (c) => `{${members(c)},"\\u0065mail":"mallory@example.org"}`],
    [
      'a member inside clientAuthResult',
      (c) => `{${members(c)},"clientAuthResult":{"cohorts":["ABC"],"cohorts":[]}}`,
    ],
  ])('a correctly signed payload naming %s twice is refused', async (_what, inject) => {
    await refused(signedText(claimsText(inject)));
  });

  it('a correctly signed payload with a string value that merely contains a colon is accepted (the check is not fooled)', async () => {
    const t = valid();
    const text = JSON.stringify({ ...t.claims, clientAuthResult: { note: 'a:b:"c":d', role: 'analyst' } });
    expectGranted(await lab().get(samplesPath(DS.hs), { token: signedText(text) }));
  });
});

describe('nested JWTs (RFC 7519 §5.2 and §7.2 step 8; RFC 8725 §2.8 and §3.11)', () => {
  it('an outer token signed with the right key whose payload is the inner token (cty JWT) is refused', async () => {
    const inner = valid().token;
    await refused(signedText(inner, { alg: 'HS256', cty: 'JWT' }));
  });

  it('the same with the inner token as a JSON string is refused', async () => {
    const inner = valid().token;
    await refused(signedText(JSON.stringify(inner), { alg: 'HS256', cty: 'JWT' }));
  });

  it('an attacker-signed outer token wrapping a valid inner token is refused', async () => {
    const inner = valid().token;
    const outer = lab().forge({
      header: { alg: 'HS256', cty: 'JWT' },
      payload: inner,
      signWith: 'HS256',
      key: 'an attacker secret of thirty-two bytes at least!!',
    });
    await refused(outer);
  });

  it('an unsigned outer token wrapping a valid inner token is refused', async () => {
    const inner = valid().token;
    await refused(
      lab().forge({ header: { alg: 'none', cty: 'JWT' }, payloadText: inner, signatureSegment: '' }),
    );
  });

  it('a header marked critical with an extension the server does not know is refused (RFC 7515 §4.1.11)', async () => {
    await refused(lab().token(DS.hs, { header: { crit: ['b64'], b64: false } }));
  });
});

describe('oversized tokens and headers (OWASP JWT cheat sheet; MAX_TOKEN_LENGTH 8192; RFC 9110 §5.4)', () => {
  const withPadding = (length: number) => {
    // A valid token grown with clientAuthResult to about `length` characters, correctly signed.
    const base = lab().token(DS.hs).length;
    const filler = 'x'.repeat(Math.max(0, Math.floor(((length - base) * 3) / 4) - 40));
    return lab().token(DS.hs, { claims: { clientAuthResult: { filler } } });
  };

  it('a valid token just under 8192 characters is accepted', async () => {
    const token = withPadding(8100);
    expect(token.length).toBeLessThanOrEqual(8192);
    expect(token.length).toBeGreaterThan(7900);
    expectGranted(await lab().get(samplesPath(DS.hs), { token }));
  });

  it('a correctly signed token over 8192 characters is refused before any decoding', async () => {
    const token = withPadding(8400);
    expect(token.length).toBeGreaterThan(8192);
    await refused(token);
  });

  it.each([8193, 12_000, 15_000])('a %i-character junk token is refused', async (length) => {
    const t = valid();
    await refused(`${t.header}.${junk(length - t.header.length - 45)}.${t.signature}`);
  });

  it.each([
    ['a 20 kB token', () => [['x-ds-access-token', junk(20_000)]] as [string, string][]],
    ['a 20 kB unrelated header', () => [['x-padding', junk(20_000)]] as [string, string][]],
    [
      '500 small headers',
      () => Array.from({ length: 500 }, (_, i) => [`x-h${i}`, junk(40)] as [string, string]),
    ],
  ])('%s is refused by the HTTP layer (431) and the server lives on', async (_what, headers) => {
    const reply = await lab().send({
      path: samplesPath(DS.hs),
      headers: [['origin', 'http://portal.test:8080'], ...headers()],
    });
    expect(reply.status).toBe(431);
  });

  it('a 40 kB request line is refused by the HTTP layer (431) and the server lives on', async () => {
    const reply = await lab().raw(
      `GET ${samplesPath(DS.hs)}&pad=${junk(40_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(reply.status).toBe(431);
  });
});

itLeavesCleanLogs(() => [lab()]);
