import { randomBytes } from 'node:crypto';
import { hashPassword, type ScryptParams } from './auth/password.js';
import type { PortalStore } from './db/store.js';

/**
 * The demo dataset the project generates (apps/viz-server's generator).
 *
 * @example
 * grants.set(user.id, DEMO_DATASET, { role: 'analyst' }, Date.now());
 */
export const DEMO_DATASET = 'PPDemo';

/**
 * The cohort the restricted demo user may see: the generated dataset's first study. (TermdbTest's cohorts are
 * `ABC` and `XYZ`; the generated PPDemo's are `ALPHA` and `BETA`.)
 *
 * @example
 * grants.set(user.id, DEMO_DATASET, { cohorts: [DEMO_COHORT] }, Date.now());
 */
export const DEMO_COHORT = 'ALPHA';
/**
 * ProteinPaint's own test dataset, when it is available.
 *
 * @example
 * grants.set(user.id, REAL_DATASET, { role: 'analyst' }, Date.now());
 */
export const REAL_DATASET = 'TermdbTest';

/**
 * One demo account: how to sign in and what it shows.
 *
 * @example
 * const login: DemoLogin = { email: 'ana@example.org', password: '…', access: 'PPDemo: full access' };
 */
export interface DemoLogin {
  email: string;
  password: string;
  access: string;
}

const DEMO_USERS: readonly {
  email: string;
  grants: readonly { dataset: string; clientAuthResult: Record<string, unknown> }[];
  access: string;
}[] = [
  {
    email: 'ana@example.org',
    grants: [{ dataset: DEMO_DATASET, clientAuthResult: { role: 'analyst' } }],
    access: `${DEMO_DATASET}: every cohort`,
  },
  {
    email: 'ben@example.org',
    grants: [{ dataset: DEMO_DATASET, clientAuthResult: { role: 'analyst', cohorts: [DEMO_COHORT] } }],
    access: `${DEMO_DATASET}: cohort ${DEMO_COHORT} only`,
  },
  {
    email: 'cleo@example.org',
    grants: [{ dataset: REAL_DATASET, clientAuthResult: { role: 'analyst' } }],
    access: `${REAL_DATASET} only`,
  },
  { email: 'dan@example.org', grants: [], access: 'no grants: aggregated views only' },
];

/**
 * Creates (or resets) the demo users and their grants, and returns their logins so that the demo can print
 * them: one with the whole demo dataset, one restricted to one cohort, one with the other dataset only, and one
 * without grants. Passwords are random on every call unless `password` is given (e.g. by end-to-end tests).
 *
 * @example
 * const logins = await seedDemo(await openStore({ kind: 'sqlite', path: 'portal.db' }));
 * for (const l of logins) console.log(l.email, l.password, l.access);
 */
export async function seedDemo(
  store: PortalStore,
  options: { password?: string; passwordParams?: ScryptParams; now?: number } = {},
): Promise<DemoLogin[]> {
  const now = options.now ?? Date.now();
  const logins: DemoLogin[] = [];
  for (const demo of DEMO_USERS) {
    const password = options.password ?? randomBytes(12).toString('base64url');
    const hash = await hashPassword(password, options.passwordParams);
    // A reset of a demo account: its old tokens are withdrawn like any other password or grant change.
    const user = (await store.users.find(demo.email)) ?? (await store.users.create(demo.email, null, now));
    await store.users.setPassword(user.email, hash, now);
    for (const grant of await store.grants.forUser(user.id))
      await store.grants.remove(user.id, grant.dataset, now);
    for (const grant of demo.grants)
      await store.grants.set(user.id, grant.dataset, grant.clientAuthResult, now);
    logins.push({ email: demo.email, password, access: demo.access });
  }
  return logins;
}
