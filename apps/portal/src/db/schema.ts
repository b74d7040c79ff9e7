import type Database from 'better-sqlite3';
import type { Pool } from 'pg';

/**
 * Schema changes of the SQLite store, applied in order at open. `PRAGMA user_version` records how many have run,
 * so a database made by an older portal is brought up to date and one made by a newer portal is refused.
 */
const SQLITE_MIGRATIONS: readonly string[] = [
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
  ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;

  -- Revocations, published by the feed until every token they can match has expired (until_ms). The id is the
  -- feed's sequence number: AUTOINCREMENT never reuses one, and the newest row is never pruned.
  CREATE TABLE revocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL CHECK (type IN ('token', 'user', 'grant', 'embedder')),
    jti TEXT,
    sub TEXT,
    dataset TEXT,
    before_s INTEGER,
    exp_s INTEGER,
    at_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    until_ms INTEGER NOT NULL,
    actor TEXT
  ) STRICT;
  CREATE INDEX revocations_by_until ON revocations(until_ms);

  -- The tokens minted for each session, so that signing out withdraws exactly those.
  CREATE TABLE minted_tokens (
    jti TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exp_s INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX minted_tokens_by_session ON minted_tokens(session_hash);

  -- Failed sign-ins, shared by every portal process on the store.
  CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX login_failures_by_key ON login_failures(key, at_ms);
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
  CREATE INDEX identities_by_user ON identities(user_id);

  -- What the institution granted at sign-in (groups, visas): it lasts as long as the session, or less when the
  -- visa it rests on expires sooner (expires_at, milliseconds).
  CREATE TABLE session_grants (
    session_hash TEXT NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    client_auth_result TEXT NOT NULL
      CHECK (json_valid(client_auth_result) AND json_type(client_auth_result) = 'object'),
    expires_at INTEGER,
    PRIMARY KEY (session_hash, dataset)
  ) STRICT, WITHOUT ROWID;
  `,
  `
  -- Personal API tokens: the public id and the SHA-256 of the whole token, never the token. Its scope is a subset
  -- of the owner's grants when it was made; each exchange intersects it with the grants of that moment.
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    datasets TEXT NOT NULL CHECK (json_valid(datasets) AND json_type(datasets) = 'array'),
    route_classes TEXT NOT NULL CHECK (json_valid(route_classes) AND json_type(route_classes) = 'array'),
    pinned INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT
  ) STRICT;
  CREATE INDEX api_tokens_by_user ON api_tokens(user_id);

  -- The dataset tokens each API token was exchanged for, so that revoking it withdraws exactly those.
  CREATE TABLE api_token_minted (
    jti TEXT PRIMARY KEY,
    api_token_id TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    exp_s INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX api_token_minted_by_token ON api_token_minted(api_token_id);
  `,
];

/** The PostgreSQL store's schema, in the same versions. */
const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE grants (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    client_auth_result TEXT NOT NULL CHECK (jsonb_typeof(client_auth_result::jsonb) = 'object'),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, dataset)
  );
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  CREATE INDEX sessions_by_user ON sessions(user_id);
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
  );
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    public_jwk TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    retired_at BIGINT,
    max_ttl_seconds BIGINT NOT NULL
  );
  CREATE TABLE revocations (
    id BIGSERIAL PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('token', 'user', 'grant', 'embedder')),
    jti TEXT,
    sub TEXT,
    dataset TEXT,
    before_s BIGINT,
    exp_s BIGINT,
    at_ms BIGINT NOT NULL,
    reason TEXT NOT NULL,
    until_ms BIGINT NOT NULL,
    actor TEXT
  );
  CREATE INDEX revocations_by_until ON revocations(until_ms);
  CREATE TABLE minted_tokens (
    jti TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exp_s BIGINT NOT NULL
  );
  CREATE INDEX minted_tokens_by_session ON minted_tokens(session_hash);
  CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at_ms BIGINT NOT NULL
  );
  CREATE INDEX login_failures_by_key ON login_failures(key, at_ms);
  `,
  `
  CREATE TABLE identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
  );
  CREATE INDEX identities_by_user ON identities(user_id);
  CREATE TABLE session_grants (
    session_hash TEXT NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    client_auth_result TEXT NOT NULL CHECK (jsonb_typeof(client_auth_result::jsonb) = 'object'),
    expires_at BIGINT,
    PRIMARY KEY (session_hash, dataset)
  );
  `,
  `
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    datasets TEXT NOT NULL CHECK (jsonb_typeof(datasets::jsonb) = 'array'),
    route_classes TEXT NOT NULL CHECK (jsonb_typeof(route_classes::jsonb) = 'array'),
    pinned INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT
  );
  CREATE INDEX api_tokens_by_user ON api_tokens(user_id);
  CREATE TABLE api_token_minted (
    jti TEXT PRIMARY KEY,
    api_token_id TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    exp_s BIGINT NOT NULL
  );
  CREATE INDEX api_token_minted_by_token ON api_token_minted(api_token_id);
  `,
];

/**
 * The database was written by a newer portal, or cannot be opened.
 *
 * @example
 * try { await openStore({ kind: 'sqlite', path }) } catch (e) { if (e instanceof DatabaseError) exitWith(e.message) }
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

const tooNew = (version: number, known: number) =>
  new DatabaseError(
    `the database has schema version ${version}; this portal knows ${known}. Use a newer portal.`,
  );

/**
 * Brings a SQLite database up to date in one transaction.
 *
 * @example
 * migrateSqlite(db);
 */
export function migrateSqlite(db: Database.Database): void {
  const apply = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_MIGRATIONS.length) throw tooNew(version, SQLITE_MIGRATIONS.length);
    for (let i = version; i < SQLITE_MIGRATIONS.length; i++) db.exec(SQLITE_MIGRATIONS[i] as string);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
  });
  apply.immediate();
}

/**
 * Brings a PostgreSQL database up to date in one transaction, under an advisory lock so that replicas starting
 * together migrate once.
 *
 * @example
 * await migratePostgres(pool);
 */
export async function migratePostgres(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('pp-portal schema'))");
    await client.query('CREATE TABLE IF NOT EXISTS pp_schema_version (version INTEGER NOT NULL)');
    const row = (await client.query<{ version: number }>('SELECT version FROM pp_schema_version')).rows[0];
    const version = row?.version ?? 0;
    if (version > POSTGRES_MIGRATIONS.length) throw tooNew(version, POSTGRES_MIGRATIONS.length);
    for (let i = version; i < POSTGRES_MIGRATIONS.length; i++)
      await client.query(POSTGRES_MIGRATIONS[i] as string);
    await client.query('DELETE FROM pp_schema_version');
    await client.query('INSERT INTO pp_schema_version (version) VALUES ($1)', [POSTGRES_MIGRATIONS.length]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
