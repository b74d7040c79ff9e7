// Small numerical routines the charts share, written out so that the server has no numerical dependency.

/** The 97.5th percentile of the standard normal: the multiplier of a two-sided 95% interval. */
export const Z_975 = 1.959963984540054;

/**
 * R's default quantile (type 7) from the two order statistics around position h = (n - 1) p: `lower` is the
 * value at floor(h) and `upper` the one after it (0-based, ascending).
 *
 * @example
 * // values 1, 2, 3, 4: the median is at h = 1.5, between 2 and 3
 * quantileAt(1.5, 2, 3); // 2.5
 */
export function quantileAt(h: number, lower: number, upper: number): number {
  const fraction = h - Math.floor(h);
  return fraction === 0 ? lower : lower + fraction * (upper - lower);
}

// Lanczos approximation (g = 7, n = 9), accurate to about 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. @example logGamma(5); // ln 24 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): by its series below a + 1 and by
 * its continued fraction (modified Lentz) above, as in Numerical Recipes §6.2.
 *
 * @example
 * upperGamma(1, 2); // e^-2
 */
export function upperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

/**
 * P(X ≥ x) for X chi-square with `df` degrees of freedom: the p-value of a chi-square statistic.
 *
 * @example
 * chiSquareTail(3.841458820694124, 1); // 0.05
 */
export function chiSquareTail(x: number, df: number): number {
  return upperGamma(df / 2, x / 2);
}

/**
 * The quadratic form vᵀ M⁻ v for a symmetric positive semi-definite M, with M⁻ a generalized inverse: Gaussian
 * elimination that skips pivots too small to trust (a group whose variance is all explained by the others), as
 * R's `survdiff` does. Returns the form and the rank of M, the chi-square's degrees of freedom.
 *
 * @example
 * quadraticForm([2], [[4]]); // { value: 1, rank: 1 }
 */
export function quadraticForm(
  v: readonly number[],
  m: readonly (readonly number[])[],
): { value: number; rank: number } {
  const n = v.length;
  const a = m.map((row) => [...row]);
  const b = [...v];
  const scale = Math.max(1e-300, ...a.map((row, i) => Math.abs(row[i] as number)));
  let value = 0;
  let rank = 0;
  const used = new Array<boolean>(n).fill(false);
  for (let step = 0; step < n; step++) {
    // Symmetric pivoting on the largest remaining diagonal keeps the elimination stable.
    let p = -1;
    for (let i = 0; i < n; i++) {
      if (!used[i] && (p < 0 || Math.abs(a[i]?.[i] as number) > Math.abs(a[p]?.[p] as number))) p = i;
    }
    const pivot = a[p]?.[p] as number;
    used[p] = true;
    if (!(Math.abs(pivot) > scale * 1e-10)) continue;
    rank++;
    const bp = b[p] as number;
    value += (bp * bp) / pivot;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const factor = (a[i]?.[p] as number) / pivot;
      if (factor === 0) continue;
      for (let j = 0; j < n; j++)
        (a[i] as number[])[j] = (a[i]?.[j] as number) - factor * (a[p]?.[j] as number);
      b[i] = (b[i] as number) - factor * bp;
    }
  }
  return { value, rank };
}
