import { describe, expect, it } from 'vitest';
import { testStore } from '../../test/store.js';
import { Accounts } from './accounts.js';
import { hashPassword, parseHash } from './password.js';

const params = { logN: 13, r: 8, p: 1 };

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Median over rounds of b's time / a's time, each round timing both back to back, so machine load hits both. */
async function pairedRatio(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  rounds = 9,
): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push((await timed(b)) / (await timed(a)));
  return ratios.sort((x, y) => x - y)[Math.floor(rounds / 2)] as number;
}

describe('Accounts', () => {
  it('spends the same work on an unknown email as on a wrong password', async () => {
    const store = await testStore();
    await store.users.create('ana@example.org', await hashPassword('the right password', params), 0);
    const accounts = new Accounts(store.users, params);
    await accounts.authenticate('warm@example.org', 'up');
    const ratio = await pairedRatio(
      () => accounts.authenticate('ana@example.org', 'a wrong password'),
      () => accounts.authenticate('nobody@example.org', 'a wrong password'),
    );
    // Without the dummy hash the unknown email would answer in well under a millisecond: a ratio near 0.001.
    // The bounds are wide because this machine is shared; the difference they guard against is 1000-fold.
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(4);
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
