/**
 * Time claims: a token without `exp`, with times that are not finite numbers, expired, not yet valid, issued in
 * the future, or living longer than allowed is refused; the leeway (5 s by default) holds on both sides.
 * Times are whole seconds read from the clock when each token is made, chosen so that every case stays at least
 * 2 s away from its boundary whatever the rounding: a slow request cannot move a case across it.
 */
import { describe, expect, it } from 'vitest';
import {
  DS,
  expectGranted,
  expectRefusal,
  itLeavesCleanLogs,
  LEEWAY_SECONDS,
  samplesPath,
  useVizLab,
} from '../harness.js';
import { b64u } from '../jws.js';

const lab = useVizLab();
const now = () => Math.floor(Date.now() / 1000);

const ask = async (claims: Record<string, unknown>) =>
  lab().get(samplesPath(DS.hs), { token: lab().token(DS.hs, { claims }) });

/** A correctly signed token whose claims text has `member` replaced by raw JSON (for 1e999 and friends). */
async function askRaw(member: 'exp' | 'iat' | 'nbf', raw: string) {
  const t = now();
  const claims = { datasets: [DS.hs], email: 'ana@example.org', ip: '127.0.0.1', iat: t, exp: t + 300 };
  const text = JSON.stringify({ ...claims, [member]: '__RAW__' }).replace('"__RAW__"', raw);
  const token = lab().forge({
    header: { alg: 'HS256', typ: 'JWT' },
    payloadSegment: b64u(text),
    signWith: 'HS256',
    key: lab().keys.hs,
  });
  return lab().get(samplesPath(DS.hs), { token });
}

describe('required and well-typed times (RFC 7519 §2 NumericDate, §4.1.4, §4.1.6; RFC 8725 §3.10 "fail closed")', () => {
  it('a token without exp is refused (PRODUCT.md: "a token without exp: refused")', async () => {
    expectRefusal(await ask({ exp: undefined }), 401, 'token_invalid');
  });

  it('a token without iat is refused', async () => {
    expectRefusal(await ask({ iat: undefined }), 401, 'token_invalid');
  });

  it.each([
    ['a numeric string', () => String(now() + 300)],
    ['a date string', () => new Date(Date.now() + 300_000).toISOString()],
    ['null', () => null],
    ['true', () => true],
    ['a list', () => [now() + 300]],
    ['an object', () => ({ seconds: now() + 300 })],
  ])('exp that is %s is refused', async (_what, value) => {
    expectRefusal(await ask({ exp: value() }), 401, 'token_invalid');
  });

  it.each([
    ['a numeric string', () => String(now())],
    ['null', () => null],
    ['a list', () => [now()]],
  ])('iat that is %s is refused', async (_what, value) => {
    expectRefusal(await ask({ iat: value() }), 401, 'token_invalid');
  });

  it.each([
    ['a numeric string', () => String(now() - 10)],
    ['null', () => null],
    ['an object', () => ({})],
  ])('nbf that is %s is refused', async (_what, value) => {
    expectRefusal(await ask({ nbf: value() }), 401, 'token_invalid');
  });

  it.each([
    ['exp', '1e999'],
    ['exp', '-1e999'],
    ['iat', '-1e999'],
    ['nbf', '-1e999'],
    ['nbf', '1e999'],
    ['exp', '1e308'],
  ] as const)('%s written as %s (not a finite date) is refused', async (member, raw) => {
    const reply = await askRaw(member, raw);
    expect(reply.status).toBe(401);
    expect(['token_invalid', 'token_expired', 'token_not_yet_valid']).toContain(
      (reply.json as { error: { code: string } }).error.code,
    );
  });
});

describe('expired and not yet valid (RFC 7519 §4.1.4 and §4.1.5; OWASP JWT cheat sheet "token expiry")', () => {
  it('a token that expired a minute ago is refused as token_expired', async () => {
    const t = now();
    expectRefusal(await ask({ iat: t - 360, exp: t - 60 }), 401, 'token_expired');
  });

  it('a token that expired a year ago is refused as token_expired', async () => {
    const t = now() - 365 * 86_400;
    expectRefusal(await ask({ iat: t - 300, exp: t }), 401, 'token_expired');
  });

  it('a token with exp 0 is refused', async () => {
    const reply = await ask({ iat: -300, exp: 0 });
    expect(reply.status).toBe(401);
  });

  it('a token not valid for another minute is refused as token_not_yet_valid', async () => {
    const t = now();
    expectRefusal(await ask({ iat: t, nbf: t + 60, exp: t + 300 }), 401, 'token_not_yet_valid');
  });

  it('a token issued a minute in the future is refused (RFC 7519 §4.1.6; OWASP: reject tokens from the future)', async () => {
    const t = now();
    expectRefusal(await ask({ iat: t + 60, exp: t + 360 }), 401, 'token_invalid');
  });

  it('a token whose exp is not after its iat is refused', async () => {
    const t = now();
    expectRefusal(await ask({ iat: t, exp: t }), 401, 'token_invalid');
    expectRefusal(await ask({ iat: t, exp: t - 1 }), 401, 'token_invalid');
  });

  it('a token living longer than the allowed 86400 s is refused; exactly 86400 s is accepted', async () => {
    const t = now();
    expectRefusal(await ask({ iat: t, exp: t + 86_401 }), 401, 'token_invalid');
    expectGranted(await ask({ iat: t, exp: t + 86_400 }));
  });

  it('a token whose exp was written in milliseconds is refused (its lifetime is centuries)', async () => {
    const t = now();
    expectRefusal(await ask({ iat: t, exp: (t + 300) * 1000 }), 401, 'token_invalid');
  });

  it('a token with a negative iat is refused (its lifetime is decades)', async () => {
    expectRefusal(await ask({ iat: -1, exp: now() + 300 }), 401, 'token_invalid');
  });

  it('fractional seconds are a valid NumericDate and are accepted (RFC 7519 §2)', async () => {
    const t = now();
    expectGranted(await ask({ iat: t - 0.5, exp: t + 300.25 }));
  });
});

describe(`leeway of ${LEEWAY_SECONDS} s, just inside and just outside (RFC 7519 §4.1.4 "small leeway"; RFC 8725 §3.10)`, () => {
  it(`exp ${LEEWAY_SECONDS - 3} s ago is accepted; ${LEEWAY_SECONDS + 3} s ago is refused`, async () => {
    const t = now();
    expectGranted(await ask({ iat: t - 300, exp: t - (LEEWAY_SECONDS - 3) }));
    expectRefusal(await ask({ iat: t - 300, exp: t - (LEEWAY_SECONDS + 3) }), 401, 'token_expired');
  });

  it(`nbf ${LEEWAY_SECONDS - 2} s ahead is accepted; ${LEEWAY_SECONDS + 4} s ahead is refused`, async () => {
    const t = now();
    expectGranted(await ask({ iat: t, nbf: t + (LEEWAY_SECONDS - 2), exp: t + 300 }));
    expectRefusal(
      await ask({ iat: t, nbf: t + (LEEWAY_SECONDS + 4), exp: t + 300 }),
      401,
      'token_not_yet_valid',
    );
  });

  it(`iat ${LEEWAY_SECONDS - 2} s ahead is accepted; ${LEEWAY_SECONDS + 4} s ahead is refused`, async () => {
    const t = now();
    expectGranted(await ask({ iat: t + (LEEWAY_SECONDS - 2), exp: t + 300 }));
    expectRefusal(await ask({ iat: t + (LEEWAY_SECONDS + 4), exp: t + 300 }), 401, 'token_invalid');
  });

  it('a token accepted (and cached) inside the leeway is refused once exp + leeway has passed', async () => {
    const t = now();
    const exp = t - (LEEWAY_SECONDS - 3);
    const token = lab().token(DS.hs, { claims: { iat: t - 300, exp } });
    expectGranted(await lab().get(samplesPath(DS.hs), { token }));
    const wait = (exp + LEEWAY_SECONDS) * 1000 + 300 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    expectRefusal(await lab().get(samplesPath(DS.hs), { token }), 401, 'token_expired');
  });
});

itLeavesCleanLogs(() => [lab()]);
