import { createHash } from 'node:crypto';

import { type DatasetDisclosure, NO_DISCLOSURE, type Scope } from '@pp-embed/access-policy';
import {
  type BarchartResult,
  type Cohort,
  type Filter,
  LIMITS,
  type SampleRow,
  type SamplesResult,
  type SummaryResult,
  type SurvivalResult,
  type DisclosureRule,
  type Term,
  type TermSearchResult,
  type TermType,
} from '@pp-embed/viz-api';
import Database from 'better-sqlite3';

import {
  type ControlledScope,
  controlledBarchart,
  controlledSummary,
  controlledSurvival,
} from '../disclosure/charts.js';
import { binDim, filterDims, type SurvivalDim, survivalDim } from '../disclosure/dims.js';
import { createPatternCache } from '../disclosure/lattice.js';

import { barchartCounts } from './barchart.js';
import { parseBinConfig } from './bins.js';
import { type CategoricalColumn, type Codes, type Column, type ColumnSpec, loadColumns } from './columns.js';
import { type Dimension, dimensionOf } from './dimension.js';
import {
  DatasetInvalidError,
  TermNotFoundError,
  TermNotSupportedError,
  TermWrongTypeError,
  TooManyValuesError,
} from './errors.js';
import { columnsInWorker, workerReader } from './parallel.js';
import { COHORT_TERM_ID, REQUIRED_COLUMNS } from './schema.js';
import { searchTerms } from './search.js';
import { applyFilter, cohortMasks, compileFilter, type Mask } from './selection.js';
import { summaryStats } from './summary.js';
import { type SurvivalStats, survivalStats } from './survival.js';

/** One page of sample rows. */
export interface Page {
  /** 1-based. */
  readonly page: number;
  /** 1 to `LIMITS.maxPageSize` of the wire contract. */
  readonly pageSize: number;
}

export interface DatasetOptions {
  /** The dslabel clients ask for. */
  readonly label: string;
  readonly genome: string;
  /** Path of the termdb SQLite file; opened read-only and never written. */
  readonly file: string;
  /**
   * The disclosure rule of each tier of caller (serverconfig.json). The dataset applies the rule a request's scope
   * carries; this is what the access decision reads to choose it. Default: exact counts for everyone.
   */
  readonly disclosure?: DatasetDisclosure | undefined;
  /**
   * Read the file on two threads (a worker runs about half of the loading queries). By default, for datasets of
   * at least 100,000 samples on a machine with two cores or more.
   */
  readonly parallelLoad?: boolean;
}

/** From this many samples, opening a dataset uses a worker thread for half of its queries. */
const PARALLEL_FROM = 100_000;

/** The optional terms and filter of a chart request. */
export interface ChartOptions {
  /** Overlay (barchart) or split (summary, survival) term. */
  readonly term2?: string | undefined;
  /** Divide-by term: one barchart per value (barchart only). */
  readonly term0?: string | undefined;
  /** Narrows the samples within the scope; `[]` or absent for none. */
  readonly filter?: Filter | undefined;
}

/**
 * Every row of a term's sample table, a batch at a time: what a CSV or TSV answer streams, so that an export of a
 * million samples holds one batch of rows in memory, never the table.
 */
export interface SampleRows {
  readonly term: Term;
  /** How many rows the iteration yields, counted when the rows were asked for. */
  readonly total: number;
  /**
   * The rows in sample id order, at most `batchSize` (default {@link SAMPLE_BATCH}) at a time; each batch is made
   * (its sample names read from the file) when the iteration reaches it.
   */
  batches(batchSize?: number): Generator<readonly SampleRow[], void, undefined>;
}

/** Rows per batch of {@link TermdbDataset.sampleRows}: a few milliseconds of work between yields to other requests. */
export const SAMPLE_BATCH = 5000;

/** What the dataset holds in memory, for logs and benchmarks. */
export interface DatasetStats {
  readonly samples: number;
  /** Bytes of the in-memory columns and cohort masks. */
  readonly bytes: number;
  /** Time to open the file, check it and build the columns. */
  readonly openMilliseconds: number;
  /** Threads that read the file when it opened (see `DatasetOptions.parallelLoad`). */
  readonly loadThreads: 1 | 2;
}

export interface TermdbDataset {
  readonly label: string;
  readonly genome: string;
  readonly file: string;
  readonly disclosure: DatasetDisclosure;
  /** Children of `parent` in tree order, or the root terms when null. Throws TermNotFoundError for an unknown parent. */
  terms(parent: string | null): Term[];
  /** The term, or undefined for an unknown id (`__proto__` included). */
  term(id: string): Term | undefined;
  cohorts(): Cohort[];
  /**
   * Samples per category (categories with at least one sample, in the order the term lists them) or per bin
   * (every bin of the term's default binning, in bin order), within the caller's scope and the filter,
   * optionally split by `term2` and divided by `term0`. Values the term marks `uncomputable` are left out. Under
   * the scope's disclosure rule every count goes through it (disclosure/charts.ts). Throws TermNotFoundError,
   * TermNotSupportedError, TermWrongTypeError, TooManyValuesError or FilterInvalidError.
   */
  barchart(termId: string, scope: Scope, options?: ChartOptions): BarchartResult;
  /**
   * The samples with a computable value for the term, within the caller's cohorts and the filter, in sample
   * id order. Rows cannot be controlled cell by cell: a scope with a disclosure rule is refused (the access
   * decision serves sample-level routes only to callers who see exact counts).
   */
  samples(termId: string, scope: Scope, page: Page, filter?: Filter): SamplesResult;
  /** Box plot and violin statistics of an integer or float term, optionally per category of `term2`. */
  summary(termId: string, scope: Scope, options?: ChartOptions): SummaryResult;
  /** Kaplan-Meier curves of a survival term, optionally per category of `term2`, with a log-rank test. */
  survival(termId: string, scope: Scope, options?: ChartOptions): SurvivalResult;
  /** Leaf terms matching a free-text query, best first. */
  search(query: string): TermSearchResult;
  /**
   * Every row of {@link TermdbDataset.samples}: the same rows, order and rule on scopes (a scope with a disclosure
   * rule is refused), for a streamed table. Throws as `samples` does at once; the rows are made as they are iterated.
   */
  sampleRows(termId: string, scope: Scope, filter?: Filter): SampleRows;
  stats(): DatasetStats;
  close(): void;
}

type Chart =
  | {
      readonly kind: 'categorical';
      /** Category key to label, in the order the dataset lists them. */
      readonly labels: ReadonlyMap<string, string>;
      readonly uncomputable: ReadonlySet<string>;
    }
  | {
      readonly kind: 'numeric';
      readonly table: 'anno_integer' | 'anno_float';
      readonly bins: NonNullable<ReturnType<typeof parseBinConfig>>;
      readonly uncomputable: ReadonlySet<number>;
    }
  | { readonly kind: 'survival'; readonly unit: string | null };

interface TermRecord {
  readonly term: Term;
  readonly parentId: string | null;
  readonly chart: Chart | null;
}

const SUPPORTED_NUMERIC: ReadonlyMap<string, 'anno_integer' | 'anno_float'> = new Map([
  ['integer', 'anno_integer'],
  ['float', 'anno_float'],
]);

// A sample is in cohort C when any of the places ProteinPaint datasets record membership says so:
//   - subcohort_samples has (C, sample);
//   - the sample's multivalue `subcohort` annotation (anno_multivalue, e.g. {"ABC":1,"XYZ":1}) has key C;
//   - the sample's categorical `subcohort` annotation (older datasets) is C.
// A combined cohort (cohorts.subcohorts = ["ABC","XYZ"]) holds the samples of any of its members; a
// caller's list is expanded before its masks are joined. TermdbTest records membership in the multivalue
// term only (its subcohort_samples is empty); the generated demo dataset uses subcohort_samples.
const MEMBER_SOURCES = [
  {
    present: 'SELECT 1 FROM subcohort_samples LIMIT 1',
    pairs: 'SELECT subcohort AS cohort, sample FROM subcohort_samples',
  },
  {
    present: `SELECT 1 FROM anno_multivalue WHERE term_id = '${COHORT_TERM_ID}' LIMIT 1`,
    pairs: `
      SELECT j.key AS cohort, m.sample AS sample FROM anno_multivalue AS m,
             json_each(CASE WHEN json_valid(m.value) THEN m.value ELSE '{}' END) AS j
       WHERE m.term_id = '${COHORT_TERM_ID}'`,
  },
  {
    present: `SELECT 1 FROM anno_categorical WHERE term_id = '${COHORT_TERM_ID}' LIMIT 1`,
    pairs: `SELECT value AS cohort, sample FROM anno_categorical WHERE term_id = '${COHORT_TERM_ID}'`,
  },
] as const;

/** (cohort, sample) from every source of membership that holds rows in this file. */
function membersQuery(db: Database.Database): string {
  const present = MEMBER_SOURCES.filter((s) => db.prepare(s.present).get() !== undefined);
  return present.length === 0
    ? 'SELECT NULL AS cohort, NULL AS sample WHERE 0'
    : present.map((s) => s.pairs).join('\nUNION ALL\n');
}

/** A file opened and checked, its term tree and cohorts read: what is left is reading its columns. */
interface Prepared {
  readonly db: Database.Database;
  readonly meta: Pick<TermdbDataset, 'label' | 'genome' | 'file' | 'disclosure'>;
  readonly records: Map<string, TermRecord>;
  readonly cohorts: Map<string, CohortRecord>;
  readonly specs: ColumnSpec[];
  /** SQL for (cohort, sample) pairs: every place the file records membership. */
  readonly members: string;
}

/** Opens the file and reads what every chart needs besides the columns (milliseconds). */
function prepare(options: DatasetOptions): Prepared {
  const { label, genome, file } = options;
  const disclosure = options.disclosure ?? NO_DISCLOSURE;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new DatasetInvalidError(file, 'the file does not exist or cannot be opened', { cause });
  }
  try {
    checkSchema(db, file);
    const records = loadTerms(db, file, hasSurvivalTable(db));
    const cohorts = loadCohorts(db, file);
    const specs: ColumnSpec[] = [];
    for (const { term, chart } of records.values()) {
      if (chart === null) continue;
      specs.push(chart.kind === 'survival' ? { kind: 'survival', id: term.id } : { ...chart, id: term.id });
    }
    const members = membersQuery(db);
    return { db, meta: { label, genome, file, disclosure }, records, cohorts, specs, members };
  } catch (e) {
    db.close();
    throw failed(file, e);
  }
}

/** The error to throw for a failure while a file is read. */
function failed(file: string, error: unknown): unknown {
  // SQLite reads the file's header lazily, so a file that is not a database fails while it is read, not at open.
  return error instanceof Database.SqliteError ? sqliteFailure(file, error) : error;
}

/**
 * Opens a ProteinPaint termdb SQLite file read-only, checks that it has the tables and columns this layer
 * reads, loads its term tree and cohorts, and reads every chartable term into memory as columns (about a
 * second and some 30 MB per million samples and ten terms). Charts never query the file; the sample table
 * reads sample names from it. It blocks the thread while it reads: the server opens its datasets this way
 * before it listens, and {@link openDatasetInBackground} once it serves.
 *
 * @throws DatasetInvalidError naming the file when it is missing, not SQLite, or lacks part of the schema.
 * @example
 * const ds = openDataset({ label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db', disclosure });
 * const chart = ds.barchart('sex', { cohorts: ['ABC'], tier: 'granted', rule: null, beneath: [] });
 * ds.close();
 */
export function openDataset(options: DatasetOptions): TermdbDataset {
  const started = performance.now();
  const p = prepare(options);
  try {
    const large = () =>
      (p.db.prepare('SELECT count(*) FROM sampleidmap').pluck().get() as number) >= PARALLEL_FROM;
    const parallel = (options.parallelLoad ?? large()) ? workerReader(p.meta.file, p.members) : undefined;
    const loaded = loadColumns(p.db, p.meta.file, p.specs, p.members, parallel);
    return createDataset(p.meta, p.db, p.records, p.cohorts, loaded, started);
  } catch (e) {
    p.db.close();
    throw failed(p.meta.file, e);
  }
}

/**
 * As {@link openDataset}, with the columns read on a worker thread while this one goes on with other work: how
 * a server that is answering requests opens the file that replaces a served one. Where no compiled worker is
 * there (running from TypeScript sources) it reads them on this thread. With `signal`, an abort stops the
 * reading and rejects.
 *
 * @throws DatasetInvalidError as openDataset does.
 * @example
 * const next = await openDatasetInBackground({ label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db' });
 */
export async function openDatasetInBackground(
  options: DatasetOptions,
  signal?: AbortSignal,
): Promise<TermdbDataset> {
  const started = performance.now();
  const p = prepare(options);
  try {
    const reading = columnsInWorker(p.meta.file, p.specs, p.members, signal);
    const loaded = reading === undefined ? loadColumns(p.db, p.meta.file, p.specs, p.members) : await reading;
    return createDataset(p.meta, p.db, p.records, p.cohorts, loaded, started);
  } catch (e) {
    p.db.close();
    throw failed(p.meta.file, e);
  }
}

function sqliteFailure(file: string, cause: unknown): DatasetInvalidError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason =
    code === 'SQLITE_NOTADB'
      ? 'it is not an SQLite database'
      : code === 'SQLITE_CORRUPT'
        ? 'the database is damaged'
        : 'the database cannot be read';
  return new DatasetInvalidError(file, reason, { cause });
}

function checkSchema(db: Database.Database, file: string): void {
  const columnsOf = db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)');
  for (const [table, required] of Object.entries(REQUIRED_COLUMNS)) {
    const present = new Set(columnsOf.all(table).map((r) => r.name));
    if (present.size === 0) throw new DatasetInvalidError(file, `table "${table}" is missing`);
    const missing = required.filter((c) => !present.has(c));
    if (missing.length > 0) {
      throw new DatasetInvalidError(file, `table "${table}" lacks column(s) ${missing.join(', ')}`);
    }
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

/** Survival terms are charted only when the file has ProteinPaint's survival table. */
function hasSurvivalTable(db: Database.Database): boolean {
  const columns = db
    .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)')
    .all('survival');
  const names = new Set(columns.map((c) => c.name));
  return ['sample', 'term_id', 'tte', 'exit_code'].every((c) => names.has(c));
}

function loadTerms(db: Database.Database, file: string, survival: boolean): Map<string, TermRecord> {
  const rows = db
    .prepare<[], Record<'id' | 'name' | 'parent_id' | 'jsondata' | 'type' | 'isleaf', unknown>>(
      'SELECT id, name, parent_id, jsondata, type, isleaf FROM terms ORDER BY child_order, id',
    )
    .all();
  const hasChildren = new Set(rows.map((r) => text(r.parent_id)));
  const records = new Map<string, TermRecord>();
  for (const row of rows) {
    const id = text(row.id);
    if (id === null) throw new DatasetInvalidError(file, 'a term has an empty id');
    let json: unknown;
    try {
      json = JSON.parse(String(row.jsondata));
    } catch (cause) {
      throw new DatasetInvalidError(file, `term "${id}" has malformed jsondata`, { cause });
    }
    const data: Json = isObject(json) ? json : {};
    const type: TermType | null = text(row.type) ?? text(data.type);
    const isleaf =
      row.isleaf === null || row.isleaf === undefined
        ? typeof data.isleaf === 'boolean'
          ? data.isleaf
          : !hasChildren.has(id)
        : Number(row.isleaf) === 1;
    const chart = isleaf && type !== null ? chartOf(type, data, survival) : null;
    const term: Term = Object.freeze({
      id,
      name: text(row.name) ?? id,
      type,
      isleaf,
      supported: chart !== null,
    });
    records.set(id, { term, parentId: text(row.parent_id), chart });
  }
  return records;
}

function chartOf(type: string, data: Json, survival: boolean): Chart | null {
  const values = isObject(data.values) ? data.values : {};
  const uncomputable = Object.entries(values)
    .filter(([, v]) => isObject(v) && v.uncomputable === true)
    .map(([k]) => k);
  if (type === 'categorical') {
    const labels = new Map<string, string>();
    for (const [key, v] of Object.entries(values)) {
      labels.set(key, isObject(v) && typeof v.label === 'string' && v.label !== '' ? v.label : key);
    }
    return { kind: 'categorical', labels, uncomputable: new Set(uncomputable) };
  }
  if (type === 'survival') {
    return survival
      ? { kind: 'survival', unit: typeof data.unit === 'string' && data.unit !== '' ? data.unit : null }
      : null;
  }
  const table = SUPPORTED_NUMERIC.get(type);
  if (table === undefined) return null;
  const bins = parseBinConfig(data.bins);
  if (bins === null) return null;
  const excluded = uncomputable.map(Number).filter((n) => Number.isFinite(n));
  return { kind: 'numeric', table, bins, uncomputable: new Set(excluded) };
}

interface CohortRecord extends Cohort {
  readonly members: readonly string[];
}

function loadCohorts(db: Database.Database, file: string): Map<string, CohortRecord> {
  const rows = db
    .prepare<[], Record<'cohort' | 'name' | 'subcohorts', unknown>>(
      'SELECT cohort, name, subcohorts FROM cohorts ORDER BY rowid',
    )
    .all();
  const out = new Map<string, CohortRecord>();
  for (const row of rows) {
    const id = text(row.cohort);
    if (id === null) continue;
    let members: string[] = [];
    if (row.subcohorts !== null && row.subcohorts !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(row.subcohorts));
      } catch (cause) {
        throw new DatasetInvalidError(file, `cohort "${id}" has malformed subcohorts`, { cause });
      }
      if (Array.isArray(parsed)) members = parsed.filter((m): m is string => typeof m === 'string');
    }
    out.set(id, Object.freeze({ id, name: text(row.name) ?? id, members }));
  }
  return out;
}

function checkScope(scope: Scope): void {
  if (typeof scope !== 'object' || scope === null) throw new TypeError('A scope is required.');
  const { cohorts, rule, beneath } = scope;
  if (cohorts !== null && !(Array.isArray(cohorts) && cohorts.every((c) => typeof c === 'string'))) {
    throw new TypeError('scope.cohorts must be an array of cohort ids or null.');
  }
  if (
    rule !== null &&
    !(typeof rule === 'object' && Number.isInteger(rule.threshold) && rule.threshold >= 1)
  ) {
    throw new TypeError('scope.rule must be a disclosure rule or null.');
  }
  if (!Array.isArray(beneath)) throw new TypeError('scope.beneath must list the rules of the lower tiers.');
}

/** A digest of every column's arrays, in term order. */
function digestColumns(columns: ReadonlyMap<string, Column>): string {
  const hash = createHash('sha256');
  for (const id of [...columns.keys()].sort()) {
    hash.update(id);
    for (const array of Object.values(columns.get(id) as Column)) {
      if (ArrayBuffer.isView(array))
        hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  }
  return hash.digest('hex');
}

/** Cells of margins and patterns kept between answers, per dataset: a few megabytes. */
const PATTERN_CACHE_CELLS = 2_000_000;
/** Answers under a rule kept per dataset. */
const ANSWER_CACHE = 256;

function createDataset(
  meta: Pick<TermdbDataset, 'label' | 'genome' | 'file' | 'disclosure'>,
  db: Database.Database,
  records: Map<string, TermRecord>,
  cohortRecords: Map<string, CohortRecord>,
  loaded: ReturnType<typeof loadColumns>,
  started: number,
): TermdbDataset {
  const { space, columns } = loaded;
  const children = new Map<string | null, Term[]>();
  for (const r of records.values()) {
    const list = children.get(r.parentId) ?? [];
    list.push(r.term);
    children.set(r.parentId, list);
  }
  const cohortList: Cohort[] = [...cohortRecords.values()].map(({ id, name }) => ({ id, name }));
  const grantMask = cohortMasks(space.size, loaded.cohorts);
  const namesOf = db.prepare<[string], [number, unknown]>(
    'SELECT id, name FROM sampleidmap WHERE id IN (SELECT value FROM json_each(?))',
  );
  namesOf.raw(true);
  let bytes = 0;
  for (const column of columns.values()) {
    for (const array of Object.values(column)) if (ArrayBuffer.isView(array)) bytes += array.byteLength;
  }
  for (const mask of loaded.cohorts.values()) bytes += mask.byteLength;
  bytes += space.ids.byteLength + (space.byId?.byteLength ?? 0);
  const openMilliseconds = Math.round(performance.now() - started);

  function expandCohorts(requested: readonly string[]): string[] {
    const out = new Set<string>();
    const visit = (id: string) => {
      if (out.has(id)) return;
      out.add(id);
      for (const m of cohortRecords.get(id)?.members ?? []) visit(m);
    };
    requested.forEach(visit);
    return [...out];
  }

  /** The term of a request parameter, with its column; refused in the parameter's name when it cannot serve. */
  function resolve(param: string, termId: string): { record: TermRecord; column: Column } {
    const record = typeof termId === 'string' ? records.get(termId) : undefined;
    if (record === undefined) throw new TermNotFoundError(String(termId));
    const column = columns.get(record.term.id);
    if (record.chart === null || column === undefined)
      throw new TermNotSupportedError(record.term.id, record.term.type);
    return { record, column };
  }

  /** A categorical or numeric term as a chart dimension, within a limit on its categories or bins. */
  function dimension(param: string, termId: string, limit: number | null): Dimension {
    const { record, column } = resolve(param, termId);
    if (column.kind === 'survival') {
      throw new TermWrongTypeError(param, `${param} must be a categorical, integer or float term.`);
    }
    const dim = dimensionOf(record.term, column);
    const values = column.kind === 'categorical' ? usedCategories(column) : dim.size;
    if (limit !== null && values > limit) {
      throw new TooManyValuesError(
        param,
        `${param} has ${values} categories or bins; at most ${limit} can be shown.`,
      );
    }
    return dim;
  }

  const used = new Map<CategoricalColumn, number>();
  function usedCategories(column: CategoricalColumn): number {
    let n = used.get(column);
    if (n === undefined) {
      const seen = new Uint8Array(column.keys.length + 1);
      for (const c of column.codes) seen[c] = 1;
      n = seen.reduce((a, b) => a + b, 0) - (seen[0] as number);
      used.set(column, n);
    }
    return n;
  }

  /** A column a filter may name: only what the caller could chart, a leaf of the tree with a column. */
  const filterable = (id: string) => {
    const record = records.get(id);
    return record?.term.isleaf === true ? columns.get(id) : undefined;
  };

  /** The samples a request counts: the grant's cohorts, narrowed by the filter. */
  function selection(scope: Scope, filter: Filter | undefined): Mask {
    checkScope(scope);
    const base = grantMask(scope.cohorts === null ? null : expandCohorts(scope.cohorts));
    return applyFilter(space.size, base, compileFilter(filter ?? [], filterable));
  }

  const patterns = createPatternCache(PATTERN_CACHE_CELLS);
  // The key of the noise some rules add: a digest of every column, so the same on every replica of the file and
  // unknown to anyone without it. Worked out once, when a rule with noise first needs it.
  let dataDigest: string | undefined;
  const noiseKey = () => (dataDigest ??= digestColumns(columns));

  /** The caller's side of an answer under its rule: its cohorts' samples, the chain of rules, the caches. */
  function controlled(scope: Scope & { rule: DisclosureRule }): ControlledScope {
    checkScope(scope);
    const cohorts =
      scope.cohorts === null
        ? null
        : expandCohorts(scope.cohorts)
            .filter((id) => loaded.cohorts.has(id))
            .sort();
    return {
      size: space.size,
      mask: grantMask(cohorts),
      scopeKey: cohorts === null ? '*' : JSON.stringify(cohorts),
      rules: [...scope.beneath, scope.rule],
      rule: scope.rule,
      cache: patterns,
      noiseKey,
    };
  }

  /** A filter under a rule: checked as every filter is, then as dimensions of the answer's table. */
  function ruledFilter(filter: Filter | undefined) {
    compileFilter(filter ?? [], filterable);
    return filterDims(filter ?? [], filterable);
  }

  // Answers under a rule, kept for the next identical request: working out a rule's tables is the costly part, and
  // an answer depends on nothing but the request, the scope and this copy of the dataset.
  const answers = new Map<string, unknown>();
  function remember<T>(kind: string, termId: string, scope: Scope, options: ChartOptions, make: () => T): T {
    if (scope.rule === null) return make();
    const key = JSON.stringify([kind, termId, options.term2, options.term0, options.filter, scope]);
    const known = answers.get(key) as T | undefined;
    if (known !== undefined) return known;
    const made = make();
    if (answers.size >= ANSWER_CACHE) answers.delete(answers.keys().next().value as string);
    answers.set(key, made);
    return made;
  }

  const survivals = new Map<string, SurvivalDim>();
  const hasRule = (scope: Scope): scope is Scope & { rule: DisclosureRule } => scope.rule !== null;
  const disclosed = (scope: Scope) => ({ disclosure: { tier: scope.tier, rule: scope.rule } });

  /** Rows cannot be controlled cell by cell; the access decision never sends a ruled scope here. */
  function rowsAllowed(scope: Scope): void {
    if (scope.rule !== null) throw new TypeError('Sample rows are never served under a disclosure rule.');
  }

  function distinct(param: string, ...ids: (string | undefined)[]): void {
    const given = ids.filter((id) => id !== undefined);
    if (new Set(given).size !== given.length)
      throw new TermWrongTypeError(param, `${param} must differ from the other terms of the chart.`);
  }

  const echo = (scope: Scope, filter: Filter | undefined) => ({
    cohorts: scope.cohorts === null ? null : [...scope.cohorts],
    filter: [...(filter ?? [])],
  });

  /**
   * Sample numbers with a value (`has[i] !== 0`) within `mask`, in sample id order: calls `take` for each, from
   * the `skip`-th on, until it returns false; returns how many there are in all.
   */
  function rows(mask: Mask, has: Codes, skip: number, take: (i: number) => boolean): number {
    return scan(mask, has, 0, skip, take, true).total;
  }

  /**
   * As {@link rows}, from position `from` of the id order; says where the taking stopped, to resume there. Without
   * `countAll` it stops there too.
   */
  function scan(
    mask: Mask,
    has: Codes,
    from: number,
    skip: number,
    take: (i: number) => boolean,
    countAll: boolean,
  ): { total: number; next: number } {
    const byId = space.byId;
    let total = 0;
    let taking = true;
    let next = space.size;
    for (let k = from; k < space.size; k++) {
      const i = byId === null ? k : (byId[k] as number);
      if (has[i] === 0 || (mask !== null && mask[i] !== 1)) continue;
      if (taking && total >= skip) {
        taking = take(i);
        if (!taking) {
          next = k + 1;
          if (!countAll) return { total: total + 1, next };
        }
      }
      total++;
    }
    return { total, next };
  }

  /** A column of the sample table: which samples have a value, and the value as a researcher reads it. */
  function tableColumn(termId: string): { term: Term; has: Codes; value: (i: number) => string | number } {
    const { record, column } = resolve('term', termId);
    if (column.kind === 'survival') {
      throw new TermWrongTypeError('term', 'The sample table shows categorical, integer and float terms.');
    }
    if (column.kind === 'categorical') {
      const { codes, labels } = column;
      return { term: record.term, has: codes, value: (i) => labels[(codes[i] as number) - 1] as string };
    }
    const { ranks, values } = column;
    return { term: record.term, has: ranks, value: (i) => values[(ranks[i] as number) - 1] as number };
  }

  /** The rows of the sample table for these samples: each one's name and its value in the column. */
  function tableRows(column: ReturnType<typeof tableColumn>, samples: readonly number[]): SampleRow[] {
    const sampleNames = names(samples);
    return samples.map((i, k) => ({ sample: sampleNames[k] as string, value: column.value(i) }));
  }

  /** Sample names from sampleidmap; a sample it does not list is shown by its numeric id. */
  function names(samples: readonly number[]): string[] {
    const ids = samples.map((i) => space.ids[i] as number);
    const found = new Map(namesOf.all(JSON.stringify(ids)).map(([id, name]) => [id, name]));
    return ids.map((id) => {
      const name = found.get(id);
      return name === null || name === undefined ? String(id) : String(name);
    });
  }

  return {
    ...meta,

    terms(parent) {
      if (parent !== null && !records.has(parent)) throw new TermNotFoundError(parent);
      return [...(children.get(parent) ?? [])];
    },

    term(id) {
      return records.get(id)?.term;
    },

    cohorts() {
      return cohortList.map((c) => ({ ...c }));
    },

    barchart(termId, scope, options = {}) {
      return remember('barchart', termId, scope, options, () => {
        const { term2, term0, filter } = options;
        const d1 = dimension('term', termId, null);
        distinct(term0 !== undefined ? 'term0' : 'term2', termId, term2, term0);
        const d2 = term2 === undefined ? null : dimension('term2', term2, LIMITS.maxOverlayValues);
        const d0 = term0 === undefined ? null : dimension('term0', term0, LIMITS.maxOverlayValues);
        if (
          (d2 !== null || d0 !== null) &&
          d1.size * (d2?.size ?? 1) * (d0?.size ?? 1) > LIMITS.maxChartCells
        ) {
          throw new TooManyValuesError(
            'term',
            `This chart would have more than ${LIMITS.maxChartCells} cells.`,
          );
        }
        const counts = hasRule(scope)
          ? controlledBarchart(controlled(scope), d1, d2, d0, ruledFilter(filter))
          : barchartCounts(space.size, selection(scope, filter), d1, d2, d0);
        return {
          term: d1.term,
          ...counts,
          term2: d2?.term ?? null,
          term0: d0?.term ?? null,
          ...echo(scope, filter),
          ...disclosed(scope),
        };
      });
    },

    samples(termId, scope, { page, pageSize }, filter) {
      checkScope(scope);
      rowsAllowed(scope);
      if (!Number.isSafeInteger(page) || page < 1) throw new RangeError('page must be an integer from 1.');
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > LIMITS.maxPageSize) {
        throw new RangeError(`pageSize must be an integer from 1 to ${LIMITS.maxPageSize}.`);
      }
      const offset = (page - 1) * pageSize;
      if (!Number.isSafeInteger(offset)) throw new RangeError('page is out of range.');
      const column = tableColumn(termId);
      const mask = selection(scope, filter);
      const picked: number[] = [];
      const total = rows(mask, column.has, offset, (i) => picked.push(i) < pageSize);
      return {
        term: column.term,
        rows: tableRows(column, picked),
        page,
        pageSize,
        total,
        filter: [...(filter ?? [])],
      };
    },

    summary(termId, scope, options = {}) {
      return remember('summary', termId, scope, options, () => {
        const { term2, filter } = options;
        const { record, column } = resolve('term', termId);
        if (column.kind !== 'numeric')
          throw new TermWrongTypeError('term', 'A summary needs an integer or float term.');
        distinct('term2', termId, term2);
        const group = term2 === undefined ? null : dimension('term2', term2, LIMITS.maxOverlayValues);
        const integer = record.term.type === 'integer';
        const exact = summaryStats(
          space.size,
          selection(scope, filter),
          column,
          group,
          hasRule(scope),
          integer,
        );
        let stats = exact;
        if (hasRule(scope)) {
          stats = controlledSummary(
            controlled(scope),
            exact,
            binDim(record.term.id, column),
            group,
            ruledFilter(filter),
          );
        }
        return {
          term: record.term,
          term2: group?.term ?? null,
          groups: stats.groups,
          density: stats.density,
          ...echo(scope, filter),
          ...disclosed(scope),
        };
      });
    },

    survival(termId, scope, options = {}) {
      return remember('survival', termId, scope, options, () => {
        const { term2, filter } = options;
        const { record, column } = resolve('term', termId);
        if (column.kind !== 'survival' || record.chart?.kind !== 'survival') {
          throw new TermWrongTypeError('term', 'A survival chart needs a survival term.');
        }
        distinct('term2', termId, term2);
        const group = term2 === undefined ? null : dimension('term2', term2, LIMITS.maxSurvivalSeries);
        let stats: Omit<SurvivalStats, 'codes'>;
        if (hasRule(scope)) {
          let time = survivals.get(record.term.id);
          if (time === undefined) survivals.set(record.term.id, (time = survivalDim(record.term.id, column)));
          stats = controlledSurvival(controlled(scope), time, group, ruledFilter(filter));
          // The exact log-rank test, when every curve's n is shown: a statistic of groups of at least the
          // threshold, as a summary's quartiles are.
          if (stats.series.length > 1 && stats.series.every((s) => s.n !== null)) {
            const exact = survivalStats(space.size, selection(scope, filter), column, group);
            stats = { ...stats, logRank: exact.logRank };
          }
        } else stats = survivalStats(space.size, selection(scope, filter), column, group);
        return {
          term: record.term,
          term2: group?.term ?? null,
          unit: record.chart.unit,
          series: stats.series,
          atRiskTimes: stats.atRiskTimes,
          logRank: stats.logRank,
          ...echo(scope, filter),
          ...disclosed(scope),
        };
      });
    },

    search(query) {
      return searchTerms(records, query);
    },

    sampleRows(termId, scope, filter) {
      checkScope(scope);
      rowsAllowed(scope);
      const column = tableColumn(termId);
      const mask = selection(scope, filter);
      const total = rows(mask, column.has, 0, () => false);
      return {
        term: column.term,
        total,
        *batches(batchSize = SAMPLE_BATCH) {
          if (!Number.isInteger(batchSize) || batchSize < 1)
            throw new RangeError('batchSize must be positive.');
          let from = 0;
          while (from < space.size) {
            const batch: number[] = [];
            from = scan(mask, column.has, from, 0, (i) => batch.push(i) < batchSize, false).next;
            if (batch.length === 0) return;
            yield tableRows(column, batch);
          }
        },
      };
    },

    stats() {
      return { samples: space.size, bytes, openMilliseconds, loadThreads: loaded.threads };
    },

    close() {
      db.close();
    },
  };
}
