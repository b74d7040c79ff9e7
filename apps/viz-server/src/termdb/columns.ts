// The dataset in memory, column by column, read once when the dataset opens. Every chart is a pass over typed
// arrays indexed by sample, so a cohort restriction or a filter is a byte mask rather than a join.
//
// Samples are numbered 0..size-1 in ascending id order (a few samples found only in annotation tables, which
// sampleidmap should list but may not, come after). Columns hold small codes with 0 for "no value":
//   - categorical: the category's position in display order, plus one;
//   - numeric: the rank of the sample's value among the term's distinct values, plus one, and, for the
//     barchart, the default bin the value falls in, plus one;
//   - survival: the rank of the time to event, plus one, and whether it ended in the event.
import type Database from 'better-sqlite3';

import { LIMITS } from '@pp-embed/viz-api';

import { binRanges, type Bin, type BinConfig, layoutBins } from './bins.js';
import { DatasetInvalidError } from './errors.js';
import { TABLE_CELLS } from './tally.js';

/** Per-sample codes; 0 is "no value". The narrowest array that holds the largest code. */
export type Codes = Uint8Array | Uint16Array | Uint32Array;

/** Numbers samples and maps sample ids to them. */
export interface SampleSpace {
  readonly size: number;
  /** Sample id by sample number. */
  readonly ids: Float64Array;
  /** The sample numbers in ascending id order; null when that is 0..size-1. */
  readonly byId: Uint32Array | null;
}

export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly codes: Codes;
  /** Category keys in display order: the term's listed values, then unlisted ones found in the data, by key. */
  readonly keys: readonly string[];
  readonly labels: readonly string[];
  /** Code of each key (code - 1 is its position in `keys`). */
  readonly codeOf: ReadonlyMap<string, number>;
}

/** Distinct values in ascending order and the samples that have each: the order every quantile walks. */
export interface Ranked {
  /** Per sample: rank of its value + 1; 0 for none. */
  readonly ranks: Codes;
  /** Distinct values, ascending. */
  readonly values: Float64Array;
  /**
   * Sample numbers sorted by value; those of value `values[r]` are `order[starts[r]] .. order[starts[r+1]-1]`.
   * Kept only for terms with so many distinct values that a chart walks them (see tally.ts); null otherwise.
   */
  readonly order: Uint32Array | null;
  readonly starts: Uint32Array | null;
  /** The most samples that share one value: no count of a tally cell can pass it. */
  readonly maxTies: number;
}

/** Below this many distinct values, every chart tallies a table and needs no value order (see tally.ts). */
const WALK_FROM = Math.floor(TABLE_CELLS / Math.max(LIMITS.maxOverlayValues, LIMITS.maxSurvivalSeries));

export interface NumericColumn extends Ranked {
  readonly kind: 'numeric';
  readonly bins: BinConfig;
  /** The default bins laid out up to the largest value of the whole dataset. */
  readonly layout: readonly Bin[];
  /** Per sample: its bin in `layout` + 1; 0 for none. */
  readonly binCodes: Uint8Array;
  /** A value inside each bin of `layout` that has one, to lay bins out again for a smaller largest value. */
  readonly binSample: Float64Array;
}

export interface SurvivalColumn extends Ranked {
  readonly kind: 'survival';
  /**
   * Per sample: 2 × rank when the time ends in the event (exit code 1), 2 × rank − 1 when censored (exit code
   * 0), 0 for none: time and outcome in one code, so that a survival tally reads one array per sample.
   */
  readonly rankEvent: Codes;
}

export type Column = CategoricalColumn | NumericColumn | SurvivalColumn;

/** What the loader needs to know of a term. */
export type ColumnSpec =
  | {
      readonly kind: 'categorical';
      readonly id: string;
      /** Listed category keys and labels, in the order the term lists them. */
      readonly labels: ReadonlyMap<string, string>;
      readonly uncomputable: ReadonlySet<string>;
    }
  | {
      readonly kind: 'numeric';
      readonly id: string;
      readonly table: 'anno_integer' | 'anno_float';
      readonly bins: BinConfig;
      readonly uncomputable: ReadonlySet<number>;
    }
  | { readonly kind: 'survival'; readonly id: string };

export interface LoadedColumns {
  readonly space: SampleSpace;
  readonly columns: ReadonlyMap<string, Column>;
  /** Cohort id → its members, one byte per sample. */
  readonly cohorts: ReadonlyMap<string, Uint8Array>;
  /** Threads that read the file: 2 when a worker read its share. */
  readonly threads: 1 | 2;
}

/**
 * Reads `group_concat(sample)` (integers separated by commas) into ids. Sample ids are integers (the schema's
 * `sample integer`); anything else there means the file is not a termdb dataset this server can read. A tight
 * loop over character codes: about 10 ns per id.
 */
function parseIds(text: unknown, file: string): Float64Array;
function parseIds(text: unknown, file: string, index: (id: number) => number): Uint32Array;
function parseIds(text: unknown, file: string, index?: (id: number) => number): Float64Array | Uint32Array {
  if (text === null || text === undefined || text === '')
    return index ? new Uint32Array(0) : new Float64Array(0);
  const s = String(text);
  let count = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 44) count++;
  // With `index`, straight to sample numbers: one array per group rather than two.
  const out = index ? new Uint32Array(count) : new Float64Array(count);
  let n = 0;
  let value = 0;
  let digits = 0;
  let negative = false;
  const bad = () => new DatasetInvalidError(file, 'a sample id is not an integer');
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 44 : s.charCodeAt(i);
    if (c === 44) {
      if (digits === 0 || digits > 15) throw bad();
      const id = negative ? -value : value;
      out[n++] = index ? index(id) : id;
      value = 0;
      digits = 0;
      negative = false;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 45 && digits === 0 && !negative) negative = true;
    else throw bad();
  }
  return out;
}

/** Sample numbers by id, growing as annotation tables name samples sampleidmap does not list. */
class SpaceBuilder {
  readonly extraIds: number[] = [];
  readonly sorted: Float64Array | null;
  readonly #first: number;
  readonly #count: number;
  readonly #dense: Int32Array | null;
  readonly #extra = new Map<number, number>();

  /** `ids` ascending; or null with `first` and `count` when sampleidmap holds exactly first..first+count-1. */
  constructor(ids: Float64Array | null, first: number, count: number) {
    this.#first = first;
    this.#count = count;
    this.#dense = null;
    this.sorted = ids;
    if (ids === null) return;
    const min = ids[0] ?? 0;
    const max = ids[ids.length - 1] ?? 0;
    // A direct table when ids are dense enough, else a map.
    if (ids.length > 0 && max - min <= 4 * ids.length + 65_536) {
      this.#first = min;
      const dense = new Int32Array(max - min + 1).fill(-1);
      ids.forEach((id, i) => (dense[id - min] = i));
      this.#dense = dense;
    } else {
      ids.forEach((id, i) => this.#extra.set(id, i));
    }
  }

  /** Sample numbers of ids. */
  map(ids: Float64Array): Uint32Array {
    const out = new Uint32Array(ids.length);
    if (this.sorted === null) {
      // sampleidmap is first..first+count-1: the number is the offset, unless the id is outside.
      const first = this.#first;
      const count = this.#count;
      for (let j = 0; j < ids.length; j++) {
        const at = (ids[j] as number) - first;
        out[j] = at >= 0 && at < count ? at : this.index(ids[j] as number);
      }
      return out;
    }
    for (let j = 0; j < ids.length; j++) out[j] = this.index(ids[j] as number);
    return out;
  }

  readonly index = (id: number): number => {
    const dense = this.#dense;
    if (this.sorted === null) {
      const at = id - this.#first;
      if (at >= 0 && at < this.#count) return at;
    } else if (dense !== null) {
      const at = id - this.#first;
      if (at >= 0 && at < dense.length) {
        const i = dense[at] as number;
        if (i >= 0) return i;
      }
    }
    let i = this.#extra.get(id);
    if (i === undefined) {
      i = this.#count + this.extraIds.length;
      this.extraIds.push(id);
      this.#extra.set(id, i);
    }
    return i;
  };

  build(): SampleSpace {
    const size = this.#count + this.extraIds.length;
    const ids = new Float64Array(size);
    if (this.sorted === null) for (let i = 0; i < this.#count; i++) ids[i] = this.#first + i;
    else ids.set(this.sorted);
    ids.set(this.extraIds, this.#count);
    let byId: Uint32Array | null = null;
    for (let i = 1; i < size; i++) {
      if ((ids[i] as number) <= (ids[i - 1] as number)) {
        byId = Uint32Array.from(ids.keys()).sort((a, b) => (ids[a] as number) - (ids[b] as number));
        break;
      }
    }
    return { size, ids, byId };
  }
}

function codesFor(size: number, largest: number): Codes {
  if (largest < 0x100) return new Uint8Array(size);
  if (largest < 0x10000) return new Uint16Array(size);
  return new Uint32Array(size);
}

interface Group<V> {
  readonly value: V;
  readonly samples: Uint32Array;
}

/**
 * One grouped query of the loader: a term's samples by value (by time and exit code for survival), or the
 * cohorts' members. Plain data, so that a worker thread can run it.
 */
export interface GroupQuery {
  readonly kind: 'categorical' | 'integer' | 'float' | 'survival' | 'members';
  /** The term id; empty for members. */
  readonly id: string;
}

/**
 * A query's rows: each group's values (all columns but the last), and its samples: as the file's ids (read on a
 * worker thread, which does not number samples) or already as sample numbers.
 */
export interface GroupRows {
  readonly values: unknown[][];
  readonly ids: Float64Array[] | null;
  readonly samples: Uint32Array[] | null;
}

function groupSql(query: GroupQuery, membersSql: string): string {
  switch (query.kind) {
    case 'categorical':
      return 'SELECT value, group_concat(sample) FROM anno_categorical WHERE term_id = ? GROUP BY value';
    case 'integer':
    case 'float':
      return `SELECT value, group_concat(sample) FROM anno_${query.kind} WHERE term_id = ? GROUP BY value`;
    case 'survival':
      return 'SELECT tte, exit_code, group_concat(sample) FROM survival WHERE term_id = ? GROUP BY tte, exit_code';
    case 'members':
      return `SELECT cohort, group_concat(sample) FROM (${membersSql}) GROUP BY cohort`;
  }
}

/**
 * Runs one grouped query: the slow part of loading (SQLite walks the index and prints the ids), which a worker
 * thread can do for a share of the terms while the main thread does another.
 *
 * @example
 * const rows = readGroups(db, file, { kind: 'categorical', id: 'sex' }, membersSql);
 */
export function readGroups(
  db: Database.Database,
  file: string,
  query: GroupQuery,
  membersSql: string,
  index?: (id: number) => number,
): GroupRows {
  const statement = db.prepare(groupSql(query, membersSql)).raw(true);
  const rows = (query.kind === 'members' ? statement.all() : statement.all(query.id)) as unknown[][];
  const values = rows.map((row) => row.slice(0, -1));
  const last = (row: unknown[]) => row[row.length - 1];
  return index === undefined
    ? { values, ids: rows.map((row) => parseIds(last(row), file)), samples: null }
    : { values, ids: null, samples: rows.map((row) => parseIds(last(row), file, index)) };
}

/** The query that reads a column. */
function queryOf(spec: ColumnSpec): GroupQuery {
  return {
    kind: spec.kind === 'numeric' ? (spec.table === 'anno_integer' ? 'integer' : 'float') : spec.kind,
    id: spec.id,
  };
}

/**
 * Runs queries on another thread beside this one, or undefined when it cannot start. The other thread runs
 * `order[0]` first; then both take the next query to run from a shared counter (`Atomics.add(next, 0, 1)`, an
 * index into `order`), so that neither waits while the other has queries left. Returns a function that waits for the other thread's rows, by query index
 * (undefined if it failed: this thread then runs what is missing).
 */
export type ParallelReader = (
  queries: readonly GroupQuery[],
  order: readonly number[],
  next: Int32Array,
) => (() => ReadonlyMap<number, GroupRows> | undefined) | undefined;

/**
 * Roughly how long a query takes, to run the longest first: a survival term groups by two columns and has the
 * most groups; membership may read JSON.
 */
const WEIGHT: Record<GroupQuery['kind'], number> = {
  survival: 3,
  members: 2,
  categorical: 2,
  float: 1,
  integer: 1,
};

/**
 * Loads every column at once: one grouped query per term (samples grouped by value, read from an index on
 * (term_id, value, sample) where the file has one), then typed arrays; the file is not read again for charts.
 * With `parallel`, another thread runs queries while this one runs the rest, each taking the next as it is done.
 *
 * `membersSql` selects (cohort, sample) pairs: every place the file records cohort membership.
 *
 * @example
 * const { space, columns, cohorts } = loadColumns(db, file, specs, 'SELECT subcohort AS cohort, sample FROM subcohort_samples');
 */
export function loadColumns(
  db: Database.Database,
  file: string,
  specs: readonly ColumnSpec[],
  membersSql: string,
  parallel?: ParallelReader,
): LoadedColumns {
  // Usually sampleidmap holds 1..n exactly, and the ids need not be read one by one.
  const [min, max, count] = db
    .prepare('SELECT min(id), max(id), count(*) FROM sampleidmap')
    .raw(true)
    .get() as [unknown, unknown, number];
  let builder: SpaceBuilder;
  if (count > 0 && typeof min === 'number' && typeof max === 'number' && max - min + 1 === count) {
    builder = new SpaceBuilder(null, min, count);
  } else {
    const ids = parseIds(
      db.prepare('SELECT group_concat(id) FROM (SELECT id FROM sampleidmap ORDER BY id)').pluck().get(),
      file,
    );
    builder = new SpaceBuilder(ids, 0, ids.length);
  }

  const queries: GroupQuery[] = [...specs.map(queryOf), { kind: 'members', id: '' }];
  // Longest first, so that the last query either thread takes is a short one.
  const order = queries
    .map((_, i) => i)
    .sort((a, b) => WEIGHT[(queries[b] as GroupQuery).kind] - WEIGHT[(queries[a] as GroupQuery).kind]);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const elsewhere = parallel?.(queries, order, next);
  // The other thread's first query is order[0], whenever it starts; this thread begins with the next.
  if (elsewhere !== undefined) Atomics.store(next, 0, 1);
  const rows = new Map<number, GroupRows>();
  const read = (i: number) =>
    rows.set(i, readGroups(db, file, queries[i] as GroupQuery, membersSql, builder.index));
  for (;;) {
    const k = Atomics.add(next, 0, 1);
    if (k >= order.length) break;
    read(order[k] as number);
  }
  const there = elsewhere?.();
  queries.forEach((_, i) => {
    if (rows.has(i)) return;
    const theirs = there?.get(i);
    if (theirs === undefined) read(i);
    else rows.set(i, theirs);
  });
  const grouped = <V>(i: number, read: (values: unknown[]) => V): Group<V>[] => {
    const { values, ids, samples } = rows.get(i) as GroupRows;
    return values.map((v, g) => ({
      value: read(v),
      samples: samples?.[g] ?? builder.map((ids as Float64Array[])[g] as Float64Array),
    }));
  };

  const raw = specs.map((spec, i) => {
    switch (spec.kind) {
      case 'categorical':
        return grouped(i, (v) => (v[0] === null ? null : String(v[0])));
      case 'numeric':
        return grouped(i, (v) => (v[0] === null || v[0] === '' ? NaN : Number(v[0])));
      case 'survival':
        return grouped(i, (v) => ({
          time: v[0] === null || v[0] === '' ? NaN : Number(v[0]),
          exit: v[1] === null ? NaN : Number(v[1]),
        }));
    }
  });
  const members = grouped(specs.length, (v) => String(v[0]));

  const space = builder.build();
  const columns = new Map<string, Column>();
  specs.forEach((spec, i) => {
    const groups = raw[i] as Group<never>[];
    if (spec.kind === 'categorical') columns.set(spec.id, categorical(space.size, spec, groups));
    else if (spec.kind === 'numeric') columns.set(spec.id, numeric(space.size, spec, groups));
    else columns.set(spec.id, survival(space.size, groups));
  });
  const cohorts = new Map<string, Uint8Array>();
  for (const group of members) {
    const mask = cohorts.get(group.value) ?? new Uint8Array(space.size);
    const samples = group.samples;
    for (let j = 0; j < samples.length; j++) mask[samples[j] as number] = 1;
    cohorts.set(group.value, mask);
  }
  return { space, columns, cohorts, threads: there === undefined || there.size === 0 ? 1 : 2 };
}

function categorical(
  size: number,
  spec: Extract<ColumnSpec, { kind: 'categorical' }>,
  groups: Group<string | null>[],
): CategoricalColumn {
  const found = new Set(groups.map((g) => g.value).filter((v): v is string => v !== null));
  // Listed categories first, in the term's order, then any the term does not list, by key: never by count,
  // which would hint at the size of a suppressed cell.
  const keys = [
    ...[...spec.labels.keys()].filter((k) => !spec.uncomputable.has(k)),
    ...[...found].filter((k) => !spec.labels.has(k) && !spec.uncomputable.has(k)).sort(),
  ];
  const codeOf = new Map(keys.map((k, i) => [k, i + 1]));
  const codes = codesFor(size, keys.length);
  for (const group of groups) {
    const code = group.value === null ? undefined : codeOf.get(group.value);
    if (code === undefined) continue;
    const samples = group.samples;
    for (let j = 0; j < samples.length; j++) codes[samples[j] as number] = code;
  }
  return {
    kind: 'categorical',
    codes,
    keys,
    labels: keys.map((k) => spec.labels.get(k) ?? k),
    codeOf,
  };
}

/** Groups of equal values merged and sorted, as ranks, distinct values and the sample order. */
function ranked(size: number, groups: Group<number>[]): Ranked {
  const kept = groups.filter((g) => Number.isFinite(g.value)).sort((a, b) => a.value - b.value);
  const values: number[] = [];
  const startsList: number[] = [];
  let total = 0;
  for (const g of kept) total += g.samples.length;
  let distinct = 0;
  for (let k = 0; k < kept.length; k++) {
    if (k === 0 || (kept[k] as Group<number>).value !== (kept[k - 1] as Group<number>).value) distinct++;
  }
  const walk = distinct >= WALK_FROM;
  const order = walk ? new Uint32Array(total) : null;
  const ranks = codesFor(size, distinct);
  let at = 0;
  for (const g of kept) {
    // SQLite groups 5 and 5.0 together but not '5' (text) with 5: merged here by numeric value.
    if (values.length === 0 || values[values.length - 1] !== g.value) {
      values.push(g.value);
      startsList.push(at);
    }
    const rank = values.length;
    const samples = g.samples;
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j] as number;
      // A sample listed twice for one term (a file without the primary key) counts once, at its first value.
      if (ranks[s] !== 0) continue;
      ranks[s] = rank;
      if (order !== null) order[at] = s;
      at++;
    }
  }
  startsList.push(at);
  let maxTies = 0;
  for (let k = 1; k < startsList.length; k++) {
    maxTies = Math.max(maxTies, (startsList[k] as number) - (startsList[k - 1] as number));
  }
  return {
    ranks,
    values: Float64Array.from(values),
    order: order === null || at === total ? order : order.slice(0, at),
    starts: walk ? Uint32Array.from(startsList) : null,
    maxTies,
  };
}

function numeric(
  size: number,
  spec: Extract<ColumnSpec, { kind: 'numeric' }>,
  groups: Group<number>[],
): NumericColumn {
  const r = ranked(
    size,
    groups.filter((g) => !spec.uncomputable.has(g.value)),
  );
  const largest = r.values.length === 0 ? null : (r.values[r.values.length - 1] as number);
  const layout = layoutBins(spec.bins, largest);
  const ranges = binRanges(layout);
  // The bin of each distinct value: values ascend and ranges are disjoint and ordered, so one merge pass.
  const binOfRank = new Uint8Array(r.values.length + 1);
  const binSample = new Float64Array(layout.length).fill(NaN);
  let b = 0;
  r.values.forEach((v, k) => {
    while (b < ranges.length && !(v < (ranges[b] as { hi: number }).hi)) b++;
    const range = ranges[b];
    if (range !== undefined && v >= range.lo) {
      binOfRank[k + 1] = b + 1;
      if (Number.isNaN(binSample[b] as number)) binSample[b] = v;
    }
  });
  const binCodes = new Uint8Array(size);
  for (let s = 0; s < size; s++) binCodes[s] = binOfRank[r.ranks[s] as number] as number;
  return { kind: 'numeric', ...r, bins: spec.bins, layout, binCodes, binSample };
}

function survival(size: number, groups: Group<{ time: number; exit: number }>[]): SurvivalColumn {
  // Exit code 1 is the event and 0 censored, as ProteinPaint's survival table records them; any other code
  // (or a missing time) leaves the sample out. In time order, as ranked() visits them (a stable sort by the same
  // key), so that a sample listed twice takes its outcome from the row that gave it its rank.
  const usable = groups
    .filter((g) => Number.isFinite(g.value.time) && (g.value.exit === 0 || g.value.exit === 1))
    .sort((a, b) => a.value.time - b.value.time);
  const r = ranked(
    size,
    usable.map((g) => ({ value: g.value.time, samples: g.samples })),
  );
  const rankEvent = codesFor(size, 2 * r.values.length);
  for (const g of usable) {
    const samples = g.samples;
    const event = g.value.exit;
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j] as number;
      if (rankEvent[s] === 0) rankEvent[s] = 2 * (r.ranks[s] as number) - 1 + event;
    }
  }
  return { kind: 'survival', ...r, rankEvent };
}
