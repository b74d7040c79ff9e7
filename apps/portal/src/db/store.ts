import { randomBytes } from 'node:crypto';
import { type Logger, silentLogger } from '@pp-embed/server-runtime';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ApiTokenStore } from './api-tokens.js';
import { GrantStore } from './grants.js';
import { IdentityStore } from './identities.js';
import { LoginFailureStore } from './login-failures.js';
import { REVOCATION_CHANNEL, RevocationStore } from './revocations.js';
import { DatabaseError, migratePostgres, migrateSqlite } from './schema.js';
import { type SessionLifetimes, SessionStore } from './sessions.js';
import { postgresSql, type Sql, sqliteSql } from './sql.js';
import { UserStore } from './users.js';

export { DatabaseError };

/**
 * Where the portal keeps its state: a SQLite file (the embedded default, one portal process or several on one
 * machine) or a PostgreSQL database (several portal replicas on several machines).
 *
 * @example
 * const location: StoreLocation = { kind: 'postgres', url: 'postgres://pp@db.internal/pp_portal' };
 */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * Everything the portal keeps, behind one interface for both databases: users (with their institutional
 * identities), grants, sessions and the tokens minted for them (with what an institution granted them), failed
 * sign-ins and other rate-limited attempts, personal API tokens, signing key metadata and revocations.
 *
 * @example
 * const store = await openStore({ kind: 'sqlite', path: 'portal.db' });
 * await store.users.find('ana@example.org');
 */
export interface PortalStore {
  readonly kind: StoreLocation['kind'];
  readonly sql: Sql;
  readonly users: UserStore;
  readonly grants: GrantStore;
  readonly sessions: SessionStore;
  /** Users of an institution keyed by (issuer, subject), and what it granted each session. */
  readonly identities: IdentityStore;
  readonly revocations: RevocationStore;
  readonly loginFailures: LoginFailureStore;
  /** Personal API tokens, and the dataset tokens each was exchanged for. */
  readonly apiTokens: ApiTokenStore;
  /** The key CSRF tokens are derived with, shared by every process on the store. */
  readonly csrfKey: Buffer;
  /**
   * Calls `onChange` soon after a revocation commits in any process on this store (PostgreSQL: LISTEN/NOTIFY, with
   * a slow poll as a safety net; SQLite: a fast poll of the newest sequence number). Returns the stop function.
   */
  watchRevocations(onChange: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Sessions last 12 hours and end after 30 minutes without a request, unless configured otherwise.
 *
 * @example
 * await openStore(location, { ...DEFAULT_SESSION_LIFETIMES, idleMs: 10 * 60_000 });
 */
export const DEFAULT_SESSION_LIFETIMES: SessionLifetimes = { maxAgeMs: 12 * 3_600_000, idleMs: 30 * 60_000 };

/**
 * A random secret of the portal's own (the CSRF key, the store's epoch), made on first use and kept in the store
 * so that it survives restarts and is shared by every process on it.
 *
 * @example
 * const csrfKey = await storeSecret(sql, 'csrf');
 */
export async function storeSecret(sql: Sql, name: string, bytes = 32): Promise<Buffer> {
  await sql.run('INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [
    name,
    randomBytes(bytes),
  ]);
  const row = await sql.get<{ value: Buffer }>('SELECT value FROM secrets WHERE name = ?', [name]);
  return Buffer.from((row as { value: Buffer }).value);
}

async function build(
  kind: StoreLocation['kind'],
  sql: Sql,
  lifetimes: SessionLifetimes,
  watch: PortalStore['watchRevocations'],
  closeOnce: () => Promise<void>,
): Promise<PortalStore> {
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= closeOnce());
  const csrfKey = await storeSecret(sql, 'csrf');
  const epoch = (await storeSecret(sql, 'revocation-epoch', 12)).toString('base64url');
  const revocations = new RevocationStore(sql, async () => epoch);
  return {
    kind,
    sql,
    users: new UserStore(sql, revocations),
    grants: new GrantStore(sql, revocations),
    sessions: new SessionStore(sql, revocations, lifetimes),
    identities: new IdentityStore(sql),
    revocations,
    loginFailures: new LoginFailureStore(sql),
    apiTokens: new ApiTokenStore(sql, revocations),
    csrfKey,
    watchRevocations: watch,
    close,
  };
}

/** Calls `onChange` when the newest revocation's sequence number moves, checking every `everyMs`. */
function pollVersion(revocations: () => RevocationStore, everyMs: number, onChange: () => void): () => void {
  let last: number | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    revocations()
      .version()
      .then(({ seq }) => {
        if (last !== undefined && seq !== last) onChange();
        last = seq;
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Opens the store (creating and migrating its schema as needed). A SQLite file runs in WAL mode with foreign keys
 * on; a PostgreSQL URL gets a pool whose connection errors become `StoreUnavailableError` (503), never a crash.
 * Throws {@link DatabaseError} when the database cannot be opened or was written by a newer portal.
 *
 * @example
 * const store = await openStore({ kind: 'postgres', url: process.env.PP_PORTAL_DATABASE_URL! }, lifetimes, { logger });
 */
export async function openStore(
  location: StoreLocation,
  lifetimes: SessionLifetimes = DEFAULT_SESSION_LIFETIMES,
  options: { logger?: Logger } = {},
): Promise<PortalStore> {
  const logger = options.logger ?? silentLogger;
  if (location.kind === 'sqlite') {
    let db: Database.Database;
    try {
      db = new Database(location.path);
    } catch (cause) {
      throw new DatabaseError(`cannot open the database ${location.path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      // Several portal processes may share the file; wait for a writer rather than fail at once.
      db.pragma('busy_timeout = 5000');
      migrateSqlite(db);
    } catch (error) {
      db.close();
      throw error;
    }
    const sql = sqliteSql(db);
    return build(
      'sqlite',
      sql,
      lifetimes,
      (onChange) => pollVersion(() => new RevocationStore(sql, async () => ''), 100, onChange),
      async () => {
        db.close();
      },
    );
  }

  const pool = new pg.Pool({
    connectionString: location.url,
    max: 10,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    // BIGINT columns hold milliseconds and sequence numbers, all far below 2^53.
    types: {
      getTypeParser: (oid: number, format?: string) =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'),
    } as pg.CustomTypesConfig,
  });
  // An idle connection dropped by the server is reported here; without a listener it would end the process.
  pool.on('error', (error) => logger.warn('store_connection_lost', { message: error.message }));
  try {
    await migratePostgres(pool);
  } catch (cause) {
    await pool.end().catch(() => undefined);
    if (cause instanceof DatabaseError) throw cause;
    throw new DatabaseError(`cannot open the PostgreSQL store: ${(cause as Error).message}`, { cause });
  }
  const watchers = new Set<() => void>();
  const sql = postgresSql(pool);
  return build(
    'postgres',
    sql,
    lifetimes,
    (onChange) => {
      const stopPoll = pollVersion(() => new RevocationStore(sql, async () => ''), 1000, onChange);
      const stopListen = listen(location.url, onChange, logger);
      const stop = () => {
        stopPoll();
        stopListen();
        watchers.delete(stop);
      };
      watchers.add(stop);
      return stop;
    },
    async () => {
      for (const stop of [...watchers]) stop();
      await pool.end();
    },
  );
}

/** LISTEN on the revocation channel over a connection of its own, reconnecting when it drops. */
function listen(url: string, onChange: () => void, logger: Logger): () => void {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = () => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    client = c;
    const again = () => {
      if (stopped || client !== c) return;
      client = undefined;
      c.end().catch(() => undefined);
      retry = setTimeout(connect, 1000);
      retry.unref();
    };
    c.on('notification', () => onChange());
    c.on('error', (error) => {
      logger.warn('store_listen_lost', { message: error.message });
      again();
    });
    c.on('end', again);
    c.connect()
      .then(() => c.query(`LISTEN ${REVOCATION_CHANNEL}`))
      // Whatever was recorded while we were not listening.
      .then(() => onChange())
      .catch(again);
  };
  connect();
  return () => {
    stopped = true;
    if (retry !== undefined) clearTimeout(retry);
    client?.end().catch(() => undefined);
  };
}
