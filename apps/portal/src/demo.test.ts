import { describe, expect, it } from 'vitest';
import { Accounts } from './auth/accounts.js';
import { openDatabase } from './db/database.js';
import { openStores } from './db/stores.js';
import { seedDemo } from './demo.js';

const params = { logN: 10, r: 8, p: 1 };

describe('seedDemo', () => {
  it('creates four users: full demo access, one cohort of it, the other dataset, and none', async () => {
    const db = openDatabase(':memory:');
    const logins = await seedDemo(db, { passwordParams: params });
    expect(logins.map((l) => [l.email, l.access])).toEqual([
      ['ana@example.org', 'PPDemo: every cohort'],
      ['ben@example.org', 'PPDemo: cohort ALPHA only'],
      ['cleo@example.org', 'TermdbTest only'],
      ['dan@example.org', 'no grants: aggregated views only'],
    ]);
    const stores = openStores(db);
    const grants = (email: string) => stores.grants.forUser(stores.users.find(email)!.id);
    expect(grants('ana@example.org')).toEqual([{ dataset: 'PPDemo', clientAuthResult: { role: 'analyst' } }]);
    expect(grants('ben@example.org')).toEqual([
      { dataset: 'PPDemo', clientAuthResult: { role: 'analyst', cohorts: ['ALPHA'] } },
    ]);
    expect(grants('cleo@example.org')).toEqual([
      { dataset: 'TermdbTest', clientAuthResult: { role: 'analyst' } },
    ]);
    expect(grants('dan@example.org')).toEqual([]);
    const accounts = new Accounts(stores.users, params);
    for (const l of logins) expect(await accounts.authenticate(l.email, l.password)).toBeDefined();
  });

  it('can run again: new passwords, the same users and grants', async () => {
    const db = openDatabase(':memory:');
    const first = await seedDemo(db, { passwordParams: params });
    const second = await seedDemo(db, { passwordParams: params, password: 'the e2e password' });
    expect(second.every((l) => l.password === 'the e2e password')).toBe(true);
    const stores = openStores(db);
    expect(stores.users.list()).toHaveLength(4);
    const accounts = new Accounts(stores.users, params);
    expect(await accounts.authenticate('ana@example.org', first[0]!.password)).toBeUndefined();
    expect(await accounts.authenticate('ana@example.org', 'the e2e password')).toBeDefined();
  });
});
