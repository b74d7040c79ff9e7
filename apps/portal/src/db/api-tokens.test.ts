import { createHash } from 'node:crypto';
import { generateApiToken } from '@pp-embed/api-token';
import { describe, expect, it } from 'vitest';
import { STORE_KIND, testStore } from '../../test/store.js';
import { ApiTokenRefused, ApiTokenStore, apiTokenStatus, MAX_API_TOKENS_PER_USER } from './api-tokens.js';
import type { PortalStore } from './store.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86_400_000;
const spec = {
  name: 'cluster',
  datasets: ['PPDemo'],
  routeClasses: ['aggregated', 'sample-level'] as const,
  pinned: false,
  days: 90,
};

// The client address the checks below are counted under, well under its limit.
const ADDRESS = { key: 'exchange-address:198.51.100.7', limit: { limit: 30, windowMs: 600_000 } };

/** The live token `text` is, or undefined for any refusal. */
async function liveRecord(tokens: ApiTokenStore, text: string, now: number) {
  const checked = await tokens.authenticate(text, now, ADDRESS);
  return 'record' in checked ? checked.record : undefined;
}

async function withUser(store: PortalStore, grants: string[] = ['PPDemo', 'TermdbTest']) {
  const ana = await store.users.create('ana@example.org', null, T);
  for (const dataset of grants) await store.grants.set(ana.id, dataset, { role: 'analyst' }, T);
  return ana;
}

describe(`personal API tokens in the store (${STORE_KIND})`, () => {
  it('keep the id and the SHA-256 of the token, never the token, and find it again by the token alone', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { token, record } = await store.apiTokens.create(ana, spec, T);
    expect(record).toMatchObject({
      email: 'ana@example.org',
      name: 'cluster',
      datasets: ['PPDemo'],
      routeClasses: ['aggregated', 'sample-level'],
      pinned: false,
      createdAt: T,
      lastUsedAt: null,
      expiresAt: T + 90 * DAY,
      revokedAt: null,
    });
    const rows = await store.sql.all<Record<string, unknown>>('SELECT * FROM api_tokens');
    const text = JSON.stringify(rows);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(17, 60));
    expect(rows[0]?.secret_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(await liveRecord(store.apiTokens, token, T + 1)).toMatchObject({ id: record.id });
  });

  it('do not authenticate a wrong, unknown, malformed, expired or revoked token', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { token, record } = await store.apiTokens.create(ana, { ...spec, days: 1 }, T);
    const other = generateApiToken().token;
    // The right id with another secret (and a checksum that fits it).
    const sameId = `${token.slice(0, 17)}${other.slice(17)}`;
    for (const text of [other, sameId, token.slice(0, -1), 'ppat_', '', 'x'.repeat(10_000)]) {
      expect(await liveRecord(store.apiTokens, text, T)).toBeUndefined();
    }
    expect(await liveRecord(store.apiTokens, token, T + DAY)).toBeUndefined();
    expect(await liveRecord(store.apiTokens, token, T + DAY - 1)).toBeDefined();
    await store.apiTokens.revoke(record.id, { now: T + 1, actor: 'ana@example.org' });
    expect(await liveRecord(store.apiTokens, token, T + 2)).toBeUndefined();
    expect(apiTokenStatus((await store.apiTokens.find(record.id))!, T + 2)).toBe('revoked');
  });

  it('cost the same database work whether a refused token is malformed, unknown, wrong, expired or revoked', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { token: live, record } = await store.apiTokens.create(ana, { ...spec, days: 1 }, T);
    const { token: revoked, record: gone } = await store.apiTokens.create(ana, { ...spec, name: 'gone' }, T);
    await store.apiTokens.revoke(gone.id, { now: T, actor: 'test' });
    const statements: string[] = [];
    const counting: typeof store.sql = {
      ...store.sql,
      get: (text, params) => {
        statements.push(`get ${text}`);
        return store.sql.get(text, params);
      },
      all: (text, params) => {
        statements.push(`all ${text}`);
        return store.sql.all(text, params);
      },
      run: (text, params) => {
        statements.push(`run ${text}`);
        return store.sql.run(text, params);
      },
    };
    const tokens = new ApiTokenStore(counting, store.revocations);
    const other = generateApiToken().token;
    const work = async (text: string, now: number) => {
      statements.length = 0;
      expect(await liveRecord(tokens, text, now)).toBeUndefined();
      return [...statements];
    };
    const shapes = [
      await work('ppat_malformed', T),
      await work(other, T),
      await work(`${live.slice(0, 17)}${other.slice(17)}`, T),
      await work(live, T + DAY),
      await work(revoked, T),
    ];
    expect(shapes[0]).toHaveLength(1);
    for (const shape of shapes) expect(shape).toEqual(shapes[0]);
    expect(record.id).not.toBe(gone.id);
  });

  it('are made only within the owner’s grants, with a name, a class and 1 to 365 days', async () => {
    const store = await testStore();
    const ana = await withUser(store, ['PPDemo']);
    const refusals: [Partial<typeof spec> | { routeClasses: string[] }, RegExp][] = [
      [{ datasets: ['PPDemo', 'TermdbTest'] }, /no grant for TermdbTest/],
      [{ datasets: [] }, /at least one/],
      [{ name: ' ' }, /name/],
      [{ name: 'a\nb' }, /name/],
      [{ name: 'x'.repeat(101) }, /name/],
      [{ routeClasses: [] }, /aggregated/],
      [{ routeClasses: ['admin'] }, /aggregated/],
      [{ days: 366 }, /1 to 365 days/],
      [{ days: 0 }, /1 to 365 days/],
      [{ days: 1.5 }, /1 to 365 days/],
    ];
    for (const [change, message] of refusals) {
      await expect(
        store.apiTokens.create(ana, { ...spec, ...change } as typeof spec, T),
        JSON.stringify(change),
      ).rejects.toThrow(message);
    }
    expect(await store.apiTokens.forUser(ana.id)).toEqual([]);
  });

  it(`hold at most ${MAX_API_TOKENS_PER_USER} live tokens per user, with distinct names; expired and revoked ones free a place`, async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const made = [];
    for (let i = 0; i < MAX_API_TOKENS_PER_USER; i++) {
      made.push(await store.apiTokens.create(ana, { ...spec, name: `t${i}`, days: i === 0 ? 1 : 90 }, T));
    }
    await expect(store.apiTokens.create(ana, { ...spec, name: 'one more' }, T)).rejects.toThrow(
      ApiTokenRefused,
    );
    await expect(store.apiTokens.create(ana, { ...spec, name: 't1' }, T + DAY)).rejects.toThrow(/name/);
    // t0 has expired by then.
    await expect(store.apiTokens.create(ana, { ...spec, name: 'later' }, T + DAY)).resolves.toBeDefined();
    await store.apiTokens.revoke(made[1]!.record.id, { now: T + DAY, actor: 'ana@example.org' });
    await expect(store.apiTokens.create(ana, { ...spec, name: 't1' }, T + DAY)).resolves.toBeDefined();
  });

  it('never exceed the bound when made at the same time', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const results = await Promise.allSettled(
      Array.from({ length: MAX_API_TOKENS_PER_USER + 5 }, (_, i) =>
        store.apiTokens.create(ana, { ...spec, name: `n${i}` }, T),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(MAX_API_TOKENS_PER_USER);
    expect(
      results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof ApiTokenRefused] : [])),
    ).toEqual([true, true, true, true, true]);
  });

  it('revoked, withdraw every dataset token they were exchanged for that has not expired, in the feed', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { record } = await store.apiTokens.create(ana, spec, T);
    const exp = Math.floor(T / 1000) + 600;
    expect(await store.apiTokens.recordExchange(record, { jti: 'live-1', exp }, T)).toBe(true);
    expect(await store.apiTokens.recordExchange(record, { jti: 'live-2', exp }, T)).toBe(true);
    expect(
      await store.apiTokens.recordExchange(record, { jti: 'old', exp: Math.floor(T / 1000) - 1 }, T),
    ).toBe(true);
    expect(await store.apiTokens.revoke(record.id, { now: T + 1000, actor: 'admin@example.org' })).toBe(true);
    const feed = await store.revocations.snapshot(T + 1000);
    expect(feed.revocations).toEqual([
      { type: 'token', jti: 'live-1', exp, at: (T + 1000) / 1000, reason: 'api-token-revoked' },
      { type: 'token', jti: 'live-2', exp, at: (T + 1000) / 1000, reason: 'api-token-revoked' },
    ]);
    expect((await store.revocations.recent(5))[0]?.actor).toBe('admin@example.org');
    // Revoked once; a second revocation and an exchange after it record nothing.
    expect(await store.apiTokens.revoke(record.id, { now: T + 2000, actor: 'x' })).toBe(false);
    expect(await store.apiTokens.recordExchange(record, { jti: 'late', exp }, T + 3000)).toBe(false);
    expect(await store.sql.all('SELECT jti FROM api_token_minted')).toEqual([]);
  });

  it('record an exchange that meets a revocation under way only after it, that is not at all', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { record } = await store.apiTokens.create(ana, spec, T);
    const exp = Math.floor(T / 1000) + 600;
    let recording: Promise<boolean> | undefined;
    // What revoke does, step by step: the row marked revoked, then the dataset tokens to withdraw read, while an
    // exchange of the same token tries to record its dataset token.
    const withdrawn = await store.sql.transaction(async (tx) => {
      await tx.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', [T + 1, record.id]);
      recording = store.apiTokens.recordExchange(record, { jti: 'racing', exp }, T + 1, { key: 'k' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      return tx.all('SELECT jti FROM api_token_minted WHERE api_token_id = ?', [record.id]);
    });
    expect(withdrawn).toEqual([]);
    expect(await recording).toBe(false);
    expect(await store.sql.all('SELECT jti FROM api_token_minted')).toEqual([]);
    expect(await store.loginFailures.retryAfterMs('k', { limit: 1, windowMs: 60_000 }, T + 1)).toBe(0);
  });

  it('record an exchange, the token’s use and its count in the rate limit together', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { record } = await store.apiTokens.create(ana, spec, T);
    const exp = Math.floor(T / 1000) + 600;
    expect(await store.apiTokens.recordExchange(record, { jti: 'one', exp }, T, { key: 'k' })).toBe(true);
    expect(await store.sql.all('SELECT jti FROM api_token_minted')).toEqual([{ jti: 'one' }]);
    expect((await store.apiTokens.find(record.id))?.lastUsedAt).toBe(T);
    expect(await store.loginFailures.retryAfterMs('k', { limit: 1, windowMs: 60_000 }, T + 1)).toBe(59_999);
  });

  it('revoked from the owner’s page, only by their owner', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const ben = await store.users.create('ben@example.org', null, T);
    const { record } = await store.apiTokens.create(ana, spec, T);
    expect(await store.apiTokens.revoke(record.id, { now: T, actor: 'ben', ownerId: ben.id })).toBe(false);
    expect(await store.apiTokens.revoke(record.id, { now: T, actor: 'ana', ownerId: ana.id })).toBe(true);
    expect((await store.apiTokens.find(record.id))?.revokedBy).toBe('ana');
  });

  it('note their last use at most once a minute, and go with their user', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const { record } = await store.apiTokens.create(ana, spec, T);
    await store.apiTokens.recordExchange(record, { jti: 'a', exp: T / 1000 + 600 }, T + 1000);
    const used = (await store.apiTokens.find(record.id))!;
    expect(used.lastUsedAt).toBe(T + 1000);
    await store.apiTokens.recordExchange(used, { jti: 'b', exp: T / 1000 + 600 }, T + 30_000);
    expect((await store.apiTokens.find(record.id))?.lastUsedAt).toBe(T + 1000);
    await store.users.remove('ana@example.org', T + 40_000);
    expect(await store.apiTokens.find(record.id)).toBeUndefined();
    expect(await store.sql.all('SELECT jti FROM api_token_minted')).toEqual([]);
  });

  it('are listed for their owner and for the administrator, and purged long after they end', async () => {
    const store = await testStore();
    const ana = await withUser(store);
    const ben = await store.users.create('ben@example.org', null, T);
    await store.grants.set(ben.id, 'PPDemo', {}, T);
    const a = await store.apiTokens.create(ana, { ...spec, days: 1 }, T);
    const b = await store.apiTokens.create(ben, spec, T + 1);
    expect((await store.apiTokens.forUser(ana.id)).map((r) => r.id)).toEqual([a.record.id]);
    expect((await store.apiTokens.list({ limit: 10 })).map((r) => r.id)).toEqual([b.record.id, a.record.id]);
    expect((await store.apiTokens.list({ email: 'ben@example.org', limit: 10 })).map((r) => r.id)).toEqual([
      b.record.id,
    ]);
    expect(await store.apiTokens.purge(T + 30 * DAY)).toBe(0);
    expect(await store.apiTokens.purge(T + 92 * DAY)).toBe(1);
    expect((await store.apiTokens.list({ limit: 10 })).map((r) => r.id)).toEqual([b.record.id]);
  });
});
