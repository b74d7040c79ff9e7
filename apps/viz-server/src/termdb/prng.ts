// A tiny seeded PRNG so that a demo dataset is the same file content on every machine for a given seed.
// Math.random cannot be seeded; mulberry32 is 32-bit, fast, and good enough for synthetic data (not for
// anything secret).

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal, by Box–Muller. */
  normal(mean: number, sd: number): number;
  /** Index drawn with probability proportional to its weight. */
  pick(cumulative: Float64Array): number;
}

/**
 * A mulberry32 generator seeded with a 32-bit integer (other numbers are truncated to 32 bits).
 *
 * @example
 * const rng = createRng(42);
 * rng.next(); // same value on every run
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal(mean, sd) {
      // 1 - u keeps the logarithm away from 0.
      const u = 1 - next();
      const v = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick(cumulative) {
      const total = cumulative[cumulative.length - 1] ?? 0;
      const x = next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (x < (cumulative[mid] ?? 0)) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}

/**
 * Running sums of weights, the form {@link Rng.pick} draws from.
 *
 * @example
 * rng.pick(cumulativeWeights([0.9, 0.1])); // 0 nine times in ten
 */
export function cumulativeWeights(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    sum += w;
    out[i] = sum;
  });
  return out;
}
