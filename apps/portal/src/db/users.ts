import type { Recorder } from './revocations.js';
import type { Sql } from './sql.js';

/**
 * A portal user.
 *
 * @example
 * const user: User = { id: 1, email: 'ana@example.org', createdAt: Date.now(), isAdmin: false };
 */
export interface User {
  id: number;
  email: string;
  createdAt: number;
  /** May revoke tokens on the admin page. */
  isAdmin: boolean;
}

/**
 * The longest user identifier accepted, as in the token's `email` claim.
 *
 * @example
 * const typed = form.email.slice(0, MAX_EMAIL_LENGTH);
 */
export const MAX_EMAIL_LENGTH = 320;

/**
 * The form an email is stored and compared in: trimmed and lower-cased, so `Ana@Example.org ` signs in as
 * `ana@example.org`.
 *
 * @example
 * normalizeEmail(' Ana@Example.org'); // 'ana@example.org'
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Whether a string can be a user identifier: an address with one `@`, no spaces or control characters.
 *
 * @example
 * isValidEmail('ana@example.org'); // true
 * isValidEmail('ana@\nexample.org'); // false
 */
export function isValidEmail(email: string): boolean {
  return email.length <= MAX_EMAIL_LENGTH && /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(email);
}

interface UserRow {
  id: number;
  email: string;
  created_at: number;
  password_hash: string | null;
  is_admin: number;
}

const COLUMNS = 'id, email, created_at, password_hash, is_admin';
const toUser = (row: UserRow): User => ({
  id: Number(row.id),
  email: row.email,
  createdAt: Number(row.created_at),
  isAdmin: Number(row.is_admin) === 1,
});

/**
 * Users and their password hashes. Emails are normalized on the way in. Changing a password and removing an
 * account withdraw the user's tokens in the same transaction.
 *
 * @example
 * const users = new UserStore(sql, revocations);
 * const ana = await users.create('ana@example.org', hash, Date.now());
 */
export class UserStore {
  readonly #sql: Sql;
  readonly #revocations: Recorder;

  constructor(sql: Sql, revocations: Recorder) {
    this.#sql = sql;
    this.#revocations = revocations;
  }

  /** Adds a user; throws if the email is taken or not valid. */
  async create(email: string, passwordHash: string | null, now: number): Promise<User> {
    const normalized = normalizeEmail(email);
    if (!isValidEmail(normalized))
      throw new RangeError(`not a valid email address: ${JSON.stringify(email)}`);
    const row = await this.#sql.get<{ id: number }>(
      'INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) RETURNING id',
      [normalized, passwordHash, now],
    );
    return { id: Number(row?.id), email: normalized, createdAt: now, isAdmin: false };
  }

  async find(email: string): Promise<User | undefined> {
    return (await this.findWithHash(email))?.user;
  }

  /** The user and the stored password hash (null when no password was ever set). */
  async findWithHash(email: string): Promise<{ user: User; passwordHash: string | null } | undefined> {
    const row = await this.#sql.get<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = ?`, [
      normalizeEmail(email),
    ]);
    return row === undefined ? undefined : { user: toUser(row), passwordHash: row.password_hash };
  }

  /** The same password hashed with stronger parameters: no revocation, nothing else changes. */
  async rehash(email: string, passwordHash: string): Promise<void> {
    await this.#sql.run('UPDATE users SET password_hash = ? WHERE email = ?', [
      passwordHash,
      normalizeEmail(email),
    ]);
  }

  /**
   * Sets a new password: every session of the user ends (but `keepSession`, the one that changed it, if any) and
   * every token issued to the user until now is withdrawn. Returns false when there is no such user.
   */
  async setPassword(
    email: string,
    passwordHash: string,
    now: number,
    options: { keepSessionHash?: string; actor?: string } = {},
  ): Promise<boolean> {
    const normalized = normalizeEmail(email);
    return this.#sql.transaction(async (tx) => {
      const row = await tx.get<{ id: number }>('SELECT id FROM users WHERE email = ?', [normalized]);
      if (row === undefined) return false;
      await tx.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, row.id]);
      await tx.run('DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?', [
        row.id,
        options.keepSessionHash ?? '',
      ]);
      await this.#revocations.record(
        tx,
        { type: 'user', email: normalized },
        { now, reason: 'password-change', actor: options.actor },
      );
      return true;
    });
  }

  /** Grants or takes away the right to revoke tokens on the admin page. */
  async setAdmin(email: string, isAdmin: boolean): Promise<boolean> {
    const result = await this.#sql.run('UPDATE users SET is_admin = ? WHERE email = ?', [
      isAdmin ? 1 : 0,
      normalizeEmail(email),
    ]);
    return result.changes > 0;
  }

  /**
   * Removes the user with their grants and sessions, and withdraws every token issued to them. Returns false when
   * there is no such user.
   */
  async remove(email: string, now: number, actor?: string): Promise<boolean> {
    const normalized = normalizeEmail(email);
    return this.#sql.transaction(async (tx) => {
      const removed = await tx.run('DELETE FROM users WHERE email = ?', [normalized]);
      if (removed.changes === 0) return false;
      await this.#revocations.record(
        tx,
        { type: 'user', email: normalized },
        { now, reason: 'account-removed', actor },
      );
      return true;
    });
  }

  async list(): Promise<User[]> {
    return (await this.#sql.all<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY email`)).map(toUser);
  }
}
