import { describe, expect, it } from 'vitest';
import { chiSquareTail, logGamma, quadraticForm, quantileAt, upperGamma } from './stats.js';

describe('chi-square tail probabilities', () => {
  it.each([
    // Critical values of chi-square tables, and exp(-x/2) for 2 degrees of freedom.
    [3.841458820694124, 1, 0.05],
    [6.634896601021214, 1, 0.01],
    [5.991464547107979, 2, 0.05],
    [10, 2, Math.exp(-5)],
    [18.307038053275146, 10, 0.05],
    [0, 3, 1],
  ])('P(X ≥ %d) on %d df is %d', (x, df, p) => {
    expect(chiSquareTail(x, df)).toBeCloseTo(p, 12);
  });

  it('keeps tiny p-values instead of rounding them to 0', () => {
    expect(chiSquareTail(100, 1)).toBeCloseTo(1.523971e-23, 28);
    expect(upperGamma(1, 2)).toBeCloseTo(Math.exp(-2), 14);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
  });
});

describe('the quadratic form of the log-rank statistic', () => {
  it('inverts a full-rank matrix', () => {
    // [1 2] [[2 1] [1 2]]^-1 [1 2]ᵀ = 2
    expect(
      quadraticForm(
        [1, 2],
        [
          [2, 1],
          [1, 2],
        ],
      ),
    ).toEqual({ value: 2, rank: 2 });
  });

  it('drops a direction with no variance, as a generalized inverse does, and says so in the rank', () => {
    const { value, rank } = quadraticForm(
      [2, 0],
      [
        [4, 0],
        [0, 0],
      ],
    );
    expect(rank).toBe(1);
    expect(value).toBeCloseTo(1, 12);
  });
});

describe('quantiles', () => {
  it('interpolates between order statistics as R type 7 does', () => {
    expect(quantileAt(1.5, 2, 3)).toBe(2.5);
    expect(quantileAt(2, 3, 4)).toBe(3);
  });
});
