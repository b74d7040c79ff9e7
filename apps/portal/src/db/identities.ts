import type { Grant } from './grants.js';
import { sessionHash } from './sessions.js';
import type { Sql } from './sql.js';
import { isValidEmail, normalizeEmail, type User } from './users.js';

/**
 * A grant the institution gave one session, with when it ends: the earliest expiry of the visas it rests on, in
 * milliseconds; null when it lasts as long as the session (a group).
 *
 * @example
 * const grant: SessionGrant = { dataset: 'PPDemo', clientAuthResult: {}, expiresAt: Date.now() + 40_000 };
 */
export interface SessionGrant extends Grant {
  expiresAt: number | null;
}

/**
 * Users who sign in with their institution, keyed by (issuer, subject), and what the institution granted each
 * session. Both live in the portal's store, so every replica sees them.
 *
 * @example
 * const identities = new IdentityStore(sql);
 * const user = await identities.userFor('https://login.uni.edu', '248289761001', 'ana@uni.edu', Date.now());
 */
export class IdentityStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /**
   * The portal user of an institutional identity, made on first sign-in. It is never matched to an existing
   * account by email: an IdP that asserts an address does not prove that the portal's account of that address is
   * the same person (OpenID Connect Core §5.7: only issuer and subject identify a user). The user's identifier is
   * the IdP's email when it is free, else `subject@issuer-host`. Such a user has no password.
   *
   * @example
   * (await identities.userFor('https://login.uni.edu', 'ana', 'ana@uni.edu', Date.now())).email; // 'ana@uni.edu'
   */
  async userFor(issuer: string, subject: string, email: string | undefined, now: number): Promise<User> {
    return this.#sql.transaction(async (tx) => {
      const found = await tx.get<{ id: number; email: string; created_at: number; is_admin: number }>(
        `SELECT u.id, u.email, u.created_at, u.is_admin FROM identities i JOIN users u ON u.id = i.user_id
         WHERE i.issuer = ? AND i.subject = ?`,
        [issuer, subject],
      );
      if (found !== undefined) {
        return {
          id: Number(found.id),
          email: found.email,
          createdAt: Number(found.created_at),
          isAdmin: Number(found.is_admin) === 1,
        };
      }
      const wanted = email === undefined ? undefined : normalizeEmail(email);
      const taken =
        wanted === undefined ||
        !isValidEmail(wanted) ||
        (await tx.get('SELECT id FROM users WHERE email = ?', [wanted])) !== undefined;
      const fallback = `${subject.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 200)}@${new URL(issuer).host}`;
      const identifier = taken ? normalizeEmail(fallback) : wanted;
      const row = await tx.get<{ id: number }>(
        'INSERT INTO users (email, password_hash, created_at) VALUES (?, NULL, ?) RETURNING id',
        [identifier, now],
      );
      const id = Number(row?.id);
      await tx.run('INSERT INTO identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)', [
        issuer,
        subject,
        id,
        now,
      ]);
      return { id, email: identifier, createdAt: now, isAdmin: false };
    });
  }

  /** Keeps what the institution granted this session. */
  async grant(sessionId: string, grants: readonly SessionGrant[]): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      for (const grant of grants) {
        await tx.run(
          `INSERT INTO session_grants (session_hash, dataset, client_auth_result, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (session_hash, dataset) DO UPDATE SET client_auth_result = excluded.client_auth_result,
             expires_at = excluded.expires_at`,
          [sessionHash(sessionId), grant.dataset, JSON.stringify(grant.clientAuthResult), grant.expiresAt],
        );
      }
    });
  }

  /** The session's institutional grants that have not expired at `now`, with when each ends. */
  async grantsFor(sessionId: string, now: number): Promise<SessionGrant[]> {
    const rows = await this.#sql.all<{
      dataset: string;
      client_auth_result: string;
      expires_at: number | null;
    }>(
      `SELECT dataset, client_auth_result, expires_at FROM session_grants
       WHERE session_hash = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY dataset`,
      [sessionHash(sessionId), now],
    );
    return rows.map((row) => ({
      dataset: row.dataset,
      clientAuthResult: JSON.parse(row.client_auth_result) as Record<string, unknown>,
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    }));
  }
}
