import type { UserStore, User } from '../db/users.js';
import {
  DEFAULT_SCRYPT,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  needsRehash,
  type ScryptParams,
  verifyPassword,
} from './password.js';

/**
 * Checks email + password. For an unknown email (or a user without a password) a hash is still computed and
 * compared against a dummy, so the time taken does not tell who has an account.
 *
 * @example
 * const accounts = new Accounts(stores.users);
 * const user = await accounts.authenticate('ana@example.org', typed);
 */
export class Accounts {
  readonly #users: UserStore;
  readonly #params: ScryptParams;
  readonly #dummy: Promise<string>;

  constructor(users: UserStore, params: ScryptParams = DEFAULT_SCRYPT) {
    this.#users = users;
    this.#params = params;
    // Made now, not at the first unknown email, whose answer would otherwise take twice as long.
    this.#dummy = hashPassword('not the password of anyone', params);
  }

  /** The user when the password matches, otherwise undefined; hashes made with weaker parameters are redone. */
  async authenticate(email: string, password: string): Promise<User | undefined> {
    const found = await this.#users.findWithHash(email);
    const stored = found?.passwordHash ?? null;
    if (found === undefined || stored === null || password.length > MAX_PASSWORD_LENGTH) {
      await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), await this.#dummy);
      return undefined;
    }
    if (!(await verifyPassword(password, stored))) return undefined;
    if (needsRehash(stored, this.#params)) {
      await this.#users.rehash(found.user.email, await hashPassword(password, this.#params));
    }
    return found.user;
  }

  /** Hashes a new password with the current parameters. */
  hash(password: string): Promise<string> {
    return hashPassword(password, this.#params);
  }
}
