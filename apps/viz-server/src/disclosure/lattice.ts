// The tables one answer is made from, and what a rule shows of them.
//
// An answer under a rule counts samples by a few terms (the chart's, and its filter's): the joint table of those
// terms. Every margin of it, down to the grand total, is a table another answer shows (a chart of fewer terms, or
// with fewer filter terms), so each gets its pattern before the tables above it, and a table's pattern keeps what
// its margins hide hidden (suppress.ts). Patterns depend on the data, the scope, the rule and the terms of the
// table only, never on which categories a filter picks, so every answer that involves a table sees it the same
// way: a filtered number is a sum of cells of these tables, shown only when the shown cells determine it (a sum of
// shown cells, or a shown margin less a sum of shown cells). Two answers can then never be subtracted to find
// what a pattern hides.
import { type Margin, SHOWN, SMALL, suppressTable, type TableRule, WITHHELD } from './suppress.js';
import { marginOf, type Shape, shapeOf } from './shape.js';

export { SHOWN, SMALL, WITHHELD } from './suppress.js';

/** One dimension of the joint table: a term's categories or bins, with "no value" at index 0. */
export interface LatticeDim {
  /** Names the dimension the same in every answer (term id and how it is split). */
  readonly key: string;
  /** Axis length: categories + 1. */
  readonly size: number;
}

/** A number of an answer: its exact value (never sent when hidden), and whether it is shown. */
export interface BoxValue {
  readonly value: number;
  readonly state: typeof SHOWN | typeof SMALL | typeof WITHHELD;
}

/**
 * Per dimension of the joint table: null for every category ("no value" included), or the indices summed.
 *
 * @example
 * const femaleBar: Box = [[2], null]; // category 2 of the first term, any value of the second
 */
export type Box = readonly (readonly number[] | null)[];

/** Where margins and patterns are kept between answers (per dataset; keys name scope, rules and terms). */
export interface PatternCache {
  get(key: string): { counts: Float64Array; patterns: Map<number, Uint8Array> } | undefined;
  set(key: string, value: { counts: Float64Array; patterns: Map<number, Uint8Array> }): void;
}

/**
 * A cache of margins and their patterns that forgets the oldest entries beyond `maxCells` cells in all.
 *
 * @example
 * const cache = createPatternCache(2_000_000);
 */
export function createPatternCache(maxCells: number): PatternCache {
  const entries = new Map<string, { counts: Float64Array; patterns: Map<number, Uint8Array> }>();
  let cells = 0;
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry !== undefined) {
        // Most recently used last.
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry;
    },
    set(key, value) {
      if (entries.has(key) || value.counts.length > maxCells) return;
      entries.set(key, value);
      cells += value.counts.length;
      for (const [oldest, entry] of entries) {
        if (cells <= maxCells) break;
        entries.delete(oldest);
        cells -= entry.counts.length;
      }
    },
  };
}

/**
 * The joint table of an answer's terms, its margins, and the pattern each has under a chain of rules: the rules
 * of lower tiers (whose patterns the caller can also see), then the caller's.
 *
 * @example
 * const lattice = new Lattice(dims, joint, [anonymousRule], cache, 'scope:all');
 * lattice.box([[1], null]); // { value: 40, state: SHOWN }
 */
export class Lattice {
  readonly shape: Shape;
  readonly #dims: readonly LatticeDim[];
  readonly #joint: () => Float64Array;
  readonly #rules: readonly TableRule[];
  readonly #cache: PatternCache | undefined;
  readonly #prefix: string;
  readonly #tables = new Map<number, { counts: Float64Array; patterns: Map<number, Uint8Array> }>();
  readonly #boxes = new Map<string, BoxValue>();
  readonly #sums = new Map<string, Cells>();

  /** `joint` counts the samples in the joint table; it is called only when no cache holds the table already. */
  constructor(
    dims: readonly LatticeDim[],
    joint: Float64Array | (() => Float64Array),
    rules: readonly TableRule[],
    cache?: PatternCache,
    scopeKey = '',
  ) {
    this.#dims = dims;
    this.shape = shapeOf(dims.map((d) => d.size));
    this.#joint = typeof joint === 'function' ? joint : () => joint;
    this.#rules = rules;
    this.#cache = cache;
    this.#prefix = `${scopeKey}|${rules.map((r) => `${r.threshold}${r.complementary ? 'c' : ''}`).join(',')}|`;
  }

  /** The positions of the dimensions a mask keeps. */
  #kept(mask: number): number[] {
    return this.#dims.map((_, d) => d).filter((d) => (mask >> d) & 1);
  }

  #table(mask: number): { counts: Float64Array; patterns: Map<number, Uint8Array> } {
    let table = this.#tables.get(mask);
    if (table !== undefined) return table;
    const key =
      this.#prefix +
      this.#kept(mask)
        .map((d) => (this.#dims[d] as LatticeDim).key)
        .join('\t');
    table = this.#cache?.get(key);
    if (table === undefined) {
      const full = (1 << this.#dims.length) - 1;
      let counts: Float64Array;
      if (mask === full) {
        counts = this.#joint();
        if (counts.length !== this.shape.cells)
          throw new RangeError('the joint table does not fit its dimensions');
      } else counts = marginOf(this.counts(full), this.shape, this.#kept(mask));
      table = { counts, patterns: new Map() };
      this.#cache?.set(key, table);
    }
    this.#tables.set(mask, table);
    return table;
  }

  /** The counts of the margin that keeps the dimensions of `mask`. */
  counts(mask: number): Float64Array {
    return this.#table(mask).counts;
  }

  /** The pattern of the margin that keeps `mask`, under the rule at `level` of the chain (the caller's by default). */
  pattern(mask: number, level = this.#rules.length - 1): Uint8Array {
    const table = this.#table(mask);
    let states = table.patterns.get(level);
    if (states !== undefined) return states;
    const kept = this.#kept(mask);
    const margins: Margin[] = [];
    // Every proper subset of the mask, as positions within the table (the grand total has none).
    for (let sub = (mask - 1) & mask; mask !== 0; sub = (sub - 1) & mask) {
      margins.push({
        kept: this.#kept(sub).map((d) => kept.indexOf(d)),
        counts: this.counts(sub),
        pattern: this.pattern(sub, level),
      });
      if (sub === 0) break;
    }
    const shape = shapeOf(kept.map((d) => (this.#dims[d] as LatticeDim).size));
    states = suppressTable(
      {
        shape,
        counts: table.counts,
        margins,
        forced: level > 0 ? this.pattern(mask, level - 1) : undefined,
      },
      this.#rules[level] as TableRule,
    );
    table.patterns.set(level, states);
    return states;
  }

  /**
   * The sum of the joint table over a box, and whether the caller's rule shows it: shown when the shown cells
   * determine it (all its cells shown, a shown wider box less a shown remainder, or within a wider box shown to be
   * 0); SMALL when it is exactly one
   * small hidden cell (zeros aside); WITHHELD otherwise.
   *
   * @example
   * lattice.box([[3], [1, 2]]); // category 3 of the first term, categories 1 and 2 of the second
   */
  box(box: Box): BoxValue {
    return this.#box(box, 0, 0);
  }

  /** The cells of a box in the table of its dimensions: their sum, and what their states say. */
  #cells(box: Box): Cells {
    const key = boxKey(box);
    const known = this.#sums.get(key);
    if (known !== undefined) return known;
    let mask = 0;
    box.forEach((s, d) => {
      if (s !== null) mask |= 1 << d;
    });
    const kept = this.#kept(mask);
    const { counts } = this.#table(mask);
    const states = this.pattern(mask);
    const strides = shapeOf(kept.map((d) => (this.#dims[d] as LatticeDim).size)).strides;
    let value = 0;
    let hidden = 0;
    let smalls = 0;
    let large = false;
    const visit = (i: number, at: number) => {
      if (i === kept.length) {
        const n = counts[at] as number;
        value += n;
        const state = states[at] as number;
        if (state !== SHOWN) {
          hidden++;
          if (state === SMALL) smalls++;
          else if (state === WITHHELD) large = true;
        } else if (n > 0) large = true;
        return;
      }
      const stride = strides[i] as number;
      for (const j of box[kept[i] as number] as readonly number[]) visit(i + 1, at + j * stride);
    };
    visit(0, 0);
    // `large`: a shown non-zero count or a withheld one is at least k, so the box cannot be small.
    const result = { value, hidden, single: hidden === 1 && smalls === 1 && !large, large };
    this.#sums.set(key, result);
    return result;
  }

  /** True when a box lies within a wider one that is one small cell (beside zeros), `levels` widenings away. */
  #withinSmall(box: Box, levels: number): boolean {
    for (let d = 0; d < box.length; d++) {
      if (box[d] === null) continue;
      const wider = box.map((s, e) => (e === d ? null : s));
      if (this.#cells(wider).single || (levels > 1 && this.#withinSmall(wider, levels - 1))) return true;
    }
    return false;
  }

  #box(box: Box, locked: number, depth: number): BoxValue {
    const key = `${locked}:${depth}:${boxKey(box)}`;
    const known = this.#boxes.get(key);
    if (known !== undefined) return known;
    const cells = this.#cells(box);
    let result: BoxValue | undefined;
    if (cells.hidden === 0) result = { value: cells.value, state: SHOWN };
    else {
      // A shown wider box less a shown remainder, a step or two deep: how totals beside hidden cells are known. A
      // single hidden cell never is (the audit saw to that), unless within a wider box shown to be 0.
      const single = box.every((s) => s === null || s.length === 1);
      for (let d = 0; d < box.length && depth < MAX_DEPTH; d++) {
        if (box[d] === null || (locked >> d) & 1) continue;
        const wider = this.#box(
          box.map((s, e) => (e === d ? null : s)),
          locked,
          depth + 1,
        );
        if (wider.state !== SHOWN) continue;
        if (wider.value === 0) {
          result = { value: 0, state: SHOWN };
          break;
        }
        if (single) continue;
        const picked = new Set(box[d] as readonly number[]);
        const rest = Array.from({ length: (this.#dims[d] as LatticeDim).size }, (_, j) => j).filter(
          (j) => !picked.has(j),
        );
        const remainder = this.#box(
          box.map((s, e) => (e === d ? rest : s)),
          locked | (1 << d),
          depth + 1,
        );
        if (remainder.state === SHOWN) {
          result = { value: wider.value - remainder.value, state: SHOWN };
          break;
        }
      }
      // Marked small only when what is public says so: one small cell beside zeros, or within a wider box that is
      // (below the threshold; a box of blank cells may even be empty).
      result ??= {
        value: cells.value,
        state: cells.single || (!cells.large && this.#withinSmall(box, 2)) ? SMALL : WITHHELD,
      };
    }
    this.#boxes.set(key, result);
    return result;
  }
}

interface Cells {
  readonly value: number;
  readonly hidden: number;
  /** One small hidden cell, beside zeros. */
  readonly single: boolean;
  /** A shown non-zero or a withheld cell: the box holds at least k. */
  readonly large: boolean;
}

/** How deep a shown number is looked for as a wider box less a remainder. */
const MAX_DEPTH = 2;

const boxKey = (box: Box): string => box.map((s) => (s === null ? '*' : s.join(','))).join('|');
