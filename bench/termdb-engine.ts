/**
 * The dataset engine: the SQL a barchart used to run on every request, against the in-memory columns the
 * server now builds when a dataset opens, in one process, on the same generated 1,000,000-sample file.
 *
 * - time to open the dataset (check, read every term into columns) and the memory the columns take;
 * - median ms per barchart, SQL and columns side by side, and the speed-up: unrestricted, restricted to one
 *   cohort (each row checked against the cohort's members: the slow case), and restricted with a filter.
 *
 * The SQL is the query the server ran before the columns: values hopped along the (term_id, value) index, each
 * counted with the members of the cohort probed per row.
 *
 * Run: pnpm build && node --import tsx/esm --conditions=source bench/termdb-engine.ts
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { benchDataset, median, ratio } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.PP_BENCH_ROUNDS ?? 21);

/** The part of the built dataset module this benchmark calls. */
interface Dataset {
  barchart(
    term: string,
    scope: { cohorts: string[] | null; tier: 'granted'; rule: null; beneath: [] },
    options?: { filter?: unknown[] },
  ): { bars: { key: string; count: number | null }[] };
  stats(): { samples: number; bytes: number; openMilliseconds: number };
  close(): void;
}

const MEMBERS =
  'SELECT sample FROM subcohort_samples WHERE subcohort IN (SELECT value FROM json_each(@cohorts))';
const COUNT_BY_VALUE = (scoped: string) => `
  WITH RECURSIVE keys(k) AS (
    SELECT min(value) FROM anno_categorical WHERE term_id = @term
    UNION ALL
    SELECT (SELECT min(value) FROM anno_categorical WHERE term_id = @term AND value > keys.k)
      FROM keys WHERE keys.k IS NOT NULL)
  SELECT k AS key,
         (SELECT count(*) FROM anno_categorical AS a
           WHERE a.term_id = @term AND a.value = keys.k ${scoped}) AS n
    FROM keys
   WHERE k IS NOT NULL AND k NOT IN (SELECT value FROM json_each(@excluded))`;
const FILTER_SQL = `
  AND +a.sample IN (SELECT sample FROM anno_categorical WHERE term_id = 'sex' AND value = '2')
  AND +a.sample IN (SELECT sample FROM anno_integer WHERE term_id = 'agedx' AND value >= 5 AND value < 15)`;

function timeMs(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export async function benchTermdbEngine(): Promise<void> {
  const file = benchDataset(1_000_000);
  console.log('\n# Dataset engine: per-request SQL vs in-memory columns (1,000,000 samples, one process)');
  const rssBefore = process.memoryUsage().rss;
  const module = (await import(pathToFileURL(join(ROOT, 'apps/viz-server/dist/termdb/dataset.js')).href)) as {
    openDataset(options: { label: string; genome: string; file: string; minSampleSize: number }): Dataset;
  };
  const ds = module.openDataset({ label: 'Big', genome: 'hg38', file, minSampleSize: 5 });
  const stats = ds.stats();
  const rss = process.memoryUsage().rss - rssBefore;
  console.log(
    `open (check the file, read every term into columns)${' '.repeat(9)}${stats.openMilliseconds} ms`,
  );
  console.log(
    `columns in memory${' '.repeat(43)}${(stats.bytes / 1e6).toFixed(1)} MB (process RSS +${(rss / 1e6).toFixed(0)} MB)`,
  );

  const db = new Database(file, { readonly: true });
  const unrestricted = db.prepare(COUNT_BY_VALUE(''));
  const restricted = db.prepare(COUNT_BY_VALUE(`AND +a.sample IN (${MEMBERS})`));
  const filtered = db.prepare(COUNT_BY_VALUE(`AND +a.sample IN (${MEMBERS}) ${FILTER_SQL}`));
  const params = { term: 'diaggrp', excluded: '[]', cohorts: '["ALPHA"]' };
  const filter = [
    { term: 'sex', values: ['2'] },
    { term: 'agedx', gte: 5, lt: 15 },
  ];
  const cases = [
    {
      name: 'diagnosis barchart, unrestricted',
      sql: () => unrestricted.all(params),
      columns: () => ds.barchart('diaggrp', { cohorts: null, tier: 'granted', rule: null, beneath: [] }),
    },
    {
      name: 'diagnosis barchart, one cohort',
      sql: () => restricted.all(params),
      columns: () => ds.barchart('diaggrp', { cohorts: ['ALPHA'], tier: 'granted', rule: null, beneath: [] }),
    },
    {
      name: 'diagnosis barchart, one cohort, women aged 5 to 15',
      sql: () => filtered.all(params),
      columns: () =>
        ds.barchart('diaggrp', { cohorts: ['ALPHA'], tier: 'granted', rule: null, beneath: [] }, { filter }),
    },
  ];
  try {
    for (const c of cases) {
      // Both answer the same counts; then alternate rounds so that load from other processes hits both alike.
      const sqlCounts = Object.fromEntries(
        (c.sql() as { key: string; n: number }[]).map((r) => [r.key, r.n]),
      );
      const columnCounts = Object.fromEntries(c.columns().bars.map((b) => [b.key, b.count]));
      for (const [key, n] of Object.entries(columnCounts)) {
        if (sqlCounts[key] !== n)
          throw new Error(`${c.name}: ${key} is ${n} in columns, ${sqlCounts[key]} in SQL`);
      }
      const sql: number[] = [];
      const columns: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        sql.push(timeMs(c.sql));
        columns.push(timeMs(c.columns));
      }
      console.log(
        `${c.name.padEnd(60)} SQL ${median(sql).toFixed(1).padStart(7)} ms   columns ${median(columns).toFixed(1).padStart(6)} ms`,
      );
      console.log(ratio(`  speed-up (SQL / columns)`, median(sql) / median(columns), {}));
    }
  } finally {
    db.close();
    ds.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchTermdbEngine();
