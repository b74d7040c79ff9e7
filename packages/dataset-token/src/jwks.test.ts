import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claims, ecKeys, forgeAsymmetric, NOW_MS } from '../test/helpers.js';
import { TokenError, TokenSetupError } from './errors.js';
import { parseJwks, RemoteJwks } from './jwks.js';
import { publicJwk } from './keys.js';
import { createVerifier } from './verify.js';

// A real key server on 127.0.0.1 whose key set the test changes, counting the requests it gets.
let server: Server;
let url: string;
let served: { keys: unknown[] } = { keys: [] };
let requests = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a verifier with a JWKS URL', () => {
  it('fetches once, caches, refetches an unknown kid at most once a minute, and picks up a rotated key', async () => {
    const first = ecKeys();
    const second = ecKeys();
    served = { keys: [publicJwk(first.publicKey, 'ES256', 'k1')] };
    requests = 0;
    let now = NOW_MS;
    const verifier = createVerifier({ key: { jwksUrl: url }, now: () => now });
    const token1 = forgeAsymmetric(
      { alg: 'ES256', kid: 'k1' } as { alg: string },
      claims(),
      first.privateKey,
    );
    await expect(verifier.verify(token1)).resolves.toBeDefined();
    await expect(
      verifier.verify(
        forgeAsymmetric(
          { alg: 'ES256', kid: 'k1' } as { alg: string },
          claims({ jti: 'b' }),
          first.privateKey,
        ),
      ),
    ).resolves.toBeDefined();
    expect(requests).toBe(1);

    // The portal rotates: k2 signs, k1 stays published. The unknown kid triggers one refetch.
    served = {
      keys: [publicJwk(first.publicKey, 'ES256', 'k1'), publicJwk(second.publicKey, 'ES256', 'k2')],
    };
    now += 61_000;
    const token2 = forgeAsymmetric(
      { alg: 'ES256', kid: 'k2' } as { alg: string },
      claims({ iat: now / 1000 - 1, exp: now / 1000 + 300 }),
      second.privateKey,
    );
    await expect(verifier.verify(token2)).resolves.toBeDefined();
    expect(requests).toBe(2);

    // A flood of made-up kids within the minute costs no further request.
    for (let i = 0; i < 20; i++) {
      const forged = forgeAsymmetric(
        { alg: 'ES256', kid: `made-up-${i}` } as { alg: string },
        claims({ iat: now / 1000, exp: now / 1000 + 60 }),
        second.privateKey,
      );
      const error = await verifier.verify(forged).catch((e: unknown) => e);
      expect([(error as TokenError).code, (error as TokenError).reason]).toEqual(['token_invalid', 'key']);
    }
    expect(requests).toBe(2);
  });

  it('reports token_invalid, not a crash, when the key server is unreachable', async () => {
    const verifier = createVerifier({
      key: { jwksUrl: 'http://127.0.0.1:9/jwks.json', options: { timeoutMs: 500 } },
    });
    const token = forgeAsymmetric({ alg: 'ES256' }, claims(), ecKeys().privateKey);
    const error = await verifier.verify(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).message).toBe('no key set could be loaded to check the token');
  });

  it('refuses a plain-http URL that is not loopback, and a URL with credentials', () => {
    expect(() => new RemoteJwks('http://keys.example.org/jwks.json')).toThrow(TokenSetupError);
    expect(() => new RemoteJwks('https://user:pw@keys.example.org/jwks.json')).toThrow(/credentials/);
  });
});

describe('parseJwks', () => {
  const jwk = () => publicJwk(ecKeys().publicKey, 'ES256', 'a');

  it.each([
    ['a secret key', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, 'is a secret key'],
    [
      'a private key',
      { keys: [{ ...ecKeys().privateKey.export({ format: 'jwk' }), kid: 'p' }] },
      'holds a private key',
    ],
    ['an encryption key', { keys: [{ ...jwk(), use: 'enc' }] }, 'use "enc"'],
    ['a duplicate kid', { keys: [jwk(), jwk()] }, 'is used twice'],
    ['no keys array', { key: [] }, '"keys" array'],
    ['an alg that does not fit', { keys: [{ ...jwk(), alg: 'RS256' }] }, 'does not fit'],
  ])('refuses %s', (_name, jwks, message) => {
    expect(() => parseJwks(jwks)).toThrow(message);
  });
});
