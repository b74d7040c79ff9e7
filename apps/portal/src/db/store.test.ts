import { subjectHash } from '@pp-embed/revocation';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { STORE_KIND, testLocation, testStore } from '../../test/store.js';
import { DatabaseError, openStore } from './store.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0, 250);
const seconds = (ms: number) => Math.floor(ms / 1000);

describe(`the portal store (${STORE_KIND})`, () => {
  it('keeps users, grants and its secrets across a reopen', async () => {
    const { location } = await testLocation();
    const first = await testStore(undefined, location);
    const ana = await first.users.create('Ana@Example.org', null, 0);
    await first.grants.set(ana.id, 'PPDemo', { role: 'analyst' }, 0);
    const { csrfKey } = first;
    const epoch = (await first.revocations.version()).epoch;
    await first.close();
    const again = await testStore(undefined, location);
    expect((await again.users.find('ana@example.org'))?.email).toBe('ana@example.org');
    expect(await again.grants.forUser(ana.id)).toEqual([
      { dataset: 'PPDemo', clientAuthResult: { role: 'analyst' } },
    ]);
    expect(again.csrfKey.equals(csrfKey)).toBe(true);
    expect((await again.revocations.version()).epoch).toBe(epoch);
  });

  it.runIf(STORE_KIND === 'sqlite')('refuses a SQLite database from a newer portal', async () => {
    const { location } = await testLocation();
    if (location.kind !== 'sqlite') return;
    (await testStore(undefined, location)).close();
    const db = new Database(location.path);
    db.pragma('user_version = 99');
    db.close();
    await expect(openStore(location)).rejects.toThrow(DatabaseError);
  });

  // SQLite has one connection: transactions take turns on it. PostgreSQL gives each its own connection.
  it.runIf(STORE_KIND === 'sqlite')(
    'runs transactions begun in the same turn one after another, and keeps other statements out of them',
    async () => {
      const store = await testStore();
      await store.sql.run('CREATE TABLE t (n INTEGER)');
      const order: string[] = [];
      await Promise.all([
        ...Array.from({ length: 5 }, (_, i) =>
          store.sql
            .transaction(async (tx) => {
              order.push(`begin ${i}`);
              await tx.run('INSERT INTO t (n) VALUES (?)', [i]);
              await new Promise((resolve) => setTimeout(resolve, 1));
              // Rolled back: a statement that landed inside this transaction would go with it.
              if (i === 2) {
                order.push(`rolled back ${i}`);
                throw new Error('rolled back');
              }
              order.push(`end ${i}`);
            })
            .catch(() => undefined),
        ),
        store.sql.run('INSERT INTO t (n) VALUES (?)', [99]),
      ]);
      expect(order).toEqual([
        'begin 0',
        'end 0',
        'begin 1',
        'end 1',
        'begin 2',
        'rolled back 2',
        'begin 3',
        'end 3',
        'begin 4',
        'end 4',
      ]);
      const rows = await store.sql.all<{ n: number }>('SELECT n FROM t ORDER BY n');
      expect(rows.map((r) => Number(r.n))).toEqual([0, 1, 3, 4, 99]);
    },
  );

  it.runIf(STORE_KIND === 'postgres')(
    'prepares each statement once per PostgreSQL connection, but never a SELECT *',
    async () => {
      const store = await testStore();
      const names = await store.sql.transaction(async (tx) => {
        for (let i = 0; i < 3; i++) {
          await tx.get('SELECT email FROM users WHERE id = ?', [i]);
          await tx.all('SELECT * FROM revocations ORDER BY id DESC LIMIT ?', [1]);
        }
        return tx.all<{ statement: string }>(
          "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'pp\\_%'",
        );
      });
      const statements = names.map((n) => n.statement);
      expect(statements).toContain('SELECT email FROM users WHERE id = $1');
      expect(statements.filter((text) => text.includes('*'))).toEqual([]);
    },
  );

  it('removes grants and sessions with their user', async () => {
    const store = await testStore();
    const ana = await store.users.create('ana@example.org', null, 0);
    await store.grants.set(ana.id, 'PPDemo', {}, 0);
    const { id } = await store.sessions.create(ana.id, 0);
    await store.users.remove('ana@example.org', 1);
    expect(await store.grants.forUser(ana.id)).toEqual([]);
    expect(await store.sessions.find(id, 1)).toBeUndefined();
  });

  it('keeps only the hash of a session id', async () => {
    const store = await testStore();
    const ana = await store.users.create('ana@example.org', null, 0);
    const { id } = await store.sessions.create(ana.id, 0);
    const rows = await store.sql.all<{ id_hash: string }>('SELECT id_hash FROM sessions');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id_hash).not.toContain(id);
    expect((await store.sessions.find(id, 1))?.email).toBe('ana@example.org');
  });

  it('refuses a clientAuthResult that is not a JSON object, at the database too', async () => {
    const store = await testStore();
    const ana = await store.users.create('ana@example.org', null, 0);
    await expect(
      store.sql.run('INSERT INTO grants VALUES (?, ?, ?, ?)', [ana.id, 'PPDemo', '[1]', 0]),
    ).rejects.toThrow(/check constraint/i);
  });

  it('counts failed sign-ins for every process on the store, in a sliding window', async () => {
    const { location } = await testLocation();
    const a = await testStore(undefined, location);
    const b = await testStore(undefined, location);
    const limit = { limit: 2, windowMs: 1000 };
    await a.loginFailures.hit('account:ana', 0);
    await b.loginFailures.hit('account:ana', 500);
    expect(await a.loginFailures.retryAfterMs('account:ana', limit, 600)).toBe(400);
    expect(await b.loginFailures.retryAfterMs('account:other', limit, 600)).toBe(0);
    expect(await b.loginFailures.retryAfterMs('account:ana', limit, 1000)).toBe(0);
    await b.loginFailures.reset('account:ana');
    expect(await a.loginFailures.retryAfterMs('account:ana', { limit: 1, windowMs: 1000 }, 600)).toBe(0);
  });
});

describe(`revocations recorded by the store (${STORE_KIND})`, () => {
  const ana = subjectHash('ana@example.org');

  it('a password change ends the other sessions and withdraws every token issued until the next second', async () => {
    const store = await testStore();
    const user = await store.users.create('ana@example.org', null, 0);
    const kept = await store.sessions.create(user.id, T);
    const other = await store.sessions.create(user.id, T);
    const { createHash } = await import('node:crypto');
    const keepSessionHash = createHash('sha256').update(kept.id).digest('hex');
    await store.users.setPassword('ana@example.org', 'hash', T, { keepSessionHash });
    expect(await store.sessions.find(kept.id, T)).toBeDefined();
    expect(await store.sessions.find(other.id, T)).toBeUndefined();
    const { revocations, seq } = await store.revocations.snapshot(T);
    expect(seq).toBe(1);
    expect(revocations).toEqual([
      { type: 'user', sub: ana, before: seconds(T) + 1, at: T / 1000, reason: 'password-change' },
    ]);
  });

  it('a grant removed or changed withdraws the tokens for that dataset; a grant made the same is no change', async () => {
    const store = await testStore();
    const user = await store.users.create('ana@example.org', null, 0);
    await store.grants.set(user.id, 'PPDemo', { role: 'analyst' }, T);
    await store.grants.set(user.id, 'PPDemo', { role: 'analyst' }, T);
    expect((await store.revocations.version()).seq).toBe(0);
    await store.grants.set(user.id, 'PPDemo', { role: 'analyst', cohorts: ['ALPHA'] }, T);
    await store.grants.remove(user.id, 'PPDemo', T);
    const { revocations } = await store.revocations.snapshot(T);
    expect(revocations.map((r) => [r.type, r.reason, r.type === 'grant' && r.dataset])).toEqual([
      ['grant', 'grant-change', 'PPDemo'],
      ['grant', 'grant-change', 'PPDemo'],
    ]);
  });

  it('signing out withdraws exactly the unexpired tokens minted for that session', async () => {
    const store = await testStore();
    const user = await store.users.create('ana@example.org', null, 0);
    const { session } = await store.sessions.create(user.id, T);
    const elsewhere = await store.sessions.create(user.id, T);
    await store.sessions.recordToken(session, 'jti-live', seconds(T) + 600);
    await store.sessions.recordToken(session, 'jti-old', seconds(T) - 1);
    await store.sessions.recordToken(elsewhere.session, 'jti-other', seconds(T) + 600);
    await store.sessions.end(session.id, T);
    const { revocations } = await store.revocations.snapshot(T);
    expect(revocations).toEqual([
      { type: 'token', jti: 'jti-live', exp: seconds(T) + 600, at: T / 1000, reason: 'sign-out' },
    ]);
  });

  it('publishes a revocation until every token it can match has expired, and keeps the newest sequence number', async () => {
    const store = await testStore();
    await store.revocations.add(
      { type: 'embedder' },
      { now: T, reason: 'admin', actor: 'admin@example.org' },
    );
    await store.revocations.add({ type: 'user', email: 'ana@example.org' }, { now: T + 10, reason: 'admin' });
    const later = T + (3600 + 61) * 1000;
    expect((await store.revocations.snapshot(later)).revocations).toEqual([]);
    await store.revocations.prune(later);
    expect((await store.revocations.version()).seq).toBe(2);
    expect((await store.revocations.recent(10)).map((r) => r.seq)).toEqual([2]);
  });

  it('tells the token endpoint to wait when a revocation of the same second would withdraw its token', async () => {
    const store = await testStore();
    await store.revocations.add(
      { type: 'grant', email: 'ana@example.org', dataset: 'PPDemo' },
      { now: T, reason: 'admin' },
    );
    expect(await store.revocations.cutoffFor('ana@example.org', ['PPDemo'], T + 100)).toBe(seconds(T) + 1);
    expect(await store.revocations.cutoffFor('ana@example.org', ['Other'], T + 100)).toBe(0);
    expect(await store.revocations.cutoffFor('ben@example.org', ['PPDemo'], T + 100)).toBe(0);
    expect(await store.revocations.cutoffFor('ana@example.org', ['PPDemo'], T + 1000)).toBe(0);
  });

  it('tells other processes on the store of a new revocation', async () => {
    const { location } = await testLocation();
    const a = await testStore(undefined, location);
    const b = await testStore(undefined, location);
    let woken = 0;
    const stop = b.watchRevocations(() => woken++);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await a.revocations.add({ type: 'embedder' }, { now: T, reason: 'admin' });
      await expect.poll(() => woken, { timeout: 3000 }).toBeGreaterThan(0);
    } finally {
      stop();
    }
  });
});
