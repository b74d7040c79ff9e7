import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './rate-limit.js';

describe('SlidingWindowLimiter', () => {
  it('allows `limit` hits per window, then says how long to wait', () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 1000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs('k')).toBe(0);
      limiter.hit('k');
      now += 100;
    }
    expect(limiter.retryAfterMs('k')).toBe(700);
    expect(limiter.retryAfterMs('other')).toBe(0);
  });

  it('slides: each old hit leaving the window frees one attempt', () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000 }, () => now);
    limiter.hit('k');
    now = 500;
    limiter.hit('k');
    now = 999;
    expect(limiter.retryAfterMs('k')).toBe(1);
    now = 1000;
    expect(limiter.retryAfterMs('k')).toBe(0);
    limiter.hit('k');
    expect(limiter.retryAfterMs('k')).toBe(500);
  });

  it('forgets a key on reset', () => {
    const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 1000 }, () => 0);
    limiter.hit('k');
    limiter.reset('k');
    expect(limiter.retryAfterMs('k')).toBe(0);
  });

  it('keeps memory bounded: expired keys go, and the stalest go first past maxKeys', () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter({ limit: 5, windowMs: 1000, maxKeys: 3 }, () => now);
    for (const key of ['a', 'b', 'c', 'd']) limiter.hit(key);
    expect(limiter.size).toBe(3);
    now = 5000;
    for (const key of ['b', 'c', 'd']) limiter.retryAfterMs(key);
    expect(limiter.size).toBe(0);
  });
});
