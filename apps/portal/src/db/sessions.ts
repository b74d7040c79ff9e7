import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * A signed-in session. `id` is the secret the cookie carries; the database only ever sees its hash.
 *
 * @example
 * const { id, session } = sessions.create(user.id, now);
 */
export interface Session {
  id: string;
  userId: number;
  email: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/**
 * How long sessions last, in milliseconds.
 *
 * @example
 * const lifetimes: SessionLifetimes = { maxAgeMs: 8 * 3_600_000, idleMs: 15 * 60_000 };
 */
export interface SessionLifetimes {
  /** From sign-in to the end, however active the user is. */
  maxAgeMs: number;
  /** Without a request, after which the session ends. */
  idleMs: number;
}

// A session's last-seen time is written at most this often, so that each request is not a write.
const TOUCH_EVERY_MS = 60_000;

/**
 * 256 random bits, base64url: the session id and the sign-in form nonce.
 *
 * @example
 * randomId(); // 'kX3v…' (43 characters)
 */
export function randomId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the database keeps of a session id: its SHA-256, never the id.
 *
 * @example
 * sessionKey(session.id); // '3b0c…' (64 hex digits)
 */
export const sessionKey = (id: string): string => createHash('sha256').update(id).digest('hex');
const hashId = sessionKey;

interface SessionRow {
  user_id: number;
  email: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/**
 * Server-side sessions with an absolute lifetime and an idle timeout.
 *
 * @example
 * const sessions = new SessionStore(db, { maxAgeMs: 12 * 3600_000, idleMs: 30 * 60_000 });
 * const found = sessions.find(cookieValue, Date.now());
 */
export class SessionStore {
  readonly lifetimes: SessionLifetimes;
  readonly #insert: Database.Statement<[string, number, number, number, number]>;
  readonly #get: Database.Statement<[string], SessionRow>;
  readonly #touch: Database.Statement<[number, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #purge: Database.Statement<[number, number]>;

  constructor(db: Database.Database, lifetimes: SessionLifetimes) {
    this.lifetimes = lifetimes;
    this.#insert = db.prepare(
      'INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#get = db.prepare(
      `SELECT s.user_id, u.email, s.created_at, s.last_seen_at, s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
    );
    this.#touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
    this.#delete = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
    this.#purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?');
  }

  /** Starts a session with a new random id. */
  create(userId: number, now: number): { id: string; session: Session } {
    const id = randomId();
    const expiresAt = now + this.lifetimes.maxAgeMs;
    this.#insert.run(hashId(id), userId, now, now, expiresAt);
    const row = this.#get.get(hashId(id)) as SessionRow;
    return { id, session: { id, userId, email: row.email, createdAt: now, lastSeenAt: now, expiresAt } };
  }

  /** The live session with this id, or undefined; an expired or idle one is deleted on the way. */
  find(id: string | undefined, now: number): Session | undefined {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const idHash = hashId(id);
    const row = this.#get.get(idHash);
    if (row === undefined) return undefined;
    if (row.expires_at <= now || now - row.last_seen_at >= this.lifetimes.idleMs) {
      this.#delete.run(idHash);
      return undefined;
    }
    return {
      id,
      userId: row.user_id,
      email: row.email,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
    };
  }

  /** Records activity, which pushes the idle timeout back (never the absolute end). */
  touch(session: Session, now: number): void {
    if (now - session.lastSeenAt < TOUCH_EVERY_MS) return;
    this.#touch.run(now, hashId(session.id));
    session.lastSeenAt = now;
  }

  delete(id: string): void {
    this.#delete.run(hashId(id));
  }

  /** Deletes every expired or idle session; returns how many. */
  purge(now: number): number {
    return this.#purge.run(now, now - this.lifetimes.idleMs).changes;
  }
}
