import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clock, ecKeys, newSecret, NOW, rsaKeys } from '../test/helpers.js';
import { TokenSetupError } from './errors.js';
import { generateKeyPair, generateSecret } from './generate.js';
import { createSigner } from './sign.js';
import { createVerifier } from './verify.js';

function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

const subject = { datasets: ['TermdbTest'], email: 'ana@example.org' };

describe('createSigner', () => {
  it('mints an HS256 token the verifier accepts, with iat, exp 10 minutes later and a jti', async () => {
    const secret = newSecret();
    const token = createSigner({ algorithm: 'HS256', key: { secret }, now: clock }).sign({
      ...subject,
      ip: '::1',
      clientAuthResult: { role: 'analyst', cohorts: ['ABC'] },
    });
    const claims = await createVerifier({ key: { secret }, now: clock }).verify(token);
    expect(claims.iat).toBe(NOW);
    expect(claims.exp).toBe(NOW + 600);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.clientAuthResult).toEqual({ role: 'analyst', cohorts: ['ABC'] });
    expect(decodeHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('mints the access claim, and refuses to mint one the verifier would refuse', async () => {
    const secret = newSecret();
    const signer = createSigner({ algorithm: 'HS256', key: { secret }, now: clock });
    const claims = await createVerifier({ key: { secret }, now: clock }).verify(
      signer.sign({ ...subject, access: 'signedIn' }),
    );
    expect(claims.access).toBe('signedIn');
    expect(() => signer.sign({ ...subject, access: 'admin' as never })).toThrow(/access must be/);
  });

  it('mints a script token with its client, API token id and route classes, and refuses a malformed one', async () => {
    const secret = newSecret();
    const signer = createSigner({ algorithm: 'HS256', key: { secret }, now: clock });
    const token = signer.sign({
      ...subject,
      client: 'script',
      apiTokenId: 'Zk3pQ9',
      routeClasses: ['aggregated', 'sample-level'],
    });
    await expect(createVerifier({ key: { secret }, now: clock }).verify(token)).resolves.toMatchObject({
      client: 'script',
      apiTokenId: 'Zk3pQ9',
      routeClasses: ['aggregated', 'sample-level'],
    });
    expect(() => signer.sign({ ...subject, routeClasses: [] })).toThrow(TokenSetupError);
    expect(() => signer.sign({ ...subject, client: 'robot' as unknown as 'script' })).toThrow(
      /client must be "browser" or "script"/,
    );
  });

  it('gives every token its own jti', () => {
    const signer = createSigner({ algorithm: 'HS256', key: { secret: newSecret() } });
    const ids = new Set(
      Array.from(
        { length: 20 },
        () =>
          JSON.parse(Buffer.from(signer.sign(subject).split('.')[1] as string, 'base64url').toString()).jti,
      ),
    );
    expect(ids.size).toBe(20);
  });

  it('sets the kid to the key thumbprint for ES256, matching the JWKS that generateKeyPair writes', async () => {
    const { privateKeyPem, jwks, kid } = generateKeyPair('ES256');
    const token = createSigner({ algorithm: 'ES256', key: { privateKey: privateKeyPem }, now: clock }).sign(
      subject,
    );
    expect(decodeHeader(token).kid).toBe(kid);
    await expect(createVerifier({ key: { jwks }, now: clock }).verify(token)).resolves.toMatchObject(subject);
  });

  it('signs RS256 from a PEM file and sets an explicit kid when given one', async () => {
    const { privateKey, publicKey } = rsaKeys();
    const dir = mkdtempSync(join(tmpdir(), 'pp-sign-'));
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const signer = createSigner({
      algorithm: 'RS256',
      key: { privateKeyFile: join(dir, 'key.pem') },
      kid: 'portal-2026',
      now: clock,
    });
    const token = signer.sign(subject);
    expect(decodeHeader(token).kid).toBe('portal-2026');
    await expect(createVerifier({ key: { publicKey }, now: clock }).verify(token)).resolves.toBeDefined();
  });

  it('honours a shorter ttl and refuses one over the maximum', async () => {
    const secret = newSecret();
    const signer = createSigner({ algorithm: 'HS256', key: { secret }, now: clock, maxTtlSeconds: 900 });
    const claims = await createVerifier({ key: { secret }, now: clock }).verify(
      signer.sign({ ...subject, ttlSeconds: 60 }),
    );
    expect(claims.exp - claims.iat).toBe(60);
    expect(() => signer.sign({ ...subject, ttlSeconds: 901 })).toThrow(
      /ttlSeconds must be a whole number of seconds from 1 to 900/,
    );
  });

  it.each([
    ['datasets as a string', { ...subject, datasets: 'TermdbTest' }, 'datasets must be an array'],
    ['no datasets', { ...subject, datasets: [] }, 'datasets must name at least one dataset'],
    ['an invalid ip', { ...subject, ip: 'localhost' }, 'ip must be an IPv4 or IPv6 address'],
    ['an email with a line break', { ...subject, email: 'a@b\r\nx' }, 'email is not a valid user identifier'],
    [
      'a clientAuthResult array',
      { ...subject, clientAuthResult: [] },
      'clientAuthResult must be a JSON object',
    ],
  ])('refuses to sign %s', (_name, request, message) => {
    const signer = createSigner({ algorithm: 'HS256', key: { secret: newSecret() } });
    const attempt = () => signer.sign(request as never);
    expect(attempt).toThrow(TokenSetupError);
    expect(attempt).toThrow(message);
  });

  it.each([
    ['a short secret', { algorithm: 'HS256', key: { secret: 'too-short' } }, 'secret_too_short'],
    ['a tutorial secret', { algorithm: 'HS256', key: { secret: 'your-256-bit-secret' } }, 'secret_weak'],
    ['a secret with ES256', { algorithm: 'ES256', key: { secret: newSecret() } }, 'algorithm_not_allowed'],
    [
      'an EC key with RS256',
      { algorithm: 'RS256', key: { privateKey: ecKeys().privateKey } },
      'algorithm_not_allowed',
    ],
    ['a public key', { algorithm: 'ES256', key: { privateKey: ecKeys().publicKey } }, 'key_invalid'],
    ['alg none', { algorithm: 'none', key: { secret: newSecret() } }, 'algorithm_not_allowed'],
    [
      'a 1024-bit RSA key',
      { algorithm: 'RS256', key: { privateKey: rsaKeys(1024).privateKey } },
      'key_unsupported',
    ],
  ])('refuses to build a signer with %s', (_name, options, code) => {
    let error: unknown;
    try {
      createSigner(options as never);
    } catch (e) {
      error = e;
    }
    expect((error as TokenSetupError).code).toBe(code);
  });
});

describe('generateSecret', () => {
  it('makes secrets that pass the strength rules for their algorithm', () => {
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      expect(() => createSigner({ algorithm: alg, key: { secret: generateSecret(alg) } })).not.toThrow();
    }
    expect(generateSecret()).not.toBe(generateSecret());
  });
});
