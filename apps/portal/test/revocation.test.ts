import {
  createDocumentVerifier,
  type DatasetTokenClaims,
  REVOCATION_FEED_TYP,
  type SignedDocument,
} from '@pp-embed/dataset-token';
import { parseFeed, RevocationList } from '@pp-embed/revocation';
import { describe, expect, it } from 'vitest';
import { REVOCATION_FEED_PATH } from '../src/routes/revocations.js';
import { Browser, type FrozenClock, PASSWORD, setup, type Setup, USERS } from './helpers.js';

const FEED = REVOCATION_FEED_PATH;

/** The feed as a visualization server reads it: verified with the portal's key, then parsed. */
async function readFeed(s: Setup, response: Response) {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/jwt');
  const verifier = createDocumentVerifier({
    key: { secret: s.secret },
    typ: REVOCATION_FEED_TYP,
    now: s.clock,
  });
  const read = parseFeed((await verifier.verify(await response.text())) as SignedDocument);
  if (!read.ok) throw new Error(read.problem);
  return read.feed;
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as DatasetTokenClaims;

describe('revocation at the portal', () => {
  it('signing out withdraws the tokens minted for the session: the feed lists their jti', async () => {
    const s = await setup();
    const browser = new Browser(s.app);
    await browser.signIn(USERS.ana.email);
    const { token } = (await (await browser.token()).json()) as { token: string };
    expect((await readFeed(s, await browser.get(FEED))).revocations).toEqual([]);
    const home = await (await browser.get('/')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(
      home.slice(home.indexOf('action="/logout"')),
    )?.[1] as string;
    expect((await browser.postForm('/logout', { csrf })).status).toBe(303);
    const feed = await readFeed(s, await browser.get(FEED));
    expect(feed.revocations).toEqual([
      expect.objectContaining({ type: 'token', jti: claimsOf(token).jti, reason: 'sign-out' }),
    ]);
  });

  it('answers 304 to its own ETag, and holds a request with Prefer: wait until a revocation is recorded', async () => {
    const s = await setup();
    const browser = new Browser(s.app);
    const first = await browser.get(FEED);
    const etag = first.headers.get('etag') as string;
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect((await browser.get(FEED, { 'if-none-match': etag })).status).toBe(304);

    const started = performance.now();
    const held = browser.get(FEED, { 'if-none-match': etag, prefer: 'wait=5' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.store.revocations.add(
      { type: 'user', email: USERS.ben.email },
      { now: s.clock(), reason: 'admin' },
    );
    const answer = await held;
    expect(performance.now() - started).toBeLessThan(1500);
    const feed = await readFeed(s, answer);
    expect(feed.seq).toBe(1);
    expect(answer.headers.get('etag')).not.toBe(etag);
  });

  it('lets an administrator revoke from the admin page, and nobody else', async () => {
    const s = await setup();
    const anonymous = await new Browser(s.app).get('/admin');
    expect(anonymous.status).toBe(303);
    const user = new Browser(s.app);
    await user.signIn(USERS.dan.email);
    expect((await user.get('/admin')).status).toBe(403);

    await s.store.users.setAdmin(USERS.dan.email, true);
    const page = await (await user.get('/admin')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    expect((await user.postForm('/admin/revoke', { csrf: 'forged', kind: 'all' })).status).toBe(403);
    const bad = await user.postForm('/admin/revoke', {
      csrf,
      kind: 'grant',
      email: USERS.ben.email,
      dataset: '../x',
    });
    expect(bad.status).toBe(400);
    const done = await user.postForm('/admin/revoke', {
      csrf,
      kind: 'grant',
      email: USERS.ben.email,
      dataset: 'PPDemo',
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/admin?done=1');
    const feed = await readFeed(s, await user.get(FEED));
    expect(feed.revocations).toEqual([
      expect.objectContaining({ type: 'grant', dataset: 'PPDemo', reason: 'admin' }),
    ]);
    expect(await (await user.get('/admin?done=1')).text()).toContain(USERS.dan.email);
    expect(s.logs.some((l) => l.includes('"event":"revoked"') && l.includes('"by":"dan@example.org"'))).toBe(
      true,
    );
  });

  it('never hands out a token born revoked: right after a revocation it waits for the next second', async () => {
    const realClock = Object.assign(() => Date.now(), {
      advance: () => undefined,
      set: () => undefined,
    }) as FrozenClock;
    const s = await setup({ clock: realClock });
    const browser = new Browser(s.app);
    await browser.signIn(USERS.ana.email);
    await s.store.grants.set(
      (await s.store.users.find(USERS.ana.email))!.id,
      'PPDemo',
      { role: 'viewer' },
      Date.now(),
    );
    const started = performance.now();
    const { token } = (await (await browser.token()).json()) as { token: string };
    expect(performance.now() - started).toBeLessThan(1500);
    const feed = await readFeed(s, await browser.get(FEED));
    expect(feed.revocations).toHaveLength(1);
    expect(new RevocationList(feed.revocations).match(claimsOf(token), ['PPDemo'])).toBeUndefined();
  });

  it('counts failed sign-ins across two portal replicas on one store', async () => {
    const limits = {
      perAccount: { limit: 3, windowMs: 60_000 },
      perAddress: { limit: 100, windowMs: 60_000 },
    };
    const first = await setup({ loginLimits: limits });
    const second = await setup({ loginLimits: limits, store: first.store, clock: first.clock });
    for (const app of [first.app, second.app, first.app]) {
      expect((await new Browser(app).signIn(USERS.ana.email, 'not the password at all')).status).toBe(401);
    }
    expect((await new Browser(second.app).signIn(USERS.ana.email, PASSWORD)).status).toBe(429);
  });
});
