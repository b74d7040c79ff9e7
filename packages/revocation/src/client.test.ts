import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createDocumentVerifier,
  createSigner,
  type DatasetTokenClaims,
  REVOCATION_FEED_TYP,
} from '@pp-embed/dataset-token';
import { afterEach, describe, expect, it } from 'vitest';
import { RevocationFeedClient } from './client.js';
import { FeedPublisher } from './publish.js';
import { type Revocation, subjectHash } from './revocation.js';

const secret = randomBytes(32);
const signer = createSigner({ algorithm: 'HS256', key: { secret } });
const verifier = createDocumentVerifier({ key: { secret }, typ: REVOCATION_FEED_TYP });
const claims = (): DatasetTokenClaims => ({
  datasets: ['PPDemo'],
  email: 'ana@example.org',
  iat: Math.floor(Date.now() / 1000) - 1,
  exp: Math.floor(Date.now() / 1000) + 600,
  jti: 'jti-1',
});

/** A portal's feed endpoint over a store in memory, on 127.0.0.1, as the portal serves it. */
async function feedServer(options: { body?: (jws: string) => string; now?: () => number } = {}) {
  let down = false;
  const feedSigner =
    options.now === undefined
      ? signer
      : createSigner({ algorithm: 'HS256', key: { secret }, now: options.now });
  const store = { epoch: randomBytes(12).toString('base64url'), seq: 0, revocations: [] as Revocation[] };
  const publisher = new FeedPublisher({
    version: async () => ({ epoch: store.epoch, seq: store.seq }),
    snapshot: async () => ({ ...store, revocations: [...store.revocations] }),
    signer: () => feedSigner,
  });
  const server: Server = createServer((req, res) => {
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    if (down) {
      res.writeHead(503).end();
      return;
    }
    void publisher
      .answer({
        ifNoneMatch: req.headers['if-none-match'] as string | undefined,
        prefer: req.headers.prefer as string | undefined,
        signal: controller.signal,
      })
      .then((answer) => {
        if (answer.status === 304) res.writeHead(304, { etag: answer.etag }).end();
        else
          res
            .writeHead(200, { etag: answer.etag, 'content-type': 'application/jwt' })
            .end(options.body?.(answer.body) ?? answer.body);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/pp-revocations`,
  );
  servers.push(server);
  return {
    url,
    store,
    revoke(revocation: Revocation) {
      store.revocations.push(revocation);
      store.seq++;
      publisher.notify();
    },
    setDown(value: boolean) {
      down = value;
    },
  };
}

const servers: Server[] = [];
const clients: RevocationFeedClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  for (const s of servers.splice(0)) s.closeAllConnections();
});

function client(url: URL, options: { now?: () => number; maxStaleSeconds?: number } = {}) {
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const push = (event: string, fields: Record<string, unknown> = {}) => logs.push({ event, fields });
  const c = new RevocationFeedClient({
    name: 'portal',
    url,
    verifier,
    maxStaleSeconds: options.maxStaleSeconds ?? 60,
    waitSeconds: 5,
    ...(options.now !== undefined && { now: options.now }),
    logger: { info: push, warn: push, error: push },
  });
  clients.push(c);
  return { c, logs };
}

describe('RevocationFeedClient', () => {
  it('refuses every token until the feed has been read once (fail closed at start)', () => {
    const { c } = client(new URL('http://127.0.0.1:9/'));
    expect(c.check(claims(), ['PPDemo'], Date.now()).state).toBe('unavailable');
    expect(c.health(Date.now()).state).toBe('never-synced');
  });

  it('learns of a revocation through the held request within a second', async () => {
    const feed = await feedServer();
    const { c, logs } = client(feed.url);
    c.start();
    await expect.poll(() => c.health(Date.now()).state).toBe('fresh');
    expect(c.check(claims(), ['PPDemo'], Date.now()).state).toBe('clear');
    const started = performance.now();
    feed.revoke({
      type: 'token',
      jti: 'jti-1',
      exp: claims().exp,
      at: Date.now() / 1000,
      reason: 'sign-out',
    });
    await expect
      .poll(() => c.check(claims(), ['PPDemo'], Date.now()).state, { interval: 5, timeout: 2000 })
      .toBe('revoked');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(logs.map((l) => l.event)).toContain('revocation_feed_loaded');
  });

  it('refuses a feed signed with another key, logs why, and keeps the last good list', async () => {
    // One token for the whole test: a user revocation covers tokens issued before its cutoff, and a second
    // token made a second later would not be covered.
    const token = claims();
    const feed = await feedServer();
    const { c } = client(feed.url);
    feed.revoke({
      type: 'user',
      sub: subjectHash('ana@example.org'),
      before: token.iat + 1,
      at: 0,
      reason: 'admin',
    });
    expect(await c.syncOnce()).toBe(true);
    const forger = createSigner({ algorithm: 'HS256', key: { secret: randomBytes(32) } });
    const forged = await feedServer({
      body: () =>
        forger.signDocument(
          { epoch: feed.store.epoch, seq: 9, revocations: [] },
          { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 },
        ),
    });
    const { c: other, logs } = client(forged.url);
    expect(await other.syncOnce()).toBe(false);
    expect(logs).toContainEqual({
      event: 'revocation_feed_refused',
      fields: expect.objectContaining({ reason: expect.stringMatching(/did not verify/) }),
    });
    expect(other.check(token, ['PPDemo'], Date.now()).state).toBe('unavailable');
    // The first client still has its list.
    expect(c.check(token, ['PPDemo'], Date.now()).state).toBe('revoked');
  });

  it('refuses a malformed entry and an older copy of the feed, keeping the last good list', async () => {
    let serve: 'good' | 'malformed' | 'old' = 'good';
    let old = '';
    const feed = await feedServer({
      body: (jws) =>
        serve === 'malformed'
          ? signer.signDocument(
              {
                epoch: 'k3xxxxxxxx',
                seq: 99,
                revocations: [{ type: 'user', sub: 'ana@example.org', before: 1, at: 1, reason: 'admin' }],
              },
              { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 },
            )
          : serve === 'old'
            ? old
            : jws,
    });
    const { c, logs } = client(feed.url);
    feed.revoke({ type: 'token', jti: 'x', exp: claims().exp, at: 0, reason: 'admin' });
    await c.syncOnce();
    old = signer.signDocument(
      { epoch: feed.store.epoch, seq: 1, revocations: [] },
      { typ: REVOCATION_FEED_TYP, ttlSeconds: 60 },
    );
    feed.revoke({ type: 'token', jti: 'jti-1', exp: claims().exp, at: 0, reason: 'admin' });
    expect(await c.syncOnce()).toBe(true);
    expect(c.health(Date.now()).seq).toBe(2);

    serve = 'malformed';
    feed.revoke({ type: 'embedder', before: 1, at: 0, reason: 'admin' });
    expect(await c.syncOnce()).toBe(false);
    serve = 'old';
    feed.revoke({ type: 'embedder', before: 1, at: 0, reason: 'admin' });
    expect(await c.syncOnce()).toBe(false);
    const reasons = logs.filter((l) => l.event === 'revocation_feed_refused').map((l) => l.fields.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/revocations\[0\]: sub/),
      expect.stringMatching(/went back from seq 2 to 1/),
    ]);
    expect(c.check(claims(), ['PPDemo'], Date.now()).state).toBe('revoked');
    expect(c.health(Date.now())).toMatchObject({ seq: 2, state: 'stale' });
  });

  it('keeps its last list while the feed is down, fails closed past the limit, and recovers', async () => {
    let now = Date.now();
    const feed = await feedServer({ now: () => now });
    const { c, logs } = client(feed.url, { now: () => now, maxStaleSeconds: 30 });
    expect(await c.syncOnce()).toBe(true);
    feed.setDown(true);
    now += 10_000;
    expect(await c.syncOnce()).toBe(false);
    expect(c.health(now).state).toBe('stale');
    expect(c.check(claims(), ['PPDemo'], now).state).toBe('clear');
    now += 25_000;
    expect(c.health(now).state).toBe('failed-closed');
    expect(c.check(claims(), ['PPDemo'], now)).toMatchObject({ state: 'unavailable', maxStaleSeconds: 30 });
    expect(logs.map((l) => l.event)).toContain('revocation_feed_unreachable');

    feed.setDown(false);
    expect(await c.syncOnce()).toBe(true);
    expect(c.check(claims(), ['PPDemo'], now).state).toBe('clear');
    expect(logs.map((l) => l.event)).toContain('revocation_feed_recovered');
  });
});
