import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

/**
 * Schema changes, applied in order at open. `PRAGMA user_version` records how many have run, so a database made
 * by an older portal is brought up to date and one made by a newer portal is refused rather than misread.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    client_auth_result TEXT NOT NULL
      CHECK (json_valid(client_auth_result) AND json_type(client_auth_result) = 'object'),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, dataset)
  ) STRICT;

  -- The SHA-256 of the session id, never the id: a copy of this file does not sign anyone in.
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  CREATE INDEX sessions_by_user ON sessions(user_id);

  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
  ) STRICT;

  -- Public halves of the ES256 keys this portal has signed with, kept so that a key stays published until the
  -- tokens it signed have expired, even if its file is removed early.
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    public_jwk TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    retired_at INTEGER,
    max_ttl_seconds INTEGER NOT NULL
  ) STRICT;
  `,
  `
  -- Users who sign in with their institution, keyed by the issuer and the subject it gives them (OpenID Connect
  -- Core §5.7: only this pair identifies a user; an email can change hands).
  CREATE TABLE identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
  ) STRICT, WITHOUT ROWID;

  -- What the institution granted at sign-in (groups, visas): it lasts as long as the session, or less when the
  -- visa it rests on expires sooner.
  CREATE TABLE session_grants (
    session_hash TEXT NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    client_auth_result TEXT NOT NULL
      CHECK (json_valid(client_auth_result) AND json_type(client_auth_result) = 'object'),
    expires_at INTEGER,
    PRIMARY KEY (session_hash, dataset)
  ) STRICT, WITHOUT ROWID;
  `,
];

/**
 * The database file was written by a newer portal, or cannot be opened.
 *
 * @example
 * try { openDatabase(path) } catch (e) { if (e instanceof DatabaseError) exitWith(e.message) }
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

/**
 * Opens (creating if needed) the portal's SQLite database, in WAL mode with foreign keys on, and applies any
 * pending migrations in one transaction.
 *
 * @example
 * const db = openDatabase('portal.db');
 * const stores = openStores(db);
 */
export function openDatabase(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (cause) {
    throw new DatabaseError(`cannot open the database ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // Several portal processes may share the file; wait for a writer rather than fail at once.
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new DatabaseError(
        `the database has schema version ${version}; this portal knows ${MIGRATIONS.length}. Use a newer portal.`,
      );
    }
    for (let i = version; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i] as string);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply.immediate();
}

/**
 * A random secret of the portal's own (e.g. the CSRF key), made on first use and kept in the database so that it
 * survives restarts and is shared by every process on the file.
 *
 * @example
 * const csrfKey = appSecret(db, 'csrf');
 */
export function appSecret(db: Database.Database, name: string, bytes = 32): Buffer {
  db.prepare('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)').run(name, randomBytes(bytes));
  const row = db.prepare('SELECT value FROM secrets WHERE name = ?').get(name) as { value: Buffer };
  return row.value;
}
