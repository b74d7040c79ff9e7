import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appSecret, DatabaseError, openDatabase } from './database.js';
import { openStores } from './stores.js';

describe('openDatabase', () => {
  it('creates the schema in WAL mode with foreign keys, and opens it again unchanged', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'portal-db-')), 'portal.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const stores = openStores(db);
    const ana = stores.users.create('Ana@Example.org', null, 0);
    stores.grants.set(ana.id, 'PPDemo', { role: 'analyst' }, 0);
    const key = appSecret(db, 'csrf');
    db.close();

    const again = openDatabase(file);
    expect(openStores(again).users.find('ana@example.org')?.email).toBe('ana@example.org');
    expect(appSecret(again, 'csrf').equals(key)).toBe(true);
    again.close();
  });

  it('refuses a database from a newer portal', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'portal-db-')), 'portal.db');
    const db = openDatabase(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDatabase(file)).toThrow(DatabaseError);
  });

  it('removes grants and sessions with their user', () => {
    const stores = openStores(openDatabase(':memory:'));
    const ana = stores.users.create('ana@example.org', null, 0);
    stores.grants.set(ana.id, 'PPDemo', {}, 0);
    const { id } = stores.sessions.create(ana.id, 0);
    stores.users.delete('ana@example.org');
    expect(stores.grants.forUser(ana.id)).toEqual([]);
    expect(stores.sessions.find(id, 1)).toBeUndefined();
  });

  it('keeps only the hash of a session id', () => {
    const stores = openStores(openDatabase(':memory:'));
    const ana = stores.users.create('ana@example.org', null, 0);
    const { id } = stores.sessions.create(ana.id, 0);
    const rows = stores.db.prepare('SELECT id_hash FROM sessions').all() as { id_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id_hash).not.toContain(id);
    expect(stores.sessions.find(id, 1)?.email).toBe('ana@example.org');
  });

  it('refuses a clientAuthResult that is not a JSON object, at the database too', () => {
    const stores = openStores(openDatabase(':memory:'));
    const ana = stores.users.create('ana@example.org', null, 0);
    expect(() =>
      stores.db.prepare('INSERT INTO grants VALUES (?, ?, ?, ?)').run(ana.id, 'PPDemo', '[1]', 0),
    ).toThrow(/CHECK constraint/);
  });
});
