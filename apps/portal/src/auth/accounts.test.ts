import { describe, expect, it } from 'vitest';
import { testStore } from '../../test/store.js';
import { Accounts } from './accounts.js';
import { hashPassword, parseHash } from './password.js';

const params = { logN: 13, r: 8, p: 1 };

const time = async (run: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await run();
  return performance.now() - start;
};

/**
 * The median of b's time over a's, measured in alternation (a, b, a, b, …) so that load from other processes on a
 * shared machine (the suite runs on two stores at once) hits both alike.
 */
async function medianRatio(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  rounds = 9,
): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push((await time(b)) / (await time(a)));
  return ratios.sort((x, y) => x - y)[Math.floor(rounds / 2)] as number;
}

describe('Accounts', () => {
  it('spends the same work on an unknown email as on a wrong password', async () => {
    const store = await testStore();
    await store.users.create('ana@example.org', await hashPassword('the right password', params), 0);
    const accounts = new Accounts(store.users, params);
    await accounts.authenticate('warm@example.org', 'up');
    const ratio = await medianRatio(
      () => accounts.authenticate('ana@example.org', 'a wrong password'),
      () => accounts.authenticate('nobody@example.org', 'a wrong password'),
    );
    // Without the dummy hash the unknown email would answer in well under a millisecond.
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('redoes a hash made with weaker parameters at the next sign-in', async () => {
    const store = await testStore();
    await store.users.create(
      'ana@example.org',
      await hashPassword('the right password', { ...params, logN: 10 }),
      0,
    );
    const accounts = new Accounts(store.users, params);
    expect((await accounts.authenticate('ana@example.org', 'the right password'))?.email).toBe(
      'ana@example.org',
    );
    const stored = (await store.users.findWithHash('ana@example.org'))?.passwordHash as string;
    expect(parseHash(stored)?.params.logN).toBe(13);
    expect(await accounts.authenticate('ana@example.org', 'the right password')).toBeDefined();
  });

  it('never signs in a user who has no password yet', async () => {
    const store = await testStore();
    await store.users.create('new@example.org', null, 0);
    expect(await new Accounts(store.users, params).authenticate('new@example.org', '')).toBeUndefined();
  });
});
