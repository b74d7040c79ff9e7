import { createHash, randomBytes } from 'node:crypto';
import type { Recorder } from './revocations.js';
import type { Sql } from './sql.js';

/**
 * A signed-in session. `id` is the secret the cookie carries; the database only ever sees its hash.
 *
 * @example
 * const { id, session } = await sessions.create(user.id, now);
 */
export interface Session {
  id: string;
  userId: number;
  email: string;
  isAdmin: boolean;
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
 * What the database keeps of a session id: its SHA-256.
 *
 * @example
 * sessionHash(session.id); // 64 hex characters
 */
export const sessionHash = (id: string): string => createHash('sha256').update(id).digest('hex');

interface SessionRow {
  user_id: number;
  email: string;
  is_admin: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/**
 * Server-side sessions with an absolute lifetime and an idle timeout, and the tokens minted for each, so that
 * signing out withdraws exactly those tokens.
 *
 * @example
 * const sessions = new SessionStore(sql, revocations, { maxAgeMs: 12 * 3600_000, idleMs: 30 * 60_000 });
 * const found = await sessions.find(cookieValue, Date.now());
 */
export class SessionStore {
  readonly lifetimes: SessionLifetimes;
  readonly #sql: Sql;
  readonly #revocations: Recorder;

  constructor(sql: Sql, revocations: Recorder, lifetimes: SessionLifetimes) {
    this.lifetimes = lifetimes;
    this.#sql = sql;
    this.#revocations = revocations;
  }

  /** Starts a session with a new random id. */
  async create(userId: number, now: number): Promise<{ id: string; session: Session }> {
    const id = randomId();
    const expiresAt = now + this.lifetimes.maxAgeMs;
    await this.#sql.run(
      'INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      [sessionHash(id), userId, now, now, expiresAt],
    );
    const found = (await this.find(id, now)) as Session;
    return { id, session: found };
  }

  /** The live session with this id, or undefined; an expired or idle one is deleted on the way. */
  async find(id: string | undefined, now: number): Promise<Session | undefined> {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const idHash = sessionHash(id);
    const row = await this.#sql.get<SessionRow>(
      `SELECT s.user_id, u.email, u.is_admin, s.created_at, s.last_seen_at, s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
      [idHash],
    );
    if (row === undefined) return undefined;
    const expiresAt = Number(row.expires_at);
    const lastSeenAt = Number(row.last_seen_at);
    if (expiresAt <= now || now - lastSeenAt >= this.lifetimes.idleMs) {
      await this.#sql.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
      return undefined;
    }
    return {
      id,
      userId: Number(row.user_id),
      email: row.email,
      isAdmin: Number(row.is_admin) === 1,
      createdAt: Number(row.created_at),
      lastSeenAt,
      expiresAt,
    };
  }

  /** Records activity, which pushes the idle timeout back (never the absolute end). */
  async touch(session: Session, now: number): Promise<void> {
    if (now - session.lastSeenAt < TOUCH_EVERY_MS) return;
    await this.#sql.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [
      now,
      sessionHash(session.id),
    ]);
    session.lastSeenAt = now;
  }

  /** Remembers a token minted for the session, until it expires. */
  async recordToken(session: Session, jti: string, expSeconds: number): Promise<void> {
    await this.#sql.run('INSERT INTO minted_tokens (jti, session_hash, user_id, exp_s) VALUES (?, ?, ?, ?)', [
      jti,
      sessionHash(session.id),
      session.userId,
      expSeconds,
    ]);
  }

  /**
   * Ends a session (sign-out, or a session replaced at sign-in) and withdraws the tokens minted for it that have
   * not expired yet.
   */
  async end(id: string, now: number): Promise<void> {
    const idHash = sessionHash(id);
    await this.#sql.transaction(async (tx) => {
      const minted = await tx.all<{ jti: string; exp_s: number }>(
        'SELECT jti, exp_s FROM minted_tokens WHERE session_hash = ? AND exp_s > ?',
        [idHash, Math.floor(now / 1000)],
      );
      for (const token of minted) {
        await this.#revocations.record(
          tx,
          { type: 'token', jti: token.jti, exp: Number(token.exp_s) },
          { now, reason: 'sign-out' },
        );
      }
      await tx.run('DELETE FROM minted_tokens WHERE session_hash = ?', [idHash]);
      await tx.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
    });
  }

  /** Deletes every expired or idle session, and the records of expired tokens; returns how many sessions. */
  async purge(now: number): Promise<number> {
    await this.#sql.run('DELETE FROM minted_tokens WHERE exp_s <= ?', [Math.floor(now / 1000)]);
    const result = await this.#sql.run('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?', [
      now,
      now - this.lifetimes.idleMs,
    ]);
    return result.changes;
  }
}
