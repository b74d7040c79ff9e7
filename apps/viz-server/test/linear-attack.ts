// An attacker written apart from the server's audit, for the tests: given published sums of unknown non-negative
// integers (each a set of unknowns with its value) and bounds on each unknown, it works out which unknowns are
// determined, by exact rational elimination (BigInt fractions) and by bound propagation. Slow and plain on purpose.

/** A published sum: the unknowns it adds up (less those of `minus`), and its value. */
export interface Published {
  readonly of: readonly number[];
  readonly minus?: readonly number[];
  readonly value: number;
}

type Fraction = readonly [bigint, bigint];

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function norm([n, d]: Fraction): Fraction {
  if (n === 0n) return [0n, 1n];
  const g = gcd(n, d);
  const s = d < 0n ? -1n : 1n;
  return [(s * n) / g, (s * d) / g];
}

const sub = (a: Fraction, b: Fraction): Fraction => norm([a[0] * b[1] - b[0] * a[1], a[1] * b[1]]);
const mul = (a: Fraction, b: Fraction): Fraction => norm([a[0] * b[0], a[1] * b[1]]);
const div = (a: Fraction, b: Fraction): Fraction => norm([a[0] * b[1], a[1] * b[0]]);

/**
 * The unknowns (of `count`) whose value the published sums determine, with that value: by linear algebra over the
 * rationals, then by propagating `lo`/`hi` bounds along the sums.
 *
 * @example
 * determined(2, [{ of: [0, 1], value: 7 }, { of: [0], value: 3 }], [0, 0], [Infinity, Infinity]); // Map { 0 => 3, 1 => 4 }
 */
export function determined(
  count: number,
  sums: readonly Published[],
  lo: readonly number[],
  hi: readonly number[],
): Map<number, number> {
  const found = new Map<number, number>();
  // Augmented rows [coefficients | value], reduced to row echelon form.
  const rows: Fraction[][] = sums.map((s) => {
    const row: Fraction[] = Array.from({ length: count + 1 }, () => [0n, 1n] as Fraction);
    for (const u of s.of) row[u] = [1n, 1n];
    for (const u of s.minus ?? []) row[u] = [-1n, 1n];
    row[count] = [BigInt(s.value), 1n];
    return row;
  });
  let r = 0;
  const pivotCols: number[] = [];
  for (let col = 0; col < count && r < rows.length; col++) {
    const p = rows.findIndex((row, i) => i >= r && (row[col] as Fraction)[0] !== 0n);
    if (p < 0) continue;
    [rows[r], rows[p]] = [rows[p] as Fraction[], rows[r] as Fraction[]];
    const pivot = rows[r] as Fraction[];
    const lead = pivot[col] as Fraction;
    for (let j = 0; j <= count; j++) pivot[j] = div(pivot[j] as Fraction, lead);
    rows.forEach((row, i) => {
      if (i === r) return;
      const f = row[col] as Fraction;
      if (f[0] === 0n) return;
      for (let j = 0; j <= count; j++) row[j] = sub(row[j] as Fraction, mul(f, pivot[j] as Fraction));
    });
    pivotCols.push(col);
    r++;
  }
  pivotCols.forEach((col, i) => {
    const row = rows[i] as Fraction[];
    const others = row.slice(0, count).some((f, j) => j !== col && f[0] !== 0n);
    const value = row[count] as Fraction;
    if (!others && value[1] === 1n) found.set(col, Number(value[0]));
  });

  const low = [...lo];
  const high = [...hi];
  for (let changed = true, pass = 0; changed && pass < 500; pass++) {
    changed = false;
    for (const s of sums) {
      if (s.minus !== undefined && s.minus.length > 0) continue;
      for (const u of s.of) {
        let othersLo = 0;
        let othersHi = 0;
        for (const v of s.of) {
          if (v === u) continue;
          othersLo += low[v] as number;
          othersHi += high[v] as number;
        }
        const l = Math.max(low[u] as number, s.value - othersHi);
        const h = Math.min(high[u] as number, s.value - othersLo);
        if (l > (low[u] as number) || h < (high[u] as number)) {
          low[u] = l;
          high[u] = h;
          changed = true;
        }
      }
    }
  }
  for (let u = 0; u < count; u++) if (low[u] === high[u]) found.set(u, low[u] as number);
  return found;
}
