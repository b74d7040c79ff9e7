import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSigner } from '@pp-embed/dataset-token';
import { cutoffAfter, FeedPublisher, type Revocation, subjectHash } from '@pp-embed/revocation';
import type { Health } from '@pp-embed/viz-api';
import { afterAll, describe, expect, it } from 'vitest';
import { body, errorCode, harness, PORTAL_HOST } from '../test/harness.js';

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.closeAllConnections();
});

/** The portal's feed endpoint over revocations held in memory, signed with the shared secret, on 127.0.0.1. */
async function feed(secret: () => string) {
  const store = { epoch: randomBytes(12).toString('base64url'), seq: 0, revocations: [] as Revocation[] };
  let down = false;
  const publisher = new FeedPublisher({
    version: async () => store,
    snapshot: async () => ({ ...store, revocations: [...store.revocations] }),
    signer: () => createSigner({ algorithm: 'HS256', key: { secret: secret() } }),
  });
  const server = createServer((req, res) => {
    if (down) return void res.writeHead(503).end();
    void publisher
      .answer({ ifNoneMatch: req.headers['if-none-match'] as string | undefined })
      .then((a) =>
        a.status === 304 ? res.writeHead(304).end() : res.writeHead(200, { etag: a.etag }).end(a.body),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/pp-revocations`,
    revoke(revocation: Revocation) {
      store.revocations.push(revocation);
      store.seq++;
      publisher.notify();
    },
    setDown: (value: boolean) => void (down = value),
  };
}

describe('revocation on the visualization server', () => {
  it('refuses a revoked token with token_revoked (401, invalid_token), and says so in its health check', async () => {
    let secret = '';
    const portal = await feed(() => secret);
    const h = harness({
      revocationFeeds: {
        portal: {
          url: portal.url,
          secret: { file: 'secret' },
          embedders: [PORTAL_HOST],
          maxStaleSeconds: 30,
        },
      },
    });
    secret = readFileSync(join(h.dir, 'secret'), 'utf8');
    const feeds = h.config.revocations;
    expect(feeds).toBeDefined();
    const path = '/termdb/samples?dslabel=PPDemo&term=sex';
    const token = h.token();
    // Not read yet: fail closed.
    expect(await errorCode(await h.get(path, { token }))).toBe('revocation_unavailable');
    expect(await feeds?.syncOnce()).toEqual([]);
    expect((await h.get(path, { token })).status).toBe(200);

    portal.revoke({
      type: 'user',
      sub: subjectHash('ana@example.org'),
      before: cutoffAfter(Date.now()),
      at: Date.now() / 1000,
      reason: 'password-change',
    });
    await feeds?.syncOnce();
    const refused = await h.get(path, { token });
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe('token_revoked');
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(h.logs.some((l) => l.includes('"code":"token_revoked"') && l.includes('revoked by feed'))).toBe(
      true,
    );
    // Aggregated routes stay open; the revoked token counts as none there.
    const chart = await h.get('/termdb/barchart?dslabel=PPDemo&term=sex', { token });
    expect(chart.status).toBe(200);

    const health = (await body(await h.app.request('/healthcheck'))) as unknown as Health;
    expect(health.status).toBe('ok');
    expect(health.checks.revocationFeeds).toEqual([
      expect.objectContaining({ feed: 'portal', state: 'fresh', seq: 1, entries: 1, maxStaleSeconds: 30 }),
    ]);
  });

  it('keeps serving on its last list while the feed is down, then fails closed with a 503 and Retry-After', async () => {
    let now = Date.now();
    let secret = '';
    const portal = await feed(() => secret);
    const h = harness(
      {
        revocationFeeds: {
          portal: {
            url: portal.url,
            secret: { file: 'secret' },
            embedders: [PORTAL_HOST],
            maxStaleSeconds: 10,
          },
        },
      },
      { load: { now: () => now }, now: () => now },
    );
    secret = readFileSync(join(h.dir, 'secret'), 'utf8');
    const path = '/termdb/samples?dslabel=PPDemo&term=sex';
    const token = h.token();
    await h.config.revocations?.syncOnce();
    portal.setDown(true);
    now += 5_000;
    await h.config.revocations?.syncOnce();
    expect((await h.get(path, { token })).status).toBe(200);
    now += 10_000;
    const refused = await h.get(path, { token });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await errorCode(refused)).toBe('revocation_unavailable');
    const health = (await body(await h.app.request('/healthcheck'))) as unknown as Health;
    expect(health.status).toBe('degraded');
    expect(health.checks.revocationFeeds[0]).toMatchObject({
      state: 'failed-closed',
      lastError: 'the feed answered HTTP 503',
    });
  });

  it('stops the server at start when a feed names an embedder without a jwt entry, or an http URL off loopback', () => {
    expect(() =>
      harness({
        revocationFeeds: {
          portal: {
            url: 'http://portal.example.org/feed',
            secret: { file: 'secret' },
            embedders: ['other.example.org'],
          },
        },
      }),
    ).toThrow(
      /revocationFeeds\.portal\.url: the feed URL must use https[\s\S]*revocationFeeds\.portal\.embedders\[0\]: "other\.example\.org" is not the embedder key/,
    );
  });
});
