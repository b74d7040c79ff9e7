import { createHmac, createSecretKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import {
  claims,
  clock,
  ecKeys,
  forgeAsymmetric,
  forgeHmac,
  newSecret,
  NOW,
  NOW_MS,
  rsaKeys,
  b64,
  refusal,
} from '../test/helpers.js';
import { TokenSetupError } from './errors.js';
import { createVerifier, MAX_TOKEN_LENGTH, type VerifierOptions } from './verify.js';

const secret = newSecret();
const HS256 = { alg: 'HS256', typ: 'JWT' };

function verifier(options: Partial<VerifierOptions> = {}) {
  return createVerifier({ key: { secret }, now: clock, ...options });
}

describe('createVerifier with a shared secret', () => {
  it('returns the claims of a well-formed HS256 token', async () => {
    const token = forgeHmac(
      HS256,
      claims({ ip: '10.1.2.3', clientAuthResult: { role: 'analyst', cohorts: ['ABC'] } }),
      secret,
    );
    const result = await verifier().verify(token);
    expect(result).toMatchObject({
      datasets: ['TermdbTest'],
      email: 'ana@example.org',
      ip: '10.1.2.3',
      exp: NOW + 600,
      clientAuthResult: { role: 'analyst', cohorts: ['ABC'] },
    });
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('keeps the access claim the portal vouches for', async () => {
    for (const access of ['signedIn', 'granted'] as const) {
      const result = await verifier().verify(forgeHmac(HS256, claims({ access }), secret));
      expect(result.access).toBe(access);
    }
    const without = await verifier().verify(forgeHmac(HS256, claims(), secret));
    expect(without).not.toHaveProperty('access');
  });

  it('reads a script token: its client, the API token id and the route classes it opens', async () => {
    const token = forgeHmac(
      HS256,
      claims({ client: 'script', apiTokenId: 'Zk3pQ9', routeClasses: ['aggregated'] }),
      secret,
    );
    const result = await verifier().verify(token);
    expect(result).toMatchObject({ client: 'script', apiTokenId: 'Zk3pQ9', routeClasses: ['aggregated'] });
    expect(Object.isFrozen(result.routeClasses)).toBe(true);
  });

  it('keeps only the known claims', async () => {
    const result = await verifier().verify(forgeHmac(HS256, claims({ admin: true }), secret));
    expect(result).not.toHaveProperty('admin');
  });

  it.each([undefined, null, ''])('calls %j a missing token', async (token) => {
    const error = await refusal(verifier().verify(token));
    expect([error.code, error.reason]).toEqual(['token_missing', undefined]);
  });

  it('refuses a token signed with another secret', async () => {
    const error = await refusal(verifier().verify(forgeHmac(HS256, claims(), newSecret())));
    expect(error.code).toBe('token_invalid');
    expect(error.message).toBe('token signature does not match');
    expect(error.reason).toBe('signature');
  });

  it('refuses an expired token as token_expired, and keeps the library error as cause only', async () => {
    const token = forgeHmac(HS256, claims({ iat: NOW - 700, exp: NOW - 100 }), secret);
    const error = await refusal(verifier().verify(token));
    expect(error.code).toBe('token_expired');
    expect(error.message).not.toContain('jwt');
    expect(error.cause).toBeInstanceOf(jwt.TokenExpiredError);
  });

  it('accepts an expired token within the leeway and refuses it past the leeway', async () => {
    const token = forgeHmac(HS256, claims({ iat: NOW - 700, exp: NOW - 3 }), secret);
    await expect(verifier({ leewaySeconds: 5 }).verify(token)).resolves.toBeDefined();
    expect((await refusal(verifier({ leewaySeconds: 2 }).verify(token))).code).toBe('token_expired');
  });

  it('refuses a token that is not valid yet as token_not_yet_valid', async () => {
    const error = await refusal(verifier().verify(forgeHmac(HS256, claims({ nbf: NOW + 60 }), secret)));
    expect(error.code).toBe('token_not_yet_valid');
  });

  it('refuses a token issued in the future beyond the leeway', async () => {
    const error = await refusal(
      verifier().verify(forgeHmac(HS256, claims({ iat: NOW + 30, exp: NOW + 600 }), secret)),
    );
    expect([error.code, error.claim]).toEqual(['token_invalid', 'iat']);
    await expect(
      verifier().verify(forgeHmac(HS256, claims({ iat: NOW + 4 }), secret)),
    ).resolves.toBeDefined();
  });

  it.each([
    ['no exp', { exp: undefined }, 'exp'],
    ['no iat', { iat: undefined }, 'iat'],
    ['a string exp', { exp: String(NOW + 600) }, 'exp'],
    ['an infinite exp', { exp: '__INF__' }, 'exp'],
    ['exp before iat', { iat: NOW + 3, exp: NOW + 2 }, 'exp'],
    ['a lifetime over the maximum', { exp: NOW + 90_000 }, 'exp'],
    ['datasets as a string', { datasets: 'TermdbTest' }, 'datasets'],
    ['empty datasets', { datasets: [] }, 'datasets'],
    ['a non-string dataset', { datasets: [42] }, 'datasets'],
    ['a dataset label with a newline', { datasets: ['TermdbTest\n'] }, 'datasets'],
    ['no email', { email: undefined }, 'email'],
    ['an email with a newline', { email: 'ana@example.org\n{"forged":1}' }, 'email'],
    ['an ip that is not an address', { ip: '10.1.2' }, 'ip'],
    ['clientAuthResult as an array', { clientAuthResult: ['admin'] }, 'clientAuthResult'],
    ['clientAuthResult as a string', { clientAuthResult: 'admin' }, 'clientAuthResult'],
    ['an access level the server does not know', { access: 'admin' }, 'access'],
    ['access in another case', { access: 'Granted' }, 'access'],
    ['iss as a number', { iss: 7 }, 'iss'],
    ['a numeric jti', { jti: 7 }, 'jti'],
    ['an unknown client', { client: 'robot' }, 'client'],
    ['an apiTokenId with a newline', { apiTokenId: 'abc\n{"forged":1}' }, 'apiTokenId'],
    ['empty routeClasses', { routeClasses: [] }, 'routeClasses'],
    ['routeClasses as a string', { routeClasses: 'aggregated' }, 'routeClasses'],
    ['an unknown route class', { routeClasses: ['aggregated', 'admin'] }, 'routeClasses'],
    ['a route class named twice', { routeClasses: ['aggregated', 'aggregated'] }, 'routeClasses'],
    ['discovery as a route class', { routeClasses: ['discovery'] }, 'routeClasses'],
  ])('refuses a token with %s', async (_name, overrides, claim) => {
    const payload = JSON.stringify(claims(overrides)).replace('"__INF__"', '1e999');
    const error = await refusal(verifier().verify(forgeHmac(HS256, payload, secret)));
    expect([error.code, error.claim, error.reason]).toEqual(['token_invalid', claim, 'claims']);
    expect(error.message).toMatch(new RegExp(`^claim ${claim} `));
  });

  it('honours a shorter maximum lifetime', async () => {
    const token = forgeHmac(HS256, claims({ exp: NOW + 600 }), secret);
    expect((await refusal(verifier({ maxTokenAgeSeconds: 300 }).verify(token))).claim).toBe('exp');
  });

  it.each([
    ['a non-object payload', b64('"just a string"')],
    ['an array payload', b64([1, 2])],
    ['a payload that is not JSON', b64('{datasets:')],
    [
      'a payload that names a member twice',
      b64(`{"datasets":["Other"],"datasets":["TermdbTest"],"email":"a","iat":${NOW},"exp":${NOW + 60}}`),
    ],
  ])('refuses %s', async (_name, payloadPart) => {
    const input = `${b64(HS256)}.${payloadPart}`;
    const signature = createHmac('sha256', secret).update(input).digest('base64url');
    const error = await refusal(verifier().verify(`${input}.${signature}`));
    expect(error.code).toBe('token_invalid');
    expect(error.message).toMatch(/^token (payload|could not)/);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s even without a signature', async (alg) => {
    const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`;
    const error = await refusal(verifier().verify(unsigned));
    expect(error.code).toBe('token_invalid');
    const withSig = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.AAAA`;
    const refused = await refusal(verifier().verify(withSig));
    expect([refused.claim, refused.reason]).toEqual(['alg', 'algorithm']);
  });

  it.each(['HS384', 'HS512'])('pins HS256: refuses %s signed with the same secret', async (alg) => {
    const token = forgeHmac({ alg }, claims(), secret, `sha${alg.slice(2)}`);
    expect((await refusal(verifier().verify(token))).claim).toBe('alg');
  });

  it('accepts HS512 when the operator pins it and the secret is long enough', async () => {
    const long = newSecret(64);
    const token = forgeHmac({ alg: 'HS512' }, claims(), long, 'sha512');
    const v = createVerifier({ key: { secret: long }, algorithms: ['HS512'], now: clock });
    await expect(v.verify(token)).resolves.toBeDefined();
  });

  it('refuses a header with critical extensions', async () => {
    const token = forgeHmac({ alg: 'HS256', crit: ['b64'], b64: false }, claims(), secret);
    expect((await refusal(verifier().verify(token))).claim).toBe('crit');
  });

  it('ignores a kid when there is one key, whatever it names', async () => {
    const token = forgeHmac({ alg: 'HS256', kid: '../../etc/passwd' }, claims(), secret);
    await expect(verifier().verify(token)).resolves.toBeDefined();
  });

  it('refuses a token longer than the limit before decoding it', async () => {
    const token = forgeHmac(
      HS256,
      claims({ clientAuthResult: { pad: 'x'.repeat(MAX_TOKEN_LENGTH) } }),
      secret,
    );
    const error = await refusal(verifier().verify(token));
    expect(error.message).toBe(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  });

  it.each([
    ['two parts', 'a.b'],
    ['four parts', 'a.b.c.d'],
    ['an empty signature', `${b64(HS256)}.${b64(claims())}.`],
    ['padding characters', `${b64(HS256)}=.${b64(claims())}.abc`],
    ['a space', `${b64(HS256)}.${b64(claims())} .abc`],
  ])('refuses a token with %s', async (_name, token) => {
    const error = await refusal(verifier().verify(token));
    expect([error.code, error.reason]).toEqual(['token_invalid', 'malformed']);
  });

  it('never puts the token in the error message', async () => {
    const token = forgeHmac(HS256, claims({ exp: NOW - 1, iat: NOW - 100 }), secret);
    const error = await refusal(verifier({ leewaySeconds: 0 }).verify(token));
    expect(error.message).not.toContain(token.split('.')[1]);
  });

  it('checks issuer and audience when configured, and then requires them', async () => {
    const v = verifier({ issuer: 'https://portal.example.org', audience: ['viz'] });
    await expect(
      v.verify(forgeHmac(HS256, claims({ iss: 'https://portal.example.org', aud: 'viz' }), secret)),
    ).resolves.toBeDefined();
    expect(
      (await refusal(v.verify(forgeHmac(HS256, claims({ iss: 'https://evil.example', aud: 'viz' }), secret))))
        .claim,
    ).toBe('iss');
    expect(
      (await refusal(v.verify(forgeHmac(HS256, claims({ iss: 'https://portal.example.org' }), secret))))
        .claim,
    ).toBe('aud');
    expect((await refusal(v.verify(forgeHmac(HS256, claims({ aud: 'viz' }), secret)))).claim).toBe('iss');
  });
});

describe('verified-token cache', () => {
  it('serves a repeated token from the cache, but not past its exp', async () => {
    let now = NOW_MS;
    const v = createVerifier({ key: { secret }, now: () => now, leewaySeconds: 0 });
    const token = forgeHmac(HS256, claims({ exp: NOW + 60 }), secret);
    const first = await v.verify(token);
    expect(await v.verify(token)).toBe(first); // same frozen object: the cache answered
    now = NOW_MS + 61_000;
    expect((await refusal(v.verify(token))).code).toBe('token_expired');
  });

  it('does not cache refusals, and a one-character change misses the cache', async () => {
    const v = verifier();
    const token = forgeHmac(HS256, claims(), secret);
    await v.verify(token);
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect((await refusal(v.verify(tampered))).code).toBe('token_invalid');
  });
});

describe('createVerifier with public keys', () => {
  it('verifies ES256 and refuses other algorithms with the same key', async () => {
    const { privateKey, publicKey } = ecKeys();
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const v = createVerifier({ key: { publicKey: pem }, now: clock });
    expect(v.algorithms).toEqual(['ES256']);
    await expect(v.verify(forgeAsymmetric({ alg: 'ES256' }, claims(), privateKey))).resolves.toBeDefined();
    expect((await refusal(v.verify(forgeAsymmetric({ alg: 'ES384' }, claims(), privateKey)))).code).toBe(
      'token_invalid',
    );
  });

  it('accepts only the canonical spelling of an ES256 signature', async () => {
    const { privateKey, publicKey } = ecKeys();
    const v = createVerifier({ key: { publicKey }, now: clock });
    const token = forgeAsymmetric({ alg: 'ES256' }, claims(), privateKey);
    await expect(v.verify(token)).resolves.toBeDefined();
    // 64 signature bytes leave two unused bits in the last character: flip them.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1) as string);
    const respelled = token.slice(0, -1) + (alphabet[last ^ 1] as string);
    const error = await refusal(v.verify(respelled));
    expect(error.message).toBe('token signature is not canonical base64url');
  });

  it('pins RS256 for an RSA key: PS256 and HS256 with the public key as secret are refused', async () => {
    const { privateKey, publicKey } = rsaKeys();
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const v = createVerifier({ key: { publicKey: pem }, now: clock });
    await expect(v.verify(forgeAsymmetric({ alg: 'RS256' }, claims(), privateKey))).resolves.toBeDefined();
    // RFC 8725 §2.1 key confusion: the public PEM used as an HMAC secret.
    expect((await refusal(v.verify(forgeHmac({ alg: 'HS256' }, claims(), pem)))).claim).toBe('alg');
    const pss = `${b64({ alg: 'PS256' })}.${b64(claims())}.AAAA`;
    expect((await refusal(v.verify(pss))).claim).toBe('alg');
  });

  it('reads a public key from a file and a secret from a file or the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-token-'));
    const { privateKey, publicKey } = ecKeys();
    writeFileSync(join(dir, 'pub.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dir, 'secret'), `${secret}\n`);
    const fromFile = createVerifier({ key: { publicKeyFile: join(dir, 'pub.pem') }, now: clock });
    await expect(
      fromFile.verify(forgeAsymmetric({ alg: 'ES256' }, claims(), privateKey)),
    ).resolves.toBeDefined();
    const token = forgeHmac(HS256, claims(), secret);
    await expect(
      createVerifier({ key: { secret: { file: join(dir, 'secret') } }, now: clock }).verify(token),
    ).resolves.toBeDefined();
    const env = { PP_TEST_SECRET: secret };
    await expect(
      createVerifier({ key: { secret: { env: 'PP_TEST_SECRET' } }, env, now: clock }).verify(token),
    ).resolves.toBeDefined();
  });
});

describe('createVerifier setup errors', () => {
  it.each([
    [
      'a short secret',
      { key: { secret: 'x'.repeat(12) } },
      'secret_too_short',
      '12 bytes, HS256 needs at least 32',
    ],
    [
      'a well-known secret',
      { key: { secret: 'a-string-secret-at-least-256-bits-long' } },
      'secret_weak',
      'a well-known example secret',
    ],
    [
      'a repeated character',
      { key: { secret: 'a'.repeat(40) } },
      'secret_weak',
      'too few distinct characters',
    ],
    [
      'a secret too short for HS512',
      { key: { secret: newSecret(32) }, algorithms: ['HS512'] },
      'secret_too_short',
      'HS512 needs at least 64',
    ],
    [
      'an RSA algorithm for a secret',
      { key: { secret: newSecret() }, algorithms: ['RS256'] },
      'algorithm_not_allowed',
      'does not fit a shared secret',
    ],
    ['alg none', { key: { secret: newSecret() }, algorithms: ['none'] }, 'algorithm_not_allowed', 'none'],
    [
      'an unset environment variable',
      { key: { secret: { env: 'PP_SURELY_UNSET_VARIABLE' } } },
      'key_unavailable',
      'PP_SURELY_UNSET_VARIABLE is not set',
    ],
    [
      'an inherited name as environment variable',
      { key: { secret: { env: 'constructor' } } },
      'key_unavailable',
      'constructor is not set',
    ],
    [
      'a missing file',
      { key: { secret: { file: '/nonexistent/secret' } } },
      'key_unavailable',
      '/nonexistent/secret',
    ],
    [
      'a leeway over 60 s',
      { key: { secret: newSecret() }, leewaySeconds: 61 },
      'option_invalid',
      'leewaySeconds',
    ],
    [
      'two key sources',
      { key: { secret: newSecret(), publicKey: 'x' } },
      'option_invalid',
      'exactly one key source',
    ],
    ['a PEM that is not a key', { key: { publicKey: 'not a pem' } }, 'key_invalid', 'not a valid public key'],
  ])('rejects %s at construction', (_name, options, code, text) => {
    let error: unknown;
    try {
      createVerifier(options as VerifierOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenSetupError);
    expect((error as TokenSetupError).code).toBe(code);
    expect((error as TokenSetupError).message).toContain(text);
  });

  it('rejects an RSA key under 2048 bits and an ES key with an RSA algorithm', () => {
    const small = rsaKeys(1024).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => createVerifier({ key: { publicKey: small } })).toThrow(/1024 bits/);
    const ec = ecKeys().publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => createVerifier({ key: { publicKey: ec }, algorithms: ['RS256'] })).toThrow(
      /does not fit a EC prime256v1 key/,
    );
  });

  it('turns a secret KeyObject given as a public key into a setup error', () => {
    expect(() => createVerifier({ key: { publicKey: createSecretKey(Buffer.from(secret)) } })).toThrow(
      TokenSetupError,
    );
  });
});
