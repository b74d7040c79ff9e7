/**
 * The attacker of the disclosure suite. It knows what a public reader knows: every number the server answered
 * under its rule, what each one counts (which combination of categories of which terms, within which filter), and
 * the marks of hidden ones (a small count is below the threshold). From these alone it works out what it can:
 *
 * - every answer's number is a sum of "atoms", the samples with one combination of the attacked terms' values (a
 *   term without a value is a value too);
 * - exact linear algebra (rationals as pairs of BigInt) on the shown numbers: a hidden number whose atoms add up
 *   to a combination of shown ones is recovered;
 * - bounds on every atom (at least 0), tightened along every number (shown, a range when the rule rounds or
 *   perturbs, hidden with its mark's range) until nothing moves: a hidden number whose bounds meet is recovered.
 *
 * Written apart from the server's audit, and plainly: a second implementation that finds what the first missed.
 */

export interface AttackDim {
  readonly name: string;
  /** The categories of the dimension, in order; "no value" is added by the space. */
  readonly categories: readonly string[];
}

/** The atoms: every combination of one value (or none) per dimension, the all-none one left out. */
export class AtomSpace {
  readonly dims: readonly AttackDim[];
  readonly sizes: readonly number[];
  readonly size: number;

  constructor(dims: readonly AttackDim[]) {
    this.dims = dims;
    this.sizes = dims.map((d) => d.categories.length + 1);
    this.size = this.sizes.reduce((a, b) => a * b, 1);
  }

  /** Index of an atom from one value index per dimension (0: no value). */
  index(values: readonly number[]): number {
    return values.reduce((at, v, d) => at * (this.sizes[d] as number) + v, 0);
  }

  /** Values of an atom. */
  values(atom: number): number[] {
    const out = new Array<number>(this.dims.length);
    for (let d = this.dims.length - 1; d >= 0; d--) {
      const s = this.sizes[d] as number;
      out[d] = atom % s;
      atom = Math.floor(atom / s);
    }
    return out;
  }

  /**
   * The atoms a number counts: per dimension, the value indices allowed (undefined: any, "no value" included).
   * The all-none atom, which no answer can count, is never part of it.
   */
  atoms(allowed: readonly (readonly number[] | undefined)[]): number[] {
    const out: number[] = [];
    for (let atom = 0; atom < this.size; atom++) {
      const v = this.values(atom);
      if (v.every((x) => x === 0)) continue;
      if (v.every((x, d) => allowed[d] === undefined || (allowed[d] as readonly number[]).includes(x))) {
        out.push(atom);
      }
    }
    return out;
  }

  /** The value index of a category key in a dimension, or -1. */
  valueOf(dim: number, key: string): number {
    const at = (this.dims[dim] as AttackDim).categories.indexOf(key);
    return at < 0 ? -1 : at + 1;
  }
}

/** A number some answer gave, as the attacker reads it. */
export interface Observation {
  /** Where it came from, for the report. */
  readonly what: string;
  readonly atoms: readonly number[];
  /** Shown: its value, or the range it stands for (rounded or perturbed). Hidden: undefined. */
  readonly shown?: readonly [number, number];
  /** Hidden: what its mark says (small: 1 to k-1; withheld: anything). */
  readonly mark?: 'small' | 'withheld';
  /** The k of the rule it was answered under, when not the attack's (a lower tier's answers, read as well). */
  readonly threshold?: number;
}

export interface Recovery {
  readonly what: string;
  readonly value: number;
  readonly how: 'linear algebra' | 'bounds';
}

type Fraction = readonly [bigint, bigint];

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function norm(n: bigint, d: bigint): Fraction {
  if (n === 0n) return [0n, 1n];
  const g = gcd(n, d);
  const s = d < 0n ? -1n : 1n;
  return [(s * n) / g, (s * d) / g];
}

/** a − coef × b. */
function minus(a: Fraction, coef: Fraction, b: Fraction): Fraction {
  return norm(a[0] * coef[1] * b[1] - coef[0] * b[0] * a[1], a[1] * coef[1] * b[1]);
}

/** target −= coef × source, as sparse rows (a column that reaches 0 is dropped). */
function subtractRow(
  target: Map<number, Fraction>,
  coef: Fraction,
  source: ReadonlyMap<number, Fraction>,
): void {
  for (const [c, p] of source) {
    const next = minus(target.get(c) ?? [0n, 1n], coef, p);
    if (next[0] === 0n) target.delete(c);
    else target.set(c, next);
  }
}

/**
 * What the observations give away: hidden numbers whose value the shown ones determine, by linear algebra or by
 * bounds. `threshold` is the rule's: the range a small mark stands for (unless an observation names its own).
 *
 * @example
 * const recovered = attack(space, observations, 5);
 */
export function attack(
  space: AtomSpace,
  observations: readonly Observation[],
  threshold: number,
): Recovery[] {
  const recovered = new Map<string, Recovery>();
  const key = (atoms: readonly number[]) => atoms.join(',');

  // Linear algebra on the exactly shown numbers: reduced row echelon form over the rationals, one row per distinct
  // sum, with the value in a last column.
  const exact = new Map<string, Observation>();
  for (const o of observations) {
    if (o.shown !== undefined && o.shown[0] === o.shown[1] && o.atoms.length > 0) exact.set(key(o.atoms), o);
  }
  const pivots = new Map<number, Map<number, Fraction>>();
  const pivotValue = new Map<number, Fraction>();
  const reduce = (row: Map<number, Fraction>, value: Fraction): Fraction => {
    let v = value;
    for (const [col, coef] of [...row]) {
      const pivot = pivots.get(col);
      if (pivot === undefined) continue;
      subtractRow(row, coef, pivot);
      v = minus(v, coef, pivotValue.get(col) as Fraction);
    }
    return v;
  };
  for (const o of exact.values()) {
    const row = new Map<number, Fraction>(o.atoms.map((a) => [a, [1n, 1n] as Fraction]));
    // Reduce repeatedly: a subtraction can bring in columns that are pivots themselves.
    let value: Fraction = [BigInt((o.shown as readonly [number, number])[0]), 1n];
    for (let changed = true; changed;) {
      changed = [...row.keys()].some((c) => pivots.has(c));
      if (changed) value = reduce(row, value);
    }
    if (row.size === 0) continue;
    const lead = Math.min(...row.keys());
    const inv = row.get(lead) as Fraction;
    for (const [c, f] of row) row.set(c, norm(f[0] * inv[1], f[1] * inv[0]));
    value = norm(value[0] * inv[1], value[1] * inv[0]);
    // Keep the form reduced: clear the new pivot from the rows before it.
    for (const [col, pivot] of pivots) {
      const coef = pivot.get(lead);
      if (coef === undefined) continue;
      subtractRow(pivot, coef, row);
      pivotValue.set(col, minus(pivotValue.get(col) as Fraction, coef, value));
    }
    pivots.set(lead, row);
    pivotValue.set(lead, value);
  }
  for (const o of observations) {
    if (o.shown !== undefined || o.atoms.length === 0) continue;
    const row = new Map<number, Fraction>(o.atoms.map((a) => [a, [1n, 1n] as Fraction]));
    let value: Fraction = [0n, 1n];
    for (let changed = true; changed;) {
      changed = [...row.keys()].some((c) => pivots.has(c));
      if (changed) value = reduce(row, value);
    }
    // The target minus a combination of shown rows is zero: it equals minus that combination's value.
    if (row.size === 0 && value[1] === 1n) {
      recovered.set(o.what, { what: o.what, value: Number(-value[0]), how: 'linear algebra' });
    }
  }

  // Bounds on atoms, tightened along every number.
  const lo = new Float64Array(space.size);
  const hi = new Float64Array(space.size).fill(Infinity);
  const ranges = observations
    .filter((o) => o.atoms.length > 0)
    .map((o) => ({
      o,
      range:
        o.shown ??
        ((o.mark === 'small' ? [1, (o.threshold ?? threshold) - 1] : [0, Infinity]) as readonly [
          number,
          number,
        ]),
    }));
  for (let pass = 0, changed = true; changed && pass < 300; pass++) {
    changed = false;
    for (const { o, range } of ranges) {
      let sumLo = 0;
      let finiteHi = 0;
      let open = 0;
      for (const a of o.atoms) {
        sumLo += lo[a] as number;
        const h = hi[a] as number;
        if (Number.isFinite(h)) finiteHi += h;
        else open++;
      }
      for (const a of o.atoms) {
        const h = hi[a] as number;
        const othersHi =
          open - (Number.isFinite(h) ? 0 : 1) > 0 ? Infinity : finiteHi - (Number.isFinite(h) ? h : 0);
        const newLo = Math.max(lo[a] as number, range[0] - othersHi);
        const newHi = Math.min(h, range[1] - (sumLo - (lo[a] as number)));
        if (newLo > (lo[a] as number) || newHi < h) {
          lo[a] = newLo;
          hi[a] = newHi;
          changed = true;
        }
      }
    }
  }
  for (const { o, range } of ranges) {
    if (o.shown !== undefined || recovered.has(o.what)) continue;
    let sumLo = 0;
    let sumHi = 0;
    for (const a of o.atoms) {
      sumLo += lo[a] as number;
      sumHi += hi[a] as number;
    }
    const low = Math.max(sumLo, range[0]);
    const high = Math.min(sumHi, range[1]);
    if (low === high) recovered.set(o.what, { what: o.what, value: low, how: 'bounds' });
  }
  return [...recovered.values()];
}
