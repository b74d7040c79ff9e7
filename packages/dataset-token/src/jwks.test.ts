import type { KeyObject } from 'node:crypto';
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claims, ecKeys, forgeAsymmetric, NOW_MS } from '../test/helpers.js';
import { TokenError, TokenSetupError } from './errors.js';
import { type JwksEvent, parseJwks, readJwks, RemoteJwks, type RemoteJwksOptions } from './jwks.js';
import { publicJwk } from './keys.js';
import { createVerifier } from './verify.js';

// A real key server on 127.0.0.1 whose answer the test changes, counting the requests it gets.
let server: Server;
let url: string;
let answer: { status: number; headers: OutgoingHttpHeaders; body: unknown } = {
  status: 200,
  headers: {},
  body: { keys: [] },
};
let requests = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests = 0;
  answer = { status: 200, headers: {}, body: { keys: [] } };
});

const publish = (...keys: unknown[]) => {
  answer = { ...answer, status: 200, body: { keys } };
};

function token(kid: string, key: KeyObject, now: number, extra: Record<string, unknown> = {}): string {
  return forgeAsymmetric(
    { alg: 'ES256', kid } as { alg: string },
    claims({ iat: Math.floor(now / 1000) - 1, exp: Math.floor(now / 1000) + 300, ...extra }),
    key,
  );
}

/** A clock the test moves, and a key set on it that reports its events. */
function remote(options: RemoteJwksOptions = {}) {
  const clock = { now: NOW_MS };
  const events: JwksEvent[] = [];
  const jwks = new RemoteJwks(url, {
    now: () => clock.now,
    background: false,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { jwks, clock, events };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as TokenError,
  );

describe('a verifier with a JWKS URL', () => {
  it('fetches once, caches, and picks up a rotated key on its first token', async () => {
    const first = ecKeys();
    const second = ecKeys();
    publish(publicJwk(first.publicKey, 'ES256', 'k1'));
    let now = NOW_MS;
    const verifier = createVerifier({
      key: { jwksUrl: url, options: { background: false } },
      now: () => now,
    });
    await expect(verifier.verify(token('k1', first.privateKey, now))).resolves.toBeDefined();
    await expect(verifier.verify(token('k1', first.privateKey, now, { jti: 'b' }))).resolves.toBeDefined();
    expect(requests).toBe(1);

    // The portal rotates: k2 signs, k1 stays published. The unknown kid causes one fetch.
    publish(publicJwk(first.publicKey, 'ES256', 'k1'), publicJwk(second.publicKey, 'ES256', 'k2'));
    now += 10_000;
    await expect(verifier.verify(token('k2', second.privateKey, now))).resolves.toBeDefined();
    expect(requests).toBe(2);
  });

  it('forgets a verified token once its kid has left the JWKS (a portal revoking a key)', async () => {
    const first = ecKeys();
    const second = ecKeys();
    publish(publicJwk(first.publicKey, 'ES256', 'k1'), publicJwk(second.publicKey, 'ES256', 'k2'));
    let now = NOW_MS;
    const verifier = createVerifier({
      key: { jwksUrl: url, options: { background: false } },
      now: () => now,
    });
    const revoked = token('k1', first.privateKey, now, { exp: Math.floor(now / 1000) + 3600 });
    await expect(verifier.verify(revoked)).resolves.toBeDefined();

    publish(publicJwk(second.publicKey, 'ES256', 'k2'));
    now += 11 * 60_000; // past the refresh time: the next request refreshes in the background
    await verifier.verify(token('k2', second.privateKey, now));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const error = await refusal(verifier.verify(revoked, now));
    expect(error).toBeInstanceOf(TokenError);
    expect(error?.message).toBe('no key matches the token kid');
    expect(error?.reason).toBe('key');
  });

  it('reports token_invalid, not a crash, when the key server is unreachable', async () => {
    const verifier = createVerifier({
      key: { jwksUrl: 'http://127.0.0.1:9/jwks.json', options: { timeoutMs: 500, background: false } },
    });
    const error = await refusal(verifier.verify(token('k', ecKeys().privateKey, Date.now())));
    expect(error).toBeInstanceOf(TokenError);
    expect(error?.message).toBe('no key set could be loaded to check the token');
  });

  it('refuses a plain-http URL that is not loopback, and a URL with credentials', () => {
    expect(() => new RemoteJwks('http://keys.example.org/jwks.json')).toThrow(TokenSetupError);
    expect(() => new RemoteJwks('https://user:pw@keys.example.org/jwks.json')).toThrow(/credentials/);
  });
});

describe('RemoteJwks under rotation and attack', () => {
  it('lets a junk-kid flood delay a real rotation by the cooldown at most, at a bounded number of fetches', async () => {
    const old = ecKeys();
    const next = ecKeys();
    publish(publicJwk(old.publicKey, 'ES256', 'old'));
    const { jwks, clock } = remote({ cooldownMs: 5_000, unknownKidFetchesPerMinute: 12 });
    await jwks.refresh();
    requests = 0;

    // A minute of made-up kids, 20 a second; the portal rotates 30 s in.
    let acceptedAt: number | undefined;
    for (let ms = 0; ms < 60_000; ms += 50) {
      clock.now = NOW_MS + ms;
      if (ms === 30_000)
        publish(publicJwk(old.publicKey, 'ES256', 'old'), publicJwk(next.publicKey, 'ES256', 'new'));
      await refusal(jwks.resolve(`junk-${ms}`));
      if (ms >= 30_000 && acceptedAt === undefined) {
        const found = await refusal(jwks.resolve('new').then(() => 'found'));
        if (found === undefined) acceptedAt = ms;
      }
    }
    expect(acceptedAt).toBeDefined();
    expect((acceptedAt ?? Infinity) - 30_000).toBeLessThanOrEqual(5_000);
    expect(requests).toBeLessThanOrEqual(12);
  });

  it('refreshes after the Cache-Control max-age of the JWKS, without holding the request', async () => {
    const key = ecKeys();
    publish(publicJwk(key.publicKey, 'ES256', 'k1'));
    answer.headers = { 'cache-control': 'public, max-age=60' };
    const { jwks, clock } = remote();
    await jwks.resolve('k1');
    expect(requests).toBe(1);
    clock.now += 59_000;
    await jwks.resolve('k1');
    expect(requests).toBe(1);
    clock.now += 2_000;
    await jwks.resolve('k1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toBe(2);
  });

  it('retries soon after a failed fetch, by itself: a server started while the JWKS was down has the keys moments after it is back', async () => {
    const key = ecKeys();
    answer = { status: 503, headers: {}, body: {} };
    const { jwks, events } = remote({ background: true, retryMs: 100, maxRetryMs: 200, now: Date.now });
    await expect(jwks.refresh()).rejects.toThrow(/answered 503/);
    expect(events[0]).toMatchObject({
      type: 'fetch_failed',
      url,
      cause: 'JWKS request answered 503',
      keys: 0,
      keysAgeSeconds: null,
    });
    expect(jwks.health()).toMatchObject({ status: 'unavailable', keys: 0, ageSeconds: null });

    publish(publicJwk(key.publicKey, 'ES256', 'k1'));
    for (let i = 0; i < 100 && jwks.health().status !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    jwks.close();
    // No request asked for it: the retry timer fetched the set.
    expect(jwks.health()).toMatchObject({ status: 'ok', keys: 1, problem: null });
    await expect(jwks.resolve('k1')).resolves.toMatchObject({ kid: 'k1' });
  });

  it('keeps the keys in use through a failed refresh, reporting their age, and drops them when too old', async () => {
    const key = ecKeys();
    publish(publicJwk(key.publicKey, 'ES256', 'k1'));
    const { jwks, clock, events } = remote({ maxStaleMs: 60 * 60_000 });
    await jwks.refresh();
    answer = { status: 500, headers: {}, body: {} };
    clock.now += 11 * 60_000;
    await expect(jwks.refresh()).rejects.toThrow();
    expect(events.at(-1)).toMatchObject({ type: 'fetch_failed', keys: 1, keysAgeSeconds: 660 });
    expect(jwks.health()).toMatchObject({ status: 'stale', keys: 1, ageSeconds: 660 });
    await expect(jwks.resolve('k1')).resolves.toBeDefined();

    clock.now += 50 * 60_000;
    await expect(refusal(jwks.resolve('k1'))).resolves.toBeInstanceOf(TokenError);
    expect(jwks.health()).toMatchObject({ status: 'unavailable', keys: 0 });
  });

  it('ignores keys it cannot use (use "enc", an unknown kty, a duplicate kid), reports them, and verifies with the rest', async () => {
    const good = ecKeys();
    const twin = publicJwk(ecKeys().publicKey, 'ES256', 'twin');
    publish(
      { ...publicJwk(ecKeys().publicKey, 'ES256', 'enc-1'), use: 'enc' },
      { kty: 'OKP', crv: 'X448', x: 'AAAA', kid: 'future' },
      twin,
      twin,
      publicJwk(good.publicKey, 'ES256', 'k1'),
    );
    const { jwks, events } = remote();
    await jwks.refresh();
    await expect(jwks.resolve('k1')).resolves.toMatchObject({ kid: 'k1' });
    await expect(refusal(jwks.resolve('twin'))).resolves.toBeInstanceOf(TokenError);
    const ignored = events.filter((e) => e.type === 'key_ignored');
    expect(ignored.map((e) => e.kid)).toEqual(['enc-1', 'future', 'twin']);
    expect(ignored[0]).toMatchObject({ url, index: 0, reason: expect.stringContaining('use "enc"') });
    expect(jwks.health()).toMatchObject({ status: 'ok', keys: 1 });

    // Reported when the set changes, not on every refresh.
    await jwks.refresh();
    expect(events.filter((e) => e.type === 'key_ignored')).toHaveLength(3);
  });

  it('reads a 300 MiB answer only up to its byte cap, as it arrives, and keeps its memory', async () => {
    let written = 0;
    const huge = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const pump = () => {
        while (written < 300 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      res.write('{"keys":[');
      pump();
    });
    await new Promise<void>((resolve) => huge.listen(0, '127.0.0.1', resolve));
    const port = (huge.address() as AddressInfo).port;
    const rssBefore = process.memoryUsage().rss;
    const jwks = new RemoteJwks(`http://127.0.0.1:${port}/jwks.json`, { background: false });
    await expect(jwks.refresh()).rejects.toThrow('JWKS response is larger than 524288 bytes');
    const grewMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    huge.closeAllConnections();
    await new Promise((resolve) => huge.close(resolve));
    expect(written).toBeLessThan(32 * 1024 * 1024);
    expect(grewMiB).toBeLessThan(48);
  });

  it('refuses an answer whose Content-Length is over the cap without reading it', async () => {
    const { jwks } = remote({ maxBytes: 1024 });
    publish(...Array.from({ length: 20 }, (_, i) => publicJwk(ecKeys().publicKey, 'ES256', `k${i}`)));
    await expect(jwks.refresh()).rejects.toThrow('larger than 1024 bytes');
  });
});

describe('readJwks and parseJwks', () => {
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
  ])('parseJwks (a file the operator wrote) refuses %s', (_name, jwks, message) => {
    expect(() => parseJwks(jwks)).toThrow(message);
  });

  it('readJwks (a fetched set) keeps the usable keys and says why it ignores the others', () => {
    const { keys, ignored } = readJwks({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 's' }, jwk()] });
    expect(keys.map((k) => k.kid)).toEqual(['a']);
    expect(ignored).toEqual([
      { index: 0, kid: 's', reason: 'keys[0] is a secret key; a JWKS must be public' },
    ]);
    expect(() => readJwks({ key: [] })).toThrow('"keys" array');
  });
});
