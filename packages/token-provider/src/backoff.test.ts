import { describe, expect, it } from 'vitest';
import { backoffDelay, retryAfterMs } from './backoff.js';

describe('backoffDelay', () => {
  const limits = { initialMs: 1000, maxMs: 60_000 };

  it('doubles the ceiling on each attempt and caps it', () => {
    expect([0, 1, 2, 3, 6, 7, 40].map((n) => backoffDelay(n, limits, () => 1))).toEqual([
      1000, 2000, 4000, 8000, 60_000, 60_000, 60_000,
    ]);
  });

  it('keeps at least half the ceiling, so jitter never makes a retry immediate', () => {
    expect(backoffDelay(0, limits, () => 0)).toBe(500);
    expect(backoffDelay(3, limits, () => 0.5)).toBe(6000);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and ignores dates, which would need the wall clock', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs(' 5 ')).toBe(5000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
    expect(retryAfterMs('-1')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
