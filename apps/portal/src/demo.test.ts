import { describe, expect, it } from 'vitest';
import { Accounts } from './auth/accounts.js';
import { testStore } from '../test/store.js';
import { seedDemo } from './demo.js';

const params = { logN: 10, r: 8, p: 1 };

describe('seedDemo', () => {
  it('creates four users: full demo access, one cohort of it, the other dataset, and none', async () => {
    const store = await testStore();
    const logins = await seedDemo(store, { passwordParams: params });
    expect(logins.map((l) => [l.email, l.access])).toEqual([
      ['ana@example.org', 'PPDemo: every cohort'],
      ['ben@example.org', 'PPDemo: cohort ALPHA only'],
      ['cleo@example.org', 'TermdbTest only'],
      ['dan@example.org', 'no grants: aggregated views only'],
    ]);
    const grants = async (email: string) => store.grants.forUser((await store.users.find(email))!.id);
    expect(await grants('ana@example.org')).toEqual([
      { dataset: 'PPDemo', clientAuthResult: { role: 'analyst' } },
    ]);
    expect(await grants('ben@example.org')).toEqual([
      { dataset: 'PPDemo', clientAuthResult: { role: 'analyst', cohorts: ['ALPHA'] } },
    ]);
    expect(await grants('cleo@example.org')).toEqual([
      { dataset: 'TermdbTest', clientAuthResult: { role: 'analyst' } },
    ]);
    expect(await grants('dan@example.org')).toEqual([]);
    const accounts = new Accounts(store.users, params);
    for (const l of logins) expect(await accounts.authenticate(l.email, l.password)).toBeDefined();
  });

  it('can run again: new passwords, the same users and grants', async () => {
    const store = await testStore();
    const first = await seedDemo(store, { passwordParams: params });
    const second = await seedDemo(store, { passwordParams: params, password: 'the e2e password' });
    expect(second.every((l) => l.password === 'the e2e password')).toBe(true);
    expect(await store.users.list()).toHaveLength(4);
    const accounts = new Accounts(store.users, params);
    expect(await accounts.authenticate('ana@example.org', first[0]!.password)).toBeUndefined();
    expect(await accounts.authenticate('ana@example.org', 'the e2e password')).toBeDefined();
  });
});
