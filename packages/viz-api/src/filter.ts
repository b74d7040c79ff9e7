/**
 * The `filter` parameter: which samples a chart or the sample table counts, within what the caller's grant
 * already allows. A filter can only narrow: the server applies it after the cohort scope of the token.
 * @module
 */
import { LIMITS } from './limits.js';

/**
 * Samples whose category of `term` is one of `values` (category keys, as the barchart's `Bar.key` gives them).
 *
 * @example
 * const female: CategoryClause = { term: 'sex', values: ['2'] };
 */
export interface CategoryClause {
  readonly term: string;
  readonly values: readonly string[];
}

/**
 * Samples whose value of the integer or float `term` is in a range: at most one lower bound (`gt` or `gte`)
 * and at most one upper bound (`lt` or `lte`), at least one of them. Values a term marks `uncomputable` are
 * never in a range.
 *
 * @example
 * const schoolAge: RangeClause = { term: 'agedx', gte: 5, lt: 18 };
 */
export interface RangeClause {
  readonly term: string;
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
}

/** One condition of a filter. @example const clause: FilterClause = { term: 'sex', values: ['1'] }; */
export type FilterClause = CategoryClause | RangeClause;

/**
 * A filter: clauses that must all hold (AND). `[]` filters nothing. On the wire it is the JSON text of the
 * array in the `filter` query parameter.
 *
 * @example
 * const filter: Filter = [{ term: 'sex', values: ['2'] }, { term: 'agedx', gte: 5, lt: 18 }];
 * const query = new URLSearchParams({ dslabel: 'TermdbTest', term: 'diaggrp', filter: formatFilter(filter) });
 */
export type Filter = readonly FilterClause[];

/** True for a clause on categories, false for a range. @example isCategoryClause({ term: 'sex', values: ['1'] }); // true */
export function isCategoryClause(clause: FilterClause): clause is CategoryClause {
  return 'values' in clause;
}

const BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function termId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= LIMITS.maxParamLength;
}

function readClause(raw: unknown, at: string): FilterClause | string {
  if (!isObject(raw)) return `${at} must be an object.`;
  if (!termId(raw.term)) return `${at}.term must name a term.`;
  const keys = Object.keys(raw);
  if ('values' in raw) {
    if (keys.length !== 2) return `${at} takes "term" and "values" only.`;
    const values = raw.values;
    if (!Array.isArray(values) || values.length === 0) return `${at}.values must list at least one category.`;
    if (values.length > LIMITS.maxFilterValues)
      return `${at}.values lists more than ${LIMITS.maxFilterValues} categories.`;
    if (!values.every((v) => typeof v === 'string' && v.length <= LIMITS.maxParamLength))
      return `${at}.values must be category keys (strings).`;
    return { term: raw.term, values: [...new Set(values as string[])] };
  }
  const range: { -readonly [K in keyof RangeClause]: RangeClause[K] } = { term: raw.term };
  for (const key of keys) {
    if (key === 'term') continue;
    if (!(BOUNDS as readonly string[]).includes(key))
      return `${at} takes "term" with "values", or "term" with "gt", "gte", "lt" or "lte".`;
    const bound = raw[key];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) return `${at}.${key} must be a finite number.`;
    range[key as (typeof BOUNDS)[number]] = bound;
  }
  const lower = range.gt ?? range.gte;
  const upper = range.lt ?? range.lte;
  if (range.gt !== undefined && range.gte !== undefined) return `${at} has two lower bounds.`;
  if (range.lt !== undefined && range.lte !== undefined) return `${at} has two upper bounds.`;
  if (lower === undefined && upper === undefined) return `${at} needs "values" or a bound.`;
  if (lower !== undefined && upper !== undefined && lower > upper)
    return `${at} has a lower bound above its upper bound.`;
  return range;
}

/**
 * Reads the `filter` parameter's text into a {@link Filter}, or says in a sentence what is wrong (for a 400
 * `filter_invalid`). It checks the shape and the limits; whether each term exists and takes such a clause is
 * the server's to check against its dataset.
 *
 * @example
 * parseFilter('[{"term":"sex","values":["2"]}]'); // { ok: true, filter: [{ term: 'sex', values: ['2'] }] }
 * parseFilter('[{"term":"agedx","gte":10,"lt":5}]');
 * // { ok: false, problem: 'filter[0] has a lower bound above its upper bound.' }
 */
export function parseFilter(text: string): { ok: true; filter: Filter } | { ok: false; problem: string } {
  if (text.length > LIMITS.maxFilterLength)
    return { ok: false, problem: `filter is longer than ${LIMITS.maxFilterLength} characters.` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'filter must be a JSON array of clauses.' };
  }
  if (!Array.isArray(raw)) return { ok: false, problem: 'filter must be a JSON array of clauses.' };
  if (raw.length > LIMITS.maxFilterClauses)
    return { ok: false, problem: `filter has more than ${LIMITS.maxFilterClauses} clauses.` };
  const clauses: FilterClause[] = [];
  for (const [index, item] of raw.entries()) {
    const clause = readClause(item, `filter[${index}]`);
    if (typeof clause === 'string') return { ok: false, problem: clause };
    clauses.push(clause);
  }
  return { ok: true, filter: clauses };
}

/**
 * The text of a filter for the `filter` query parameter; `undefined` for an empty filter, which is sent as
 * no parameter at all.
 *
 * @example
 * formatFilter([{ term: 'sex', values: ['2'] }]); // '[{"term":"sex","values":["2"]}]'
 * formatFilter([]); // undefined
 */
export function formatFilter(filter: Filter): string | undefined {
  return filter.length === 0 ? undefined : JSON.stringify(filter);
}
