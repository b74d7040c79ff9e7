// The audit of one table's hidden cells, as an attacker would attack them: every cell of every table below it
// that is shown is a public sum of this table's cells. A hidden cell (or a hidden cell of a table below, which is
// a sum of this table's cells) is given away when
//   - linear algebra on the public sums determines it (its vector lies in the span of theirs), or
//   - bounds propagated along the public sums pin it to one value: a hidden small count is 1 to k-1, a withheld
//     one at least k (the rule is public, and withheld counts are chosen among shown ones), a masked one at least
//     1, a blank one anything; a hidden cell of a table below bounds the sum of its cells here the same way.
// Linear algebra runs over GF(p), p = 2^26 - 5 (products of two residues stay exact in a double), one connected
// component of hidden cells at a time; a component too large to solve in bounded time fails the audit, and the
// caller then hides the table whole (fail closed).
import type { Shape } from './shape.js';
import { projector } from './shape.js';

/** Per cell of a table: shown. */
export const SHOWN = 0;
/** Per cell: a small count, from 1 to k - 1. */
export const SMALL = 1;
/** Per cell: a count of at least k, withheld so that a small one cannot be worked out. */
export const WITHHELD = 2;
/**
 * Per cell: a non-zero count of a table shown in no detail (the rule could not protect it cell by cell), whatever
 * its size; small counts of such a table are not told apart.
 */
export const MASKED = 3;
/** Per cell: any count, zero included, of a table of which nothing is shown. */
export const BLANK = 4;

/** What an attacker knows of a hidden cell from its state: its least and greatest possible values. */
export function boundsOf(state: number, k: number): [number, number] {
  if (state === SMALL) return [1, k - 1];
  if (state === WITHHELD) return [k, Infinity];
  if (state === MASKED) return [1, Infinity];
  return [0, Infinity];
}

/** A table below the one audited: its margin over some of its dimensions, with the pattern that table has. */
export interface Margin {
  /** Positions, in the audited table, of the dimensions the margin keeps (ascending). */
  readonly kept: readonly number[];
  readonly counts: ArrayLike<number>;
  readonly pattern: Uint8Array;
}

export interface AuditResult {
  /** Hidden cells of the table that are given away. */
  readonly cells: number[];
  /** Of those, the ones only bounds give away (linear algebra alone does not): less told of them would do. */
  readonly pinned: number[];
  /** Hidden cells of tables below (index into the margins, cell of that margin) that are given away. */
  readonly margins: { margin: number; cell: number }[];
  /** The audit could not finish within its bounds. */
  readonly failed: boolean;
}

const P = 67_108_859;
/** The largest group of linked hidden cells solved exactly; larger ones fail the audit. */
export const MAX_LINKED_HIDDEN = 400;
const MAX_PASSES = 200;

function inverse(a: number): number {
  // Extended Euclid modulo P.
  let [r0, r1] = [P, a % P];
  let [s0, s1] = [0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % P) + P) % P;
}

const mulmod = (a: number, b: number): number => (a * b) % P;

/** `target -= f × row`, modulo P. */
function subtract(target: Float64Array, f: number, row: Float64Array, width: number): void {
  for (let j = 0; j < width; j++) {
    const v = row[j] as number;
    if (v !== 0) target[j] = ((target[j] as number) - mulmod(f, v) + P) % P;
  }
}

/** `vector` reduced by every pivot row: what is left of it outside their span. */
function reduce(vector: Float64Array, pivots: Map<number, Float64Array>, width: number): void {
  for (const [col, pivot] of pivots) {
    const f = vector[col] as number;
    if (f !== 0) subtract(vector, f, pivot, width);
  }
}

/** Row-reduced echelon form of 0/1 rows over GF(P): pivot column → row. */
function rref(rows: Float64Array[], width: number): Map<number, Float64Array> {
  const pivots = new Map<number, Float64Array>();
  for (const row of rows) {
    reduce(row, pivots, width);
    const lead = row.findIndex((v) => v !== 0);
    if (lead < 0) continue;
    const inv = inverse(row[lead] as number);
    for (let j = 0; j < width; j++) if (row[j] !== 0) row[j] = mulmod(row[j] as number, inv);
    // Keep the form reduced: clear the new pivot's column from the others.
    for (const other of pivots.values()) {
      const f = other[lead] as number;
      if (f !== 0) subtract(other, f, row, width);
    }
    pivots.set(lead, row);
  }
  return pivots;
}

/** True when `vector` (over the component's columns) lies in the row space. It is modified. */
function inSpan(vector: Float64Array, pivots: Map<number, Float64Array>, width: number): boolean {
  reduce(vector, pivots, width);
  return vector.every((v) => v === 0);
}

interface Constraint {
  /** Hidden cells of the audited table (their variable numbers). */
  readonly vars: number[];
  /** The bounds of their sum. */
  lo: number;
  hi: number;
  /** An exact public sum (a shown cell of a table below), used by the linear part. */
  readonly exact: boolean;
}

/**
 * Which hidden cells of a table, and of the tables below it, the public sums give away (see the module comment).
 * `states` holds SHOWN, SMALL or WITHHELD per cell; `k` is the rule's threshold.
 *
 * @example
 * const { cells, margins, failed } = auditTable(shape, counts, states, margins, 5);
 */
export function auditTable(
  shape: Shape,
  counts: ArrayLike<number>,
  states: Uint8Array,
  margins: readonly Margin[],
  k: number,
): AuditResult {
  const varOf = new Int32Array(shape.cells).fill(-1);
  const hidden: number[] = [];
  for (let c = 0; c < shape.cells; c++) {
    if (states[c] !== SHOWN) {
      varOf[c] = hidden.length;
      hidden.push(c);
    }
  }
  const projectors = margins.map((m) => projector(shape, m.kept).project);

  // Group the hidden cells by the margin cell they add to: shown margin cells are exact public sums, hidden ones
  // are targets (and bounded sums: small, or at least k).
  const constraints: Constraint[] = [];
  const targets: { margin: number; cell: number; vars: number[] }[] = [];
  margins.forEach((m, i) => {
    const project = projectors[i] as (c: number) => number;
    const groups = new Map<number, number[]>();
    for (const c of hidden) {
      const u = project(c);
      let group = groups.get(u);
      if (group === undefined) groups.set(u, (group = []));
      group.push(varOf[c] as number);
    }
    for (const [u, vars] of groups) {
      // The margin cell's value less the shown cells that add to it: what its hidden cells add up to.
      let sum = 0;
      for (const v of vars) sum += counts[hidden[v] as number] as number;
      const shownPart = (m.counts[u] as number) - sum;
      const state = m.pattern[u] as number;
      if (state === SHOWN) constraints.push({ vars, lo: sum, hi: sum, exact: true });
      else {
        targets.push({ margin: i, cell: u, vars });
        const [lo, hi] = boundsOf(state, k);
        constraints.push({ vars, lo: Math.max(0, lo - shownPart), hi: hi - shownPart, exact: false });
      }
    }
  });

  // A hidden cell of a table below with no hidden cell here is the sum of shown cells: given away outright.
  const revealed: { margin: number; cell: number }[] = [];
  margins.forEach((m, i) => {
    const covered = new Set(targets.filter((t) => t.margin === i).map((t) => t.cell));
    for (let u = 0; u < m.pattern.length; u++) {
      if (m.pattern[u] !== SHOWN && !covered.has(u)) revealed.push({ margin: i, cell: u });
    }
  });
  if (hidden.length === 0) return { cells: [], pinned: [], margins: revealed, failed: false };

  // Connected components of hidden cells linked by exact public sums.
  const parent = Int32Array.from(hidden, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x] as number] as number;
      x = parent[x] as number;
    }
    return x;
  };
  for (const c of constraints) {
    if (!c.exact) continue;
    const [first, ...rest] = c.vars;
    for (const v of rest) parent[find(v)] = find(first as number);
  }
  const components = new Map<number, number[]>();
  hidden.forEach((_, v) => {
    const root = find(v);
    let list = components.get(root);
    if (list === undefined) components.set(root, (list = []));
    list.push(v);
  });

  const givenAway = new Set<number>();
  const marginsGivenAway: { margin: number; cell: number }[] = [...revealed];
  const columnOf = new Int32Array(hidden.length);
  const exactByRoot = new Map<number, Constraint[]>();
  for (const c of constraints) {
    if (!c.exact) continue;
    const root = find(c.vars[0] as number);
    let list = exactByRoot.get(root);
    if (list === undefined) exactByRoot.set(root, (list = []));
    list.push(c);
  }
  const solved = new Map<number, Map<number, Float64Array>>();
  for (const [root, vars] of components) {
    const equations = exactByRoot.get(root) ?? [];
    if (equations.length === 0) continue;
    if (vars.length > MAX_LINKED_HIDDEN) return { cells: [], pinned: [], margins: [], failed: true };
    vars.forEach((v, j) => (columnOf[v] = j));
    const width = vars.length;
    const rows = equations.map((e) => {
      const row = new Float64Array(width);
      for (const v of e.vars) row[columnOf[v] as number] = 1;
      return row;
    });
    const pivots = rref(rows, width);
    solved.set(root, pivots);
    // e_v is in the row space when v is a pivot whose row has no other entry.
    for (const [col, row] of pivots) {
      let alone = true;
      for (let j = 0; j < width; j++) {
        if (j !== col && row[j] !== 0) {
          alone = false;
          break;
        }
      }
      if (alone) givenAway.add(vars[col] as number);
    }
  }
  for (const t of targets) {
    // A sum over several components is determined when each component's part is.
    const parts = new Map<number, number[]>();
    for (const v of t.vars) {
      const root = find(v);
      let part = parts.get(root);
      if (part === undefined) parts.set(root, (part = []));
      part.push(v);
    }
    let determined = true;
    for (const [root, part] of parts) {
      const pivots = solved.get(root);
      const width = (components.get(root) as number[]).length;
      if (pivots === undefined) {
        determined = false;
        break;
      }
      const vector = new Float64Array(width);
      for (const v of part) vector[columnOf[v] as number] = 1;
      if (!inSpan(vector, pivots, width)) {
        determined = false;
        break;
      }
    }
    if (determined) marginsGivenAway.push({ margin: t.margin, cell: t.cell });
  }

  // Bounds: each hidden cell from its own state, tightened along every sum until nothing changes.
  const lo = new Float64Array(hidden.length);
  const hi = new Float64Array(hidden.length);
  hidden.forEach((c, v) => {
    [lo[v], hi[v]] = boundsOf(states[c] as number, k);
  });
  for (let pass = 0, changed = true; changed && pass < MAX_PASSES; pass++) {
    changed = false;
    for (const c of constraints) {
      let sumLo = 0;
      let finiteHi = 0;
      let infiniteHi = 0;
      for (const v of c.vars) {
        sumLo += lo[v] as number;
        const h = hi[v] as number;
        if (Number.isFinite(h)) finiteHi += h;
        else infiniteHi++;
      }
      for (const v of c.vars) {
        const h = hi[v] as number;
        const othersUnbounded = infiniteHi - (Number.isFinite(h) ? 0 : 1) > 0;
        const othersHi = othersUnbounded ? Infinity : finiteHi - (Number.isFinite(h) ? h : 0);
        const othersLo = sumLo - (lo[v] as number);
        const newLo = Math.max(lo[v] as number, c.lo - othersHi);
        const newHi = Math.min(h, c.hi - othersLo);
        if (newLo > (lo[v] as number) || newHi < h) {
          lo[v] = newLo;
          hi[v] = newHi;
          changed = true;
        }
      }
    }
  }
  const pinned: number[] = [];
  hidden.forEach((_, v) => {
    if (lo[v] === hi[v] && !givenAway.has(v)) pinned.push(v);
  });
  return {
    cells: [...givenAway, ...pinned].map((v) => hidden[v] as number),
    pinned: pinned.map((v) => hidden[v] as number),
    margins: marginsGivenAway,
    failed: false,
  };
}
