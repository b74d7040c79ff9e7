import type Database from 'better-sqlite3';

/**
 * A portal user.
 *
 * @example
 * const user: User = { id: 1, email: 'ana@example.org', createdAt: Date.now() };
 */
export interface User {
  id: number;
  email: string;
  createdAt: number;
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
}

const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, createdAt: row.created_at });

/**
 * Users and their password hashes. Emails are normalized on the way in.
 *
 * @example
 * const users = new UserStore(db);
 * const ana = users.create('ana@example.org', hash, Date.now());
 */
export class UserStore {
  readonly #insert: Database.Statement<[string, string | null, number]>;
  readonly #byEmail: Database.Statement<[string], UserRow>;
  readonly #setHash: Database.Statement<[string, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #all: Database.Statement<[], UserRow>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)');
    this.#byEmail = db.prepare('SELECT id, email, created_at, password_hash FROM users WHERE email = ?');
    this.#setHash = db.prepare('UPDATE users SET password_hash = ? WHERE email = ?');
    this.#delete = db.prepare('DELETE FROM users WHERE email = ?');
    this.#all = db.prepare('SELECT id, email, created_at, password_hash FROM users ORDER BY email');
  }

  /** Adds a user; throws if the email is taken or not valid. */
  create(email: string, passwordHash: string | null, now: number): User {
    const normalized = normalizeEmail(email);
    if (!isValidEmail(normalized))
      throw new RangeError(`not a valid email address: ${JSON.stringify(email)}`);
    const result = this.#insert.run(normalized, passwordHash, now);
    return { id: Number(result.lastInsertRowid), email: normalized, createdAt: now };
  }

  find(email: string): User | undefined {
    const row = this.#byEmail.get(normalizeEmail(email));
    return row === undefined ? undefined : toUser(row);
  }

  /** The user and the stored password hash (null when no password was ever set). */
  findWithHash(email: string): { user: User; passwordHash: string | null } | undefined {
    const row = this.#byEmail.get(normalizeEmail(email));
    return row === undefined ? undefined : { user: toUser(row), passwordHash: row.password_hash };
  }

  /** Returns false when there is no such user. */
  setPasswordHash(email: string, passwordHash: string): boolean {
    return this.#setHash.run(passwordHash, normalizeEmail(email)).changes > 0;
  }

  /** Removes the user with their grants and sessions. Returns false when there is no such user. */
  delete(email: string): boolean {
    return this.#delete.run(normalizeEmail(email)).changes > 0;
  }

  list(): User[] {
    return this.#all.all().map(toUser);
  }
}
