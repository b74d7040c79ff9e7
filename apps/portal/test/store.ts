import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import type { SessionLifetimes } from '../src/db/sessions.js';
import { openStore, type PortalStore, type StoreLocation } from '../src/db/store.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the PostgreSQL project's global setup: the throwaway cluster the suite runs against. */
    postgresUrl: string | undefined;
  }
}

/** Which store this run of the portal suite uses: the same tests run once on SQLite and once on PostgreSQL. */
export const STORE_KIND: 'sqlite' | 'postgres' = inject('postgresUrl') === undefined ? 'sqlite' : 'postgres';

// Closed when the file's tests are done (a store may be shared by a file's tests through beforeAll).
const opened: PortalStore[] = [];
afterAll(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

/**
 * A fresh, empty store of this run's kind: an in-memory SQLite database, or a schema of its own in the
 * throwaway PostgreSQL cluster. Closed after the file's tests.
 */
export async function testStore(
  lifetimes?: SessionLifetimes,
  location?: StoreLocation,
): Promise<PortalStore> {
  const url = postgresUrlForTest();
  const store = await openStore(
    location ??
      (url === undefined ? { kind: 'sqlite', path: ':memory:' } : { kind: 'postgres', url: await url }),
    lifetimes,
  );
  opened.push(store);
  return store;
}

/**
 * A fresh store that outlives one connection (a SQLite file, or a PostgreSQL schema), and the CLI arguments that
 * name it, for tests of processes that open the store themselves.
 */
export async function testLocation(): Promise<{ location: StoreLocation; args: string[] }> {
  const url = postgresUrlForTest();
  if (url !== undefined) {
    const location: StoreLocation = { kind: 'postgres', url: await url };
    return { location, args: ['--database-url', location.url] };
  }
  const path = join(mkdtempSync(join(tmpdir(), 'portal-store-')), 'portal.db');
  return { location: { kind: 'sqlite', path }, args: ['--db', path] };
}

/** A new schema in the cluster, and a URL whose connections use it; undefined on the SQLite run. */
function postgresUrlForTest(): Promise<string> | undefined {
  const base = inject('postgresUrl');
  if (base === undefined) return undefined;
  return (async () => {
    const schema = `t_${randomBytes(8).toString('hex')}`;
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
    } finally {
      await client.end();
    }
    return `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  })();
}
