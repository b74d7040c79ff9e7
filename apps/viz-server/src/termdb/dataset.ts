import type { Scope } from '@pp-embed/access-policy';
import {
  type Bar,
  type BarchartResult,
  type Cohort,
  LIMITS,
  type SampleRow,
  type SamplesResult,
  type Term,
  type TermType,
} from '@pp-embed/viz-api';
import Database from 'better-sqlite3';

import { binRanges, layoutBins, MAX_BINS, parseBinConfig } from './bins.js';
import type { BinConfig } from './bins.js';
import { DatasetInvalidError, TermNotFoundError, TermNotSupportedError } from './errors.js';
import { COHORT_TERM_ID, REQUIRED_COLUMNS } from './schema.js';

/** One page of sample rows. */
export interface Page {
  /** 1-based. */
  readonly page: number;
  /** 1 to `LIMITS.maxPageSize` of the wire contract. */
  readonly pageSize: number;
}

/**
 * Every row of a term's sample table, read a batch at a time: what a CSV or TSV answer streams, so that an export
 * of a million samples holds one batch in memory, never the table.
 */
export interface SampleRows {
  readonly term: Term;
  /** How many rows the iteration yields, counted when the rows were asked for. */
  readonly total: number;
  /**
   * The rows in sample id order, at most `batchSize` (default {@link SAMPLE_BATCH}) at a time; each batch is read
   * from the file when the iteration reaches it, and the file is free for other requests between batches.
   */
  batches(batchSize?: number): Generator<readonly SampleRow[], void, undefined>;
}

/** Rows per batch of {@link TermdbDataset.sampleRows}: a few milliseconds of work between yields to other requests. */
export const SAMPLE_BATCH = 5000;

export interface DatasetOptions {
  /** The dslabel clients ask for. */
  readonly label: string;
  readonly genome: string;
  /** Path of the termdb SQLite file; opened read-only and never written. */
  readonly file: string;
  /** Smallest count shown to callers whose scope suppresses small cells; absent or null: no suppression. */
  readonly minSampleSize?: number | null;
}

export interface TermdbDataset {
  readonly label: string;
  readonly genome: string;
  readonly file: string;
  readonly minSampleSize: number | null;
  /** Children of `parent` in tree order, or the root terms when null. Throws TermNotFoundError for an unknown parent. */
  terms(parent: string | null): Term[];
  /** The term, or undefined for an unknown id (`__proto__` included). */
  term(id: string): Term | undefined;
  cohorts(): Cohort[];
  /**
   * Samples per category (categories with at least one sample, in the order the term lists them) or per bin
   * (every bin of the term's default binning, in bin order), within the caller's scope. Values the term marks
   * `uncomputable` are left out. Throws TermNotFoundError or TermNotSupportedError.
   */
  barchart(termId: string, scope: Scope): BarchartResult;
  /**
   * The samples with a computable value for the term, within the caller's cohorts, in sample id order.
   * `scope.suppressBelow` does not apply: rows cannot be suppressed cell by cell, so a caller whose counts
   * are suppressed must not reach this method at all (the samples route needs a token).
   */
  samples(termId: string, scope: Scope, page: Page): SamplesResult;
  /**
   * Every row of {@link TermdbDataset.samples}: the same rows, order and rule on suppression, for a streamed
   * export. Throws TermNotFoundError or TermNotSupportedError at once; rows are read as they are iterated.
   */
  sampleRows(termId: string, scope: Scope): SampleRows;
  close(): void;
}

type AnnoTable = 'anno_categorical' | 'anno_integer' | 'anno_float';

interface TermRecord {
  readonly term: Term;
  readonly parentId: string | null;
  readonly chart: Chart | null;
}

type Chart =
  | {
      readonly kind: 'categorical';
      readonly table: 'anno_categorical';
      /** Category key to label, in the order the dataset lists them. */
      readonly labels: ReadonlyMap<string, string>;
      /** JSON array of keys marked uncomputable, bound as-is on every query. */
      readonly excluded: string;
    }
  | {
      readonly kind: 'numeric';
      readonly table: 'anno_integer' | 'anno_float';
      readonly bins: BinConfig;
      readonly excluded: string;
    };

const SUPPORTED_NUMERIC: ReadonlyMap<string, 'anno_integer' | 'anno_float'> = new Map([
  ['integer', 'anno_integer'],
  ['float', 'anno_float'],
]);

// A sample is in cohort C when any of the places ProteinPaint datasets record membership says so:
//   - subcohort_samples has (C, sample);
//   - the sample's multivalue `subcohort` annotation (anno_multivalue, e.g. {"ABC":1,"XYZ":1}) has key C;
//   - the sample's categorical `subcohort` annotation (older datasets) is C.
// A combined cohort (cohorts.subcohorts = ["ABC","XYZ"]) holds the samples of any of its members; the
// caller's list is expanded before it is bound as @cohorts. TermdbTest records membership in the
// multivalue term only (its subcohort_samples is empty); the generated demo dataset uses subcohort_samples.
const MEMBER_SOURCES = [
  {
    present: 'SELECT 1 FROM subcohort_samples LIMIT 1',
    members:
      'SELECT sample FROM subcohort_samples WHERE subcohort IN (SELECT value FROM json_each(@cohorts))',
  },
  {
    present: `SELECT 1 FROM anno_multivalue WHERE term_id = '${COHORT_TERM_ID}' LIMIT 1`,
    members: `
      SELECT m.sample FROM anno_multivalue AS m,
             json_each(CASE WHEN json_valid(m.value) THEN m.value ELSE '{}' END) AS j
       WHERE m.term_id = '${COHORT_TERM_ID}' AND j.key IN (SELECT value FROM json_each(@cohorts))`,
  },
  {
    present: `SELECT 1 FROM anno_categorical WHERE term_id = '${COHORT_TERM_ID}' LIMIT 1`,
    members: `
      SELECT sample FROM anno_categorical
       WHERE term_id = '${COHORT_TERM_ID}' AND value IN (SELECT value FROM json_each(@cohorts))`,
  },
] as const;

/**
 * The membership query for this file: the rule above, with only the sources that hold rows, since merging
 * an empty source into a large one still costs a sort of the large one.
 */
function membersQuery(db: Database.Database): string {
  const present = MEMBER_SOURCES.filter((s) => db.prepare(s.present).get() !== undefined);
  return present.length === 0 ? 'SELECT NULL WHERE 0' : present.map((s) => s.members).join('\nUNION\n');
}

const NOT_EXCLUDED = 'a.value NOT IN (SELECT value FROM json_each(@excluded))';

type Statement<P, R> = Database.Statement<[P], R>;
/** One statement per query and scope, prepared at open: [unrestricted, restricted to @cohorts]. */
type Pair<P extends object, R> = readonly [Statement<P, R>, Statement<P, R>];

interface TermParams {
  term: string;
  excluded: string;
  cohorts?: string;
}

/** Whether an index on `table` starts with `columns`, in that order. */
function hasIndexOn(db: Database.Database, table: string, columns: readonly string[]): boolean {
  const indexes = db
    .prepare<[string], { name: string; partial: number }>('SELECT name, partial FROM pragma_index_list(?)')
    .all(table);
  const columnsOf = db.prepare<[string], { name: string | null }>(
    'SELECT name FROM pragma_index_info(?) ORDER BY seqno',
  );
  return indexes.some((index) => {
    if (index.partial !== 0) return false;
    const indexed = columnsOf.all(index.name);
    return columns.every((c, i) => indexed[i]?.name === c);
  });
}

function prepareStatements(db: Database.Database) {
  // The unary + keeps the planner from driving the query by the member list (a seek per member): probing
  // the materialised member set while walking the term's own index range measured faster on large files.
  const scope = `AND +a.sample IN (${membersQuery(db)})`;
  const both = <P extends object, R>(sql: (scoped: string) => string): Pair<P, R> => [
    db.prepare<[P], R>(sql('')),
    db.prepare<[P], R>(sql(scope)),
  ];
  const perTable = <P extends object, R>(
    sql: (table: AnnoTable, scoped: string) => string,
  ): Record<AnnoTable, Pair<P, R>> => ({
    anno_categorical: both((scoped) => sql('anno_categorical', scoped)),
    anno_integer: both((scoped) => sql('anno_integer', scoped)),
    anno_float: both((scoped) => sql('anno_float', scoped)),
  });
  const binValues = Array.from({ length: MAX_BINS }, (_, i) => `(${i}, @lo${i}, @hi${i})`).join(', ');

  return {
    categoryCounts: both<TermParams, { key: unknown; n: number }>(
      hasIndexOn(db, 'anno_categorical', ['term_id', 'value'])
        ? // With a (term_id, value) index: hop from one distinct value to the next by index seeks, then count
          // each value's index range. About twice as fast as GROUP BY on a million rows, which steps an
          // aggregate on every row.
          (scoped) => `
            WITH RECURSIVE keys(k) AS (
              SELECT min(value) FROM anno_categorical WHERE term_id = @term
              UNION ALL
              SELECT (SELECT min(value) FROM anno_categorical WHERE term_id = @term AND value > keys.k)
                FROM keys WHERE keys.k IS NOT NULL)
            SELECT k AS key,
                   (SELECT count(*) FROM anno_categorical AS a
                     WHERE a.term_id = @term AND a.value = keys.k ${scoped}) AS n
              FROM keys
             WHERE k IS NOT NULL AND k NOT IN (SELECT value FROM json_each(@excluded))`
        : // Without one (TermdbTest has single-column indexes only), seeking the next value could scan the
          // whole table for each category, so one grouped pass over the term's rows is the safe plan.
          (scoped) => `
            SELECT a.value AS key, count(*) AS n FROM anno_categorical AS a
             WHERE a.term_id = @term AND ${NOT_EXCLUDED} ${scoped}
             GROUP BY a.value`,
    ),
    // The largest computable value, read backwards along the (term_id, value) index where there is one.
    numericMax: perTable<TermParams, { max: number }>(
      (table, scoped) => `
        SELECT a.value AS max FROM ${table} AS a
         WHERE a.term_id = @term AND ${NOT_EXCLUDED} ${scoped}
         ORDER BY a.value DESC LIMIT 1`,
    ),
    // Each bin is counted over one index range on (term_id, value), less the uncomputable values inside it
    // (a few index seeks), rather than testing every row against the uncomputable list. The bins come in as
    // a fixed-size VALUES list so that one prepared statement serves any layout (unused slots are empty
    // ranges); a scalar count per bin, rather than a join grouped by bin, keeps SQLite from sorting every
    // row into a temporary tree.
    binCounts: perTable<TermParams & Record<string, number>, { i: number; n: number }>(
      (table, scoped) => `
        WITH b(i, lo, hi) AS (VALUES ${binValues})
        SELECT b.i AS i,
               (SELECT count(*) FROM ${table} AS a
                 WHERE a.term_id = @term AND a.value >= b.lo AND a.value < b.hi ${scoped})
             - (SELECT count(*) FROM ${table} AS a
                 WHERE a.term_id = @term AND a.value IN (SELECT value FROM json_each(@excluded))
                   AND a.value >= b.lo AND a.value < b.hi ${scoped}) AS n
          FROM b WHERE b.lo < b.hi`,
    ),
    // A sample missing from sampleidmap is listed by its numeric id rather than dropped, so that the page
    // and the total always agree without joining a million rows just to count them.
    samplePage: perTable<TermParams & { limit: number; offset: number }, { sample: unknown; value: unknown }>(
      (table, scoped) => `
        SELECT coalesce(s.name, a.sample) AS sample, a.value AS value
          FROM ${table} AS a LEFT JOIN sampleidmap AS s ON s.id = a.sample
         WHERE a.term_id = @term AND ${NOT_EXCLUDED} ${scoped}
         ORDER BY a.sample LIMIT @limit OFFSET @offset`,
    ),
    // The page after a sample id, by the (term_id, sample) primary key: every batch of an export is one index
    // range from where the last ended, however deep into the table, and the file is free between batches.
    sampleBatch: perTable<
      TermParams & { after: number; limit: number },
      { id: number; sample: unknown; value: unknown }
    >(
      (table, scoped) => `
        SELECT a.sample AS id, coalesce(s.name, a.sample) AS sample, a.value AS value
          FROM ${table} AS a LEFT JOIN sampleidmap AS s ON s.id = a.sample
         WHERE a.term_id = @term AND a.sample > @after AND ${NOT_EXCLUDED} ${scoped}
         ORDER BY a.sample LIMIT @limit`,
    ),
    // Rows less uncomputable rows, so that each part is one index range rather than a test on every row.
    sampleCount: perTable<TermParams, { n: number }>(
      (table, scoped) => `
        SELECT (SELECT count(*) FROM ${table} AS a WHERE a.term_id = @term ${scoped})
             - (SELECT count(*) FROM ${table} AS a
                 WHERE a.term_id = @term AND a.value IN (SELECT value FROM json_each(@excluded)) ${scoped}) AS n`,
    ),
  };
}

/**
 * Opens a ProteinPaint termdb SQLite file read-only, checks that it has the tables and columns this layer
 * reads, loads its term tree and cohorts, and prepares every query once.
 *
 * @throws DatasetInvalidError naming the file when it is missing, not SQLite, or lacks part of the schema.
 * @example
 * const ds = openDataset({ label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db', minSampleSize: 5 });
 * const chart = ds.barchart('sex', { cohorts: ['ABC'], suppressBelow: 5 });
 * ds.close();
 */
export function openDataset(options: DatasetOptions): TermdbDataset {
  const { label, genome, file } = options;
  const minSampleSize = options.minSampleSize ?? null;
  if (minSampleSize !== null && !(Number.isInteger(minSampleSize) && minSampleSize > 0)) {
    throw new RangeError('minSampleSize must be a positive integer or null.');
  }

  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new DatasetInvalidError(file, 'the file does not exist or cannot be opened', { cause });
  }
  try {
    checkSchema(db, file);
    const records = loadTerms(db, file);
    const cohortList = loadCohorts(db, file);
    const statements = prepareStatements(db);
    return createDataset({ label, genome, file, minSampleSize }, db, records, cohortList, statements);
  } catch (e) {
    db.close();
    // SQLite reads the file's header lazily, so a file that is not a database fails here, not at open.
    if (e instanceof Database.SqliteError) throw sqliteFailure(file, e);
    throw e;
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

function loadTerms(db: Database.Database, file: string): Map<string, TermRecord> {
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
    const chart = isleaf && type !== null ? chartOf(type, data) : null;
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

function chartOf(type: string, data: Json): Chart | null {
  const values = isObject(data.values) ? data.values : {};
  const uncomputable = Object.entries(values)
    .filter(([, v]) => isObject(v) && v.uncomputable === true)
    .map(([k]) => k);
  if (type === 'categorical') {
    const labels = new Map<string, string>();
    for (const [key, v] of Object.entries(values)) {
      labels.set(key, isObject(v) && typeof v.label === 'string' && v.label !== '' ? v.label : key);
    }
    return { kind: 'categorical', table: 'anno_categorical', labels, excluded: JSON.stringify(uncomputable) };
  }
  const table = SUPPORTED_NUMERIC.get(type);
  if (table === undefined) return null;
  const bins = parseBinConfig(data.bins);
  if (bins === null) return null;
  const excluded = uncomputable.map(Number).filter((n) => Number.isFinite(n));
  return { kind: 'numeric', table, bins, excluded: JSON.stringify(excluded) };
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

/** One row of the sample table: the sample's name, and the category label or the number. */
function sampleRow(chart: Chart, row: { sample: unknown; value: unknown }): SampleRow {
  const sample = String(row.sample);
  if (chart.kind === 'categorical') {
    const key = String(row.value);
    return { sample, value: chart.labels.get(key) ?? key };
  }
  return { sample, value: Number(row.value) };
}

function checkScope(scope: Scope): void {
  if (typeof scope !== 'object' || scope === null) throw new TypeError('A scope is required.');
  const { cohorts, suppressBelow } = scope;
  if (cohorts !== null && !(Array.isArray(cohorts) && cohorts.every((c) => typeof c === 'string'))) {
    throw new TypeError('scope.cohorts must be an array of cohort ids or null.');
  }
  if (suppressBelow !== null && !(typeof suppressBelow === 'number' && suppressBelow >= 0)) {
    throw new TypeError('scope.suppressBelow must be a non-negative number or null.');
  }
}

function createDataset(
  meta: Pick<TermdbDataset, 'label' | 'genome' | 'file' | 'minSampleSize'>,
  db: Database.Database,
  records: Map<string, TermRecord>,
  cohortRecords: Map<string, CohortRecord>,
  st: ReturnType<typeof prepareStatements>,
): TermdbDataset {
  const children = new Map<string | null, Term[]>();
  for (const r of records.values()) {
    const list = children.get(r.parentId) ?? [];
    list.push(r.term);
    children.set(r.parentId, list);
  }
  const cohortList: Cohort[] = [...cohortRecords.values()].map(({ id, name }) => ({ id, name }));

  /** Binds the scope: the expanded cohort list, or nothing for an unrestricted caller. */
  function scoped<P extends object, R>(pair: Pair<P, R>, scope: Scope, params: P): [Statement<P, R>, P] {
    if (scope.cohorts === null) return [pair[0], params];
    return [pair[1], { ...params, cohorts: JSON.stringify(expandCohorts(scope.cohorts)) }];
  }

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

  function chartable(termId: string): TermRecord & { chart: Chart } {
    const record = typeof termId === 'string' ? records.get(termId) : undefined;
    if (record === undefined) throw new TermNotFoundError(String(termId));
    if (record.chart === null) throw new TermNotSupportedError(record.term.id, record.term.type);
    return record as TermRecord & { chart: Chart };
  }

  /** A term's sample table: its chart, the query parameters, and how many rows the scope holds. */
  function sampleTable(termId: string, scope: Scope) {
    const { term, chart } = chartable(termId);
    const params: TermParams = { term: term.id, excluded: chart.excluded };
    const [countStmt, countParams] = scoped(st.sampleCount[chart.table], scope, params);
    return { term, chart, params, total: countStmt.get(countParams)?.n ?? 0 };
  }

  function bar(key: string, label: string, n: number, suppressBelow: number | null): Bar {
    const suppressed = suppressBelow !== null && n > 0 && n < suppressBelow;
    return { key, label, count: suppressed ? null : n, suppressed };
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

    barchart(termId, scope) {
      checkScope(scope);
      const { term, chart } = chartable(termId);
      const params: TermParams = { term: term.id, excluded: chart.excluded };
      const counted: { key: string; label: string; n: number }[] = [];

      if (chart.kind === 'categorical') {
        const [stmt, p] = scoped(st.categoryCounts, scope, params);
        const byKey = new Map(stmt.all(p).map((r) => [String(r.key), r.n]));
        // Categories in the order the dataset lists them, then any unlisted ones by key: never by count,
        // which would hint at the size of suppressed cells.
        const unlisted = [...byKey.keys()].filter((k) => !chart.labels.has(k)).sort();
        for (const key of [...chart.labels.keys(), ...unlisted]) {
          const n = byKey.get(key);
          if (n !== undefined && n > 0) counted.push({ key, label: chart.labels.get(key) ?? key, n });
        }
      } else {
        const [maxStmt, maxParams] = scoped(st.numericMax[chart.table], scope, params);
        const max = maxStmt.get(maxParams)?.max ?? null;
        const bins = layoutBins(chart.bins, max);
        const ranges = binRanges(bins);
        const bounds: Record<string, number> = {};
        for (let i = 0; i < MAX_BINS; i++) {
          bounds[`lo${i}`] = ranges[i]?.lo ?? 0;
          bounds[`hi${i}`] = ranges[i]?.hi ?? 0;
        }
        const [binStmt, binParams] = scoped(st.binCounts[chart.table], scope, { ...params, ...bounds });
        const byIndex = new Map(binStmt.all(binParams).map((r) => [r.i, r.n]));
        bins.forEach((b, i) => counted.push({ key: b.label, label: b.label, n: byIndex.get(i) ?? 0 }));
      }

      const bars = counted.map((c) => bar(c.key, c.label, c.n, scope.suppressBelow));
      const anySuppressed = bars.some((b) => b.suppressed);
      return {
        term,
        bars,
        total: anySuppressed ? null : counted.reduce((sum, c) => sum + c.n, 0),
        cohorts: scope.cohorts === null ? null : [...scope.cohorts],
      };
    },

    samples(termId, scope, { page, pageSize }) {
      checkScope(scope);
      if (!Number.isSafeInteger(page) || page < 1) throw new RangeError('page must be an integer from 1.');
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > LIMITS.maxPageSize) {
        throw new RangeError(`pageSize must be an integer from 1 to ${LIMITS.maxPageSize}.`);
      }
      const offset = (page - 1) * pageSize;
      if (!Number.isSafeInteger(offset)) throw new RangeError('page is out of range.');
      const { term, chart, params, total } = sampleTable(termId, scope);
      const [pageStmt, pageParams] = scoped(st.samplePage[chart.table], scope, {
        ...params,
        limit: pageSize,
        offset,
      });
      const rows: SampleRow[] = pageStmt.all(pageParams).map((r) => sampleRow(chart, r));
      return { term, rows, page, pageSize, total };
    },

    sampleRows(termId, scope) {
      checkScope(scope);
      const { term, chart, params, total } = sampleTable(termId, scope);
      const [batchStmt, batchParams] = scoped(st.sampleBatch[chart.table], scope, {
        ...params,
        after: 0,
        limit: 0,
      });
      return {
        term,
        total,
        *batches(batchSize = SAMPLE_BATCH) {
          if (!Number.isInteger(batchSize) || batchSize < 1)
            throw new RangeError('batchSize must be positive.');
          // Below every sample id: ProteinPaint's ids are integers.
          let after = Number.MIN_SAFE_INTEGER;
          for (;;) {
            const read = batchStmt.all({ ...batchParams, after, limit: batchSize });
            if (read.length === 0) return;
            after = Number((read[read.length - 1] as { id: number }).id);
            yield read.map((r) => sampleRow(chart, r));
            if (read.length < batchSize) return;
          }
        },
      };
    },

    close() {
      db.close();
    },
  };
}
