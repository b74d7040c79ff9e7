import type Database from 'better-sqlite3';
import type { Grant } from './grants.js';
import { sessionKey } from './sessions.js';
import { isValidEmail, normalizeEmail, type User, type UserStore } from './users.js';

/**
 * Users who sign in with their institution, keyed by (issuer, subject), and what the institution granted each
 * session.
 *
 * @example
 * const identities = new IdentityStore(db, users);
 * const user = identities.userFor('https://login.uni.edu', '248289761001', 'ana@uni.edu', Date.now());
 */
export class IdentityStore {
  readonly #users: UserStore;
  readonly #find: Database.Statement<[string, string], { id: number; email: string; created_at: number }>;
  readonly #link: Database.Statement<[string, string, number, number]>;
  readonly #setGrant: Database.Statement<[string, string, string, number | null]>;
  readonly #grants: Database.Statement<
    [string, number],
    { dataset: string; client_auth_result: string; expires_at: number | null }
  >;
  readonly #create: (issuer: string, subject: string, email: string, now: number) => User;

  constructor(db: Database.Database, users: UserStore) {
    this.#users = users;
    this.#find = db.prepare(
      `SELECT u.id, u.email, u.created_at FROM identities i JOIN users u ON u.id = i.user_id
       WHERE i.issuer = ? AND i.subject = ?`,
    );
    this.#link = db.prepare(
      'INSERT INTO identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#setGrant = db.prepare(
      `INSERT INTO session_grants (session_hash, dataset, client_auth_result, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (session_hash, dataset) DO UPDATE SET client_auth_result = excluded.client_auth_result,
         expires_at = excluded.expires_at`,
    );
    this.#grants = db.prepare(
      `SELECT dataset, client_auth_result, expires_at FROM session_grants
       WHERE session_hash = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY dataset`,
    );
    this.#create = db.transaction((issuer: string, subject: string, email: string, now: number) => {
      const user = this.#users.create(email, null, now);
      this.#link.run(issuer, subject, user.id, now);
      return user;
    });
  }

  /**
   * The portal user of an institutional identity, made on first sign-in. It is never matched to an existing
   * account by email: an IdP that asserts an address does not prove that the portal's account of that address is
   * the same person. The user's identifier is the IdP's email when it is free, else `subject@issuer-host`. Such a
   * user has no password.
   *
   * @example
   * identities.userFor('https://login.uni.edu', 'ana', 'ana@uni.edu', Date.now()).email; // 'ana@uni.edu'
   */
  userFor(issuer: string, subject: string, email: string | undefined, now: number): User {
    const found = this.#find.get(issuer, subject);
    if (found !== undefined) return { id: found.id, email: found.email, createdAt: found.created_at };
    const wanted = email === undefined ? undefined : normalizeEmail(email);
    const free = wanted !== undefined && isValidEmail(wanted) && this.#users.find(wanted) === undefined;
    const fallback = `${subject.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 200)}@${new URL(issuer).host}`;
    return this.#create(issuer, subject, free ? wanted : fallback, now);
  }

  /** Keeps what the institution granted this session; `expiresAt` null: until the session ends. */
  grant(sessionId: string, grant: Grant, expiresAt: number | null): void {
    this.#setGrant.run(
      sessionKey(sessionId),
      grant.dataset,
      JSON.stringify(grant.clientAuthResult),
      expiresAt,
    );
  }

  /** The session's institutional grants that have not expired at `now`, with when each ends. */
  grantsFor(sessionId: string, now: number): (Grant & { expiresAt: number | null })[] {
    return this.#grants.all(sessionKey(sessionId), now).map((row) => ({
      dataset: row.dataset,
      clientAuthResult: JSON.parse(row.client_auth_result) as Record<string, unknown>,
      expiresAt: row.expires_at,
    }));
  }
}
