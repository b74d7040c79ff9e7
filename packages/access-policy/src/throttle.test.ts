import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './throttle.js';

describe('LoginThrottle', () => {
  it('refuses an address after too many failures, until the oldest leaves the window', () => {
    const throttle = new LoginThrottle({ maxFailures: 3, windowSeconds: 60 });
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('a', t0 + i * 1000)).toBe(0);
      throttle.failed('a', t0 + i * 1000);
    }
    expect(throttle.retryAfter('a', t0 + 3000)).toBe(57);
    expect(throttle.retryAfter('b', t0 + 3000)).toBe(0);
    expect(throttle.retryAfter('a', t0 + 60_000)).toBe(0);
  });

  it('forgets the failures of an address that got it right', () => {
    const throttle = new LoginThrottle({ maxFailures: 2 });
    throttle.failed('a', 0);
    throttle.failed('a', 1);
    throttle.succeeded('a');
    expect(throttle.retryAfter('a', 2)).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting the oldest', () => {
    const throttle = new LoginThrottle({ maxFailures: 1, maxKeys: 2 });
    for (const key of ['a', 'b', 'c']) throttle.failed(key, 0);
    expect([
      throttle.retryAfter('a', 1),
      throttle.retryAfter('b', 1) > 0,
      throttle.retryAfter('c', 1) > 0,
    ]).toEqual([0, true, true]);
  });

  it('runs at most `concurrency` checks at once and turns away what would wait too long', async () => {
    const throttle = new LoginThrottle({ concurrency: 2, maxWaiting: 1 });
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const task = () =>
      new Promise<string>((resolve) => {
        running++;
        most = Math.max(most, running);
        releases.push(() => {
          running--;
          resolve('done');
        });
      });
    const runs = [throttle.run(task), throttle.run(task), throttle.run(task)];
    const turnedAway = await throttle.run(task);
    expect(turnedAway).toBeUndefined();
    await new Promise((r) => setTimeout(r, 0));
    expect(releases.length).toBe(2);
    releases.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
    // The freed slot went to the waiting check, not to a newcomer.
    expect(releases.length).toBe(2);
    while (releases.length > 0) releases.shift()?.();
    expect(await Promise.all(runs)).toEqual(['done', 'done', 'done']);
    expect(most).toBe(2);
  });
});
