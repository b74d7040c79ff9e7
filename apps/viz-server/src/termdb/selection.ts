// Which samples a request counts: the caller's cohorts (the grant), then the filter, as one byte per sample.
// The filter starts from the grant's mask and only ever clears bytes, so it can narrow what the grant allows
// and never widen it.
import { type Filter, isCategoryClause } from '@pp-embed/viz-api';

import type { Codes, Column, NumericColumn } from './columns.js';
import { FilterInvalidError } from './errors.js';

/** One byte per sample, 1 when counted; null means every sample. */
export type Mask = Uint8Array | null;

/** A filter checked against the dataset, ready to apply. */
export type CompiledFilter = readonly Test[];

/**
 * A clause as a lookup (`allowed[codes[i]]` is 1 for a sample that passes: categories, and ranges over terms
 * with up to 65,536 distinct values) or, for terms with more, a range of ranks `lo..hi`.
 */
type Test =
  | { readonly kind: 'lookup'; readonly codes: Codes; readonly allowed: Uint8Array }
  | { readonly kind: 'rank'; readonly ranks: Codes; readonly lo: number; readonly hi: number };

/** Above this many distinct values a range is tested by comparison rather than looked up. */
const LOOKUP_RANKS = 1 << 16;

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
  if (values.length > LOOKUP_RANKS) return { kind: 'rank', ranks: column.ranks, lo, hi };
  const allowed = new Uint8Array(values.length + 1);
  if (lo <= hi) allowed.fill(1, lo, hi + 1);
  return { kind: 'lookup', codes: column.ranks, allowed };
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
      return { kind: 'lookup', codes: column.codes, allowed };
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
  const out = new Uint8Array(size);
  const lookups = tests.filter((t) => t.kind === 'lookup');
  const [a, b] = lookups;
  // The grant and the first two lookups in one pass (filters rarely have more); each byte is 0 or 1, so AND
  // keeps a sample only when every test passes, without a branch.
  if (a !== undefined && b !== undefined) {
    const [ca, ta, cb, tb] = [a.codes, a.allowed, b.codes, b.allowed];
    if (base === null) {
      for (let i = 0; i < size; i++) {
        out[i] = (ta[ca[i] as number] as number) & (tb[cb[i] as number] as number);
      }
    } else {
      for (let i = 0; i < size; i++) {
        out[i] = (base[i] as number) & (ta[ca[i] as number] as number) & (tb[cb[i] as number] as number);
      }
    }
  } else if (a !== undefined) {
    const [ca, ta] = [a.codes, a.allowed];
    if (base === null) for (let i = 0; i < size; i++) out[i] = ta[ca[i] as number] as number;
    else for (let i = 0; i < size; i++) out[i] = (base[i] as number) & (ta[ca[i] as number] as number);
  } else if (base === null) out.fill(1);
  else out.set(base);
  for (const test of tests) {
    if (test === a || test === b) continue;
    if (test.kind === 'lookup') {
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
