import type Database from 'better-sqlite3';
import type { Pool, PoolClient } from 'pg';

/**
 * The one way the portal's stores speak SQL, over SQLite (embedded, one file) or PostgreSQL (shared by several
 * portal replicas). Statements are written once, with `?` placeholders, in the SQL both databases accept.
 *
 * @example
 * const rows = await sql.all<{ email: string }>('SELECT email FROM users WHERE id = ?', [1]);
 */
export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement; `changes` is the number of rows it touched. */
  run(text: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /** Runs `fn` in one transaction: every statement of it commits, or none does. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Runs `fn` once the current transaction commits (at once outside one); never after a rollback. */
  afterCommit(fn: () => void): void;
}

/**
 * The store cannot be reached (PostgreSQL restarted, the network dropped, a pool with no free connection in
 * time). The portal answers 503 `store_unavailable` and carries on; the next request tries again.
 *
 * @example
 * if (error instanceof StoreUnavailableError) return c.json({ error: { code: 'store_unavailable' } }, 503);
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/**
 * SQLite through better-sqlite3, whose calls are synchronous. A transaction spans awaits, so while one is open
 * every other statement waits for it: requests interleave between awaits, and a statement of another request must
 * not land inside it.
 *
 * @example
 * const sql = sqliteSql(new Database('portal.db'));
 */
export function sqliteSql(db: Database.Database): Sql {
  let open: Promise<void> | undefined;
  const statements = new Map<string, Database.Statement>();
  const prepare = (text: string): Database.Statement => {
    let statement = statements.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const direct = (inTransaction: boolean, pending: (() => void)[] = []): Sql => {
    // Each method waits in its own loop and runs its statement in the same turn as the loop's last check: a helper
    // awaited here would resume a turn later, when another caller may have begun a transaction in between.
    const self: Sql = {
      dialect: 'sqlite',
      async all<T>(text: string, params: readonly unknown[] = []) {
        while (!inTransaction && open !== undefined) await open;
        return prepare(text).all(...params) as T[];
      },
      async get<T>(text: string, params: readonly unknown[] = []) {
        while (!inTransaction && open !== undefined) await open;
        return prepare(text).get(...params) as T | undefined;
      },
      async run(text, params = []) {
        while (!inTransaction && open !== undefined) await open;
        const statement = prepare(text);
        if (statement.reader) {
          statement.all(...params);
          return { changes: 0 };
        }
        return { changes: statement.run(...params).changes };
      },
      afterCommit(fn) {
        if (inTransaction) pending.push(fn);
        else fn();
      },
      async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
        if (inTransaction) return fn(self);
        while (open !== undefined) await open;
        let done!: () => void;
        open = new Promise<void>((resolve) => (done = resolve));
        db.exec('BEGIN IMMEDIATE');
        const committed: (() => void)[] = [];
        try {
          const result = await fn(direct(true, committed));
          db.exec('COMMIT');
          for (const callback of committed) callback();
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        } finally {
          open = undefined;
          done();
        }
      },
    };
    return self;
  };
  return direct(false);
}

// SQLSTATE classes that mean the database is not there for us right now, rather than that the statement is wrong:
// 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown), 58 system error.
const UNAVAILABLE = /^(08|53|57|58)/;

function translate(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  if (
    (typeof code === 'string' && (UNAVAILABLE.test(code) || /^E[A-Z]+$/.test(code))) ||
    /timeout|terminat|Connection|connect/i.test(message)
  ) {
    return new StoreUnavailableError('the PostgreSQL store cannot be reached', { cause: error });
  }
  return error;
}

/** The most statement texts {@link postgresSql} keeps (numbered, and named unless `SELECT *`); the portal has about a hundred. */
const MAX_PREPARED = 500;

/** `?` placeholders as PostgreSQL's `$1, $2, …` (no statement of ours has a `?` in a literal). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * PostgreSQL through a node-postgres pool. Errors that mean the database is away become
 * {@link StoreUnavailableError}.
 *
 * @example
 * const sql = postgresSql(new Pool({ connectionString }));
 */
export function postgresSql(pool: Pool): Sql {
  // Statements by name, so that each connection parses and plans one once and then only binds it: an unnamed
  // statement is planned on every call, which costs more than the round trip on a busy server. `SELECT *` stays
  // unnamed (a column added by a newer portal's migration would change a prepared statement's result type, which
  // PostgreSQL refuses), and so does anything past a bound, in case a caller ever builds texts without end.
  // A kept text is numbered and classified once, not on every call.
  const statements = new Map<string, { name?: string; text: string }>();
  const prepared = (text: string): { name?: string; text: string } => {
    const known = statements.get(text);
    if (known !== undefined) return known;
    const full = statements.size >= MAX_PREPARED;
    const statement =
      full || /\bSELECT\s+(\w+\.)?\*/i.test(text)
        ? { text: numbered(text) }
        : { name: `pp_${statements.size}`, text: numbered(text) };
    if (!full) statements.set(text, statement);
    return statement;
  };
  const over = (client: Pool | PoolClient, inTransaction: boolean, pending: (() => void)[] = []): Sql => {
    const query = async <T>(text: string, params: readonly unknown[]) => {
      try {
        return await client.query<T & object>({ ...prepared(text), values: params as unknown[] });
      } catch (error) {
        throw translate(error);
      }
    };
    const self: Sql = {
      dialect: 'postgres',
      async all<T>(text: string, params: readonly unknown[] = []) {
        return (await query<T>(text, params)).rows as T[];
      },
      async get<T>(text: string, params: readonly unknown[] = []) {
        return (await query<T>(text, params)).rows[0] as T | undefined;
      },
      async run(text, params = []) {
        return { changes: (await query(text, params)).rowCount ?? 0 };
      },
      afterCommit(fn) {
        if (inTransaction) pending.push(fn);
        else fn();
      },
      async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
        if (inTransaction) return fn(self);
        let connection: PoolClient;
        try {
          connection = await pool.connect();
        } catch (error) {
          throw translate(error);
        }
        let broken = false;
        try {
          await connection.query('BEGIN');
          const committed: (() => void)[] = [];
          const result = await fn(over(connection, true, committed));
          await connection.query('COMMIT');
          for (const callback of committed) callback();
          return result;
        } catch (error) {
          try {
            await connection.query('ROLLBACK');
          } catch {
            broken = true;
          }
          throw translate(error);
        } finally {
          connection.release(broken);
        }
      },
    };
    return self;
  };
  return over(pool, false);
}
