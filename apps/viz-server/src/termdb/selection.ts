// Which samples a request counts: the caller's cohorts (the grant), then the filter, as one byte per sample.
// The filter starts from the grant's mask and only ever clears bytes, so it can narrow what the grant allows
// and never widen it.
import { type Filter, isCategoryClause } from '@pp-embed/viz-api';

import type { CategoricalColumn, Codes, Column, NumericColumn } from './columns.js';
import { FilterInvalidError } from './errors.js';

/** One byte per sample, 1 when counted; null means every sample. */
export type Mask = Uint8Array | null;

/** A filter checked against the dataset, ready to apply. */
export type CompiledFilter = readonly Test[];

type Test =
  | { readonly kind: 'category'; readonly codes: CategoricalColumn['codes']; readonly allowed: Uint8Array }
  | { readonly kind: 'rank'; readonly ranks: Codes; readonly lo: number; readonly hi: number };

/** The first index whose value is `>= x` (or `> x` when `strict`) in ascending `values`. */
function lowerBound(values: Float64Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = values[mid] as number;
    if (strict ? v <= x : v < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function rangeTest(
  column: NumericColumn,
  clause: { gt?: number; gte?: number; lt?: number; lte?: number },
): Test {
  const { values } = column;
  // Ranks are 1-based: the value at index k has rank k + 1.
  const lo =
    clause.gt !== undefined
      ? lowerBound(values, clause.gt, true) + 1
      : clause.gte !== undefined
        ? lowerBound(values, clause.gte, false) + 1
        : 1;
  const hi =
    clause.lt !== undefined
      ? lowerBound(values, clause.lt, false)
      : clause.lte !== undefined
        ? lowerBound(values, clause.lte, true)
        : values.length;
  return { kind: 'rank', ranks: column.ranks, lo, hi };
}

/**
 * Checks a filter against the dataset and prepares it. `columnOf` gives the column of a term the caller may
 * chart (a categorical, integer or float leaf of the tree), and undefined for any other id, so that a filter
 * cannot reach data the caller could not chart, nor tell an unknown term from a hidden one.
 *
 * @throws FilterInvalidError naming the clause.
 * @example
 * const compiled = compileFilter([{ term: 'sex', values: ['2'] }], (id) => columns.get(id));
 */
export function compileFilter(
  filter: Filter,
  columnOf: (termId: string) => Column | undefined,
): CompiledFilter {
  return filter.map((clause, index) => {
    const at = `filter[${index}]`;
    const column = columnOf(clause.term);
    if (column === undefined || column.kind === 'survival') {
      throw new FilterInvalidError(`${at} names a term that cannot be filtered on.`);
    }
    if (isCategoryClause(clause)) {
      if (column.kind !== 'categorical') {
        throw new FilterInvalidError(`${at} lists categories of a numeric term; give a range instead.`);
      }
      const allowed = new Uint8Array(column.keys.length + 1);
      for (const key of clause.values) {
        const code = column.codeOf.get(key);
        if (code === undefined)
          throw new FilterInvalidError(`${at} lists a category its term does not have.`);
        allowed[code] = 1;
      }
      return { kind: 'category', codes: column.codes, allowed };
    }
    if (column.kind !== 'numeric') {
      throw new FilterInvalidError(`${at} gives a range for a categorical term; list categories instead.`);
    }
    return rangeTest(column, clause);
  });
}

/**
 * The samples counted: `base` (the grant's mask, null for all) narrowed by every test. A new array whenever a
 * test applies, so that cached grant masks are never written to.
 *
 * @example
 * const mask = applyFilter(space.size, cohortMask, compiled);
 */
export function applyFilter(size: number, base: Mask, tests: CompiledFilter): Mask {
  if (tests.length === 0) return base;
  const out = base === null ? new Uint8Array(size).fill(1) : base.slice();
  for (const test of tests) {
    if (test.kind === 'category') {
      const { codes, allowed } = test;
      for (let i = 0; i < size; i++) out[i] = (out[i] as number) & (allowed[codes[i] as number] as number);
    } else {
      const { ranks, lo } = test;
      const span = test.hi - lo;
      if (span < 0) return new Uint8Array(size);
      // One unsigned comparison: rank 0 (no value) wraps around to a large number and fails it.
      for (let i = 0; i < size; i++) {
        out[i] = (out[i] as number) & (((ranks[i] as number) - lo) >>> 0 <= span ? 1 : 0);
      }
    }
  }
  return out;
}

/**
 * The grant's mask: the union of the cohorts' members (already expanded from combined cohorts), kept for the
 * next request with the same cohorts. `null` cohorts: every sample.
 *
 * @example
 * const masks = cohortMasks(space.size, loaded.cohorts);
 * masks(['ABC', 'XYZ']);
 */
export function cohortMasks(
  size: number,
  members: ReadonlyMap<string, Uint8Array>,
): (cohorts: readonly string[] | null) => Mask {
  const none = new Uint8Array(size);
  const cache = new Map<string, Uint8Array>();
  return (cohorts) => {
    if (cohorts === null) return null;
    const ids = [...new Set(cohorts)].filter((id) => members.has(id)).sort();
    if (ids.length === 0) return none;
    if (ids.length === 1) return members.get(ids[0] as string) as Uint8Array;
    const key = ids.join('\n');
    let mask = cache.get(key);
    if (mask === undefined) {
      mask = new Uint8Array(size);
      for (const id of ids) {
        const m = members.get(id) as Uint8Array;
        for (let i = 0; i < size; i++) mask[i] = (mask[i] as number) | (m[i] as number);
      }
      // Tokens name few distinct cohort sets; the bound keeps a stream of odd ones from growing memory.
      if (cache.size >= 64) cache.clear();
      cache.set(key, mask);
    }
    return mask;
  };
}
