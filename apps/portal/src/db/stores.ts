import type Database from 'better-sqlite3';
import { appSecret } from './database.js';
import { GrantStore } from './grants.js';
import { IdentityStore } from './identities.js';
import { type SessionLifetimes, SessionStore } from './sessions.js';
import { UserStore } from './users.js';

/**
 * Everything the portal keeps in SQLite, behind small typed stores.
 *
 * @example
 * const stores = openStores(openDatabase('portal.db'));
 * stores.users.find('ana@example.org');
 */
export interface Stores {
  db: Database.Database;
  users: UserStore;
  grants: GrantStore;
  sessions: SessionStore;
  /** Institutional identities, and what the institution granted each session. */
  identities: IdentityStore;
  /** The key that CSRF tokens are derived with, shared by every process on the database. */
  csrfKey: Buffer;
}

/**
 * Sessions last 12 hours and end after 30 minutes without a request, unless configured otherwise.
 *
 * @example
 * openStores(db, { ...DEFAULT_SESSION_LIFETIMES, idleMs: 10 * 60_000 });
 */
export const DEFAULT_SESSION_LIFETIMES: SessionLifetimes = { maxAgeMs: 12 * 3_600_000, idleMs: 30 * 60_000 };

/**
 * Builds the stores over an open, migrated database.
 *
 * @example
 * const stores = openStores(db, { maxAgeMs: 8 * 3_600_000, idleMs: 15 * 60_000 });
 */
export function openStores(
  db: Database.Database,
  lifetimes: SessionLifetimes = DEFAULT_SESSION_LIFETIMES,
): Stores {
  const users = new UserStore(db);
  return {
    db,
    users,
    grants: new GrantStore(db),
    sessions: new SessionStore(db, lifetimes),
    identities: new IdentityStore(db, users),
    csrfKey: appSecret(db, 'csrf'),
  };
}
