// The reader against demo datasets generated in a temporary folder. Expected counts come from SQL written here.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDataset } from './dataset.js';
import type { TermdbDataset } from './dataset.js';
import { DatasetInvalidError } from './errors.js';
import type { TermdbError } from './errors.js';
import { generateDataset } from './generate.js';
import type { Scope } from '@pp-embed/access-policy';
import type { BarchartResult } from '@pp-embed/viz-api';
import { exact, minSampleSize, ruled } from '../../test/scopes.js';

const ALL: Scope = exact();
const SAMPLES = 2000;

let dir: string;
let file: string;
let ds: TermdbDataset;
let db: Database.Database;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-termdb-'));
  file = join(dir, 'demo.db');
  generateDataset({ file, samples: SAMPLES, seed: 7 });
  ds = openDataset({ label: 'Demo', genome: 'hg38', file, disclosure: minSampleSize(5) });
  db = new Database(file, { readonly: true });
});

afterAll(() => {
  ds?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const supportedTerms = ['sex', 'race', 'diaggrp', 'treatment_arm', 'agedx', 'bmi', 'followup_years'];

function countsOf(chart: BarchartResult): Record<string, number | null> {
  return Object.fromEntries(chart.bars.map((b) => [b.key, b.count]));
}

function sqlCategoryCounts(term: string, where = ''): Record<string, number> {
  const rows = db
    .prepare<[string], { value: string; n: number }>(
      `SELECT value, count(*) AS n FROM anno_categorical WHERE term_id = ? ${where} GROUP BY value`,
    )
    .all(term);
  return Object.fromEntries(rows.filter((r) => r.value !== '-9999').map((r) => [r.value, r.n]));
}

const inCohort = (cohort: string) =>
  `AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = '${cohort}')`;

describe('the generated dataset', () => {
  it('has a term tree of parents grouping supported leaves', () => {
    expect(ds.terms(null).map((t) => [t.id, t.type, t.isleaf])).toEqual([
      ['demographics', null, false],
      ['diagnosis', null, false],
      ['followup', null, false],
    ]);
    expect(ds.terms('diagnosis').map((t) => t.id)).toEqual(['diaggrp', 'treatment']);
    expect(ds.terms('treatment').map((t) => t.id)).toEqual(['treatment_arm']);
    expect(supportedTerms.map((id) => ds.term(id)?.supported)).toEqual(supportedTerms.map(() => true));
  });

  it('has two studies and their combination as cohorts, with counts that match membership', () => {
    expect(ds.cohorts()).toEqual([
      { id: 'ALPHA', name: 'Alpha study' },
      { id: 'BETA', name: 'Beta study' },
      { id: 'ALPHA,BETA', name: 'Alpha + Beta studies' },
    ]);
    const counted = db
      .prepare<[], { cohort: string; stored: number; members: number }>(
        `SELECT c.cohort, c.sample_count AS stored,
                (SELECT count(*) FROM subcohort_samples s WHERE s.subcohort = c.cohort) AS members
           FROM cohorts c WHERE c.subcohorts IS NULL`,
      )
      .all();
    for (const c of counted) expect(c.stored).toBe(c.members);
  });

  it('leaves some values missing', () => {
    for (const [table, term] of [
      ['anno_categorical', 'sex'],
      ['anno_integer', 'agedx'],
      ['anno_float', 'bmi'],
    ] as const) {
      const n = db
        .prepare<[string], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE term_id = ?`)
        .get(term)!.n;
      expect(n, term).toBeGreaterThan(0);
      expect(n, term).toBeLessThan(SAMPLES);
    }
  });
});

describe('determinism', () => {
  function chartsOf(seed: number, name: string) {
    const other = join(dir, name);
    generateDataset({ file: other, samples: SAMPLES, seed });
    const opened = openDataset({ label: 'Other', genome: 'hg38', file: other });
    try {
      return supportedTerms.map((id) => opened.barchart(id, ALL));
    } finally {
      opened.close();
    }
  }

  it('gives the same counts for the same seed', () => {
    expect(chartsOf(7, 'same-seed.db')).toEqual(supportedTerms.map((id) => ds.barchart(id, ALL)));
  });

  it('gives different counts for a different seed', () => {
    expect(chartsOf(8, 'other-seed.db')).not.toEqual(supportedTerms.map((id) => ds.barchart(id, ALL)));
  });
});

describe('categorical barcharts', () => {
  it.each(['sex', 'race', 'diaggrp', 'treatment_arm'])('count %s as SQL on the file does', (term) => {
    const chart = ds.barchart(term, ALL);
    const expected = sqlCategoryCounts(term);
    expect(countsOf(chart)).toEqual(expected);
    expect(chart.total).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
  });

  it('lists categories in the order the term defines, with their labels', () => {
    expect(ds.barchart('sex', ALL).bars.map((b) => [b.key, b.label])).toEqual([
      ['1', 'Male'],
      ['2', 'Female'],
    ]);
  });

  it('leaves out categories marked uncomputable', () => {
    expect(
      db.prepare("SELECT 1 FROM anno_categorical WHERE term_id = 'race' AND value = '-9999'").get(),
    ).toBeDefined();
    expect(ds.barchart('race', ALL).bars.map((b) => b.key)).not.toContain('-9999');
  });
});

describe('cohort restriction', () => {
  it.each(['ALPHA', 'BETA'])('counts only the samples of %s', (cohort) => {
    for (const term of ['diaggrp', 'treatment_arm']) {
      const chart = ds.barchart(term, exact([cohort]));
      expect(countsOf(chart)).toEqual(sqlCategoryCounts(term, inCohort(cohort)));
      expect(chart.cohorts).toEqual([cohort]);
    }
  });

  it('counts a sample in two cohorts once', () => {
    const both = ds.barchart('sex', exact(['ALPHA', 'BETA']));
    expect(both.total).toBe(ds.barchart('sex', ALL).total);
  });

  it('expands a combined cohort to its members', () => {
    const combined = ds.barchart('diaggrp', exact(['ALPHA,BETA']));
    expect(countsOf(combined)).toEqual(countsOf(ds.barchart('diaggrp', ALL)));
  });

  it('restricts numeric bins and sample rows too', () => {
    const scope: Scope = exact(['BETA']);
    const expected = db
      .prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM anno_integer WHERE term_id = 'agedx' ${inCohort('BETA')}`,
      )
      .get()!.n;
    expect(ds.barchart('agedx', scope).total).toBe(expected);
    expect(ds.samples('agedx', scope, { page: 1, pageSize: 10 }).total).toBe(expected);
  });

  it('gives no samples for an empty cohort list', () => {
    const none: Scope = exact([]);
    expect(ds.barchart('race', none)).toMatchObject({ bars: [], total: 0, cohorts: [] });
    expect(ds.barchart('bmi', none).bars.every((b) => b.count === 0)).toBe(true);
    expect(ds.samples('race', none, { page: 1, pageSize: 10 })).toMatchObject({ rows: [], total: 0 });
  });
});

describe('small-cell suppression', () => {
  it('withholds counts below the threshold', () => {
    const open = ds.barchart('race', ALL);
    const nhpi = open.bars.find((b) => b.key === 'NHPI');
    expect(nhpi?.count).toBe(3);

    const suppressed = ds.barchart('race', ruled(5));
    expect(suppressed.bars.find((b) => b.key === 'NHPI')).toEqual({
      key: 'NHPI',
      label: 'Native Hawaiian or Other Pacific Islander',
      count: null,
      suppressed: true,
    });
    for (const bar of suppressed.bars.filter((b) => b.count !== null)) {
      expect(bar.count).toBeGreaterThanOrEqual(5);
      expect(bar.count).toBe(open.bars.find((b) => b.key === bar.key)?.count);
    }
  });

  it('withholds one more count beside the small one, so that the total from another chart cannot give it away', () => {
    const suppressed = ds.barchart('race', ruled(5));
    // With the samples that have no race, the bars add up to the dataset's size, which other answers show: the
    // small count needs a hidden partner (another bar, or those without a race, which no bar shows).
    const all = ds.barchart('sex', ALL).total as number;
    const shownSum = suppressed.bars.reduce((n, b) => n + (b.count ?? 0), 0);
    const withoutRace = all - (ds.barchart('race', ALL).total as number);
    const hiddenBars = suppressed.bars.filter((b) => b.count === null);
    expect(hiddenBars.length >= 2 || withoutRace > 0).toBe(true);
    expect(all - shownSum).not.toBe(3);
  });

  it('shows a count equal to the threshold', () => {
    const at = (threshold: number) =>
      ds.barchart('race', ruled(threshold)).bars.find((b) => b.key === 'NHPI');
    expect(at(3)).toMatchObject({ count: 3, suppressed: false });
    expect(at(4)).toMatchObject({ count: null, suppressed: true });
  });

  it('keeps the total when nothing falls below the threshold', () => {
    const chart = ds.barchart('sex', ruled(5));
    expect(chart.bars.some((b) => b.suppressed)).toBe(false);
    expect(chart.total).toBe(ds.barchart('sex', ALL).total);
  });

  it('suppresses within the cohort, where cells are smaller', () => {
    const chart = ds.barchart('diaggrp', ruled(5, ['BETA']));
    const sql = sqlCategoryCounts('diaggrp', inCohort('BETA'));
    for (const bar of chart.bars) {
      const n = sql[bar.key]!;
      expect(bar.suppressed, bar.key).toBe(n < 5);
      // A bar that is not small is shown, or withheld (null, not suppressed) to protect a small one.
      if (n >= 5 && bar.count !== null) expect(bar.count, bar.key).toBe(n);
      if (n < 5) expect(bar.count, bar.key).toBeNull();
    }
  });
});

describe('numeric bins', () => {
  it('bins agedx by its regular bins, capped by last_bin', () => {
    const chart = ds.barchart('agedx', ALL);
    expect(chart.bars.map((b) => b.label)).toEqual(['<5', '5 to <10', '10 to <15', '15 to <20', '≥20']);
    const expected = db
      .prepare<[], { bin: number; n: number }>(
        `SELECT CASE WHEN value < 5 THEN 0 WHEN value < 10 THEN 1 WHEN value < 15 THEN 2
                     WHEN value < 20 THEN 3 ELSE 4 END AS bin, count(*) AS n
           FROM anno_integer WHERE term_id = 'agedx' GROUP BY bin ORDER BY bin`,
      )
      .all();
    expect(chart.bars.map((b) => b.count)).toEqual(expected.map((r) => r.n));
  });

  it('bins bmi by its custom bins, in bin order', () => {
    const chart = ds.barchart('bmi', ALL);
    expect(chart.bars.map((b) => b.label)).toEqual(['<18.5', '18.5 to <25', '25 to <30', '≥30']);
    const expected = db
      .prepare<[], { bin: number; n: number }>(
        `SELECT CASE WHEN value < 18.5 THEN 0 WHEN value < 25 THEN 1 WHEN value < 30 THEN 2 ELSE 3 END AS bin,
                count(*) AS n
           FROM anno_float WHERE term_id = 'bmi' GROUP BY bin ORDER BY bin`,
      )
      .all();
    expect(chart.bars.map((b) => b.count)).toEqual(expected.map((r) => r.n));
  });

  it('ends open-ended regular bins at the largest value and leaves out lost-to-follow-up', () => {
    const chart = ds.barchart('followup_years', ALL);
    const { max, n } = db
      .prepare<[], { max: number; n: number }>(
        "SELECT max(value) AS max, count(*) AS n FROM anno_integer WHERE term_id = 'followup_years' AND value <> -1",
      )
      .get()!;
    const lastStart = 5 * Math.floor(max / 5);
    const expectedLabels = ['<5'];
    for (let start = 5; start < lastStart; start += 5) expectedLabels.push(`${start} to <${start + 5}`);
    expectedLabels.push(`≥${lastStart}`);
    expect(chart.bars.map((b) => b.label)).toEqual(expectedLabels);
    expect(chart.total).toBe(n);
  });

  it('uses the bin label as the bar key', () => {
    expect(ds.barchart('bmi', ALL).bars.every((b) => b.key === b.label)).toBe(true);
  });
});

describe('samples', () => {
  it('pages through all rows without gaps or repeats', () => {
    const first = ds.samples('treatment_arm', ALL, { page: 1, pageSize: 500 });
    const rows = [...first.rows];
    for (let page = 2; rows.length < first.total; page++) {
      rows.push(...ds.samples('treatment_arm', ALL, { page, pageSize: 500 }).rows);
    }
    expect(rows).toHaveLength(first.total);
    expect(new Set(rows.map((r) => r.sample)).size).toBe(first.total);
    expect(first.total).toBe(Object.values(sqlCategoryCounts('treatment_arm')).reduce((a, b) => a + b, 0));
  });

  it('gives every row in batches, the same rows in the same order as the pages, within the cohorts', () => {
    for (const [term, scope] of [
      ['treatment_arm', ALL],
      ['agedx', ALL],
      ['bmi', exact(['ALPHA'])],
    ] as const) {
      const paged = [];
      const first = ds.samples(term, scope, { page: 1, pageSize: 500 });
      paged.push(...first.rows);
      for (let page = 2; paged.length < first.total; page++) {
        paged.push(...ds.samples(term, scope, { page, pageSize: 500 }).rows);
      }
      const table = ds.sampleRows(term, scope);
      const batches = [...table.batches(333)];
      expect(table.total).toBe(first.total);
      expect(batches.every((b) => b.length <= 333)).toBe(true);
      expect(batches.length).toBe(Math.ceil(first.total / 333));
      expect(batches.flat()).toEqual(paged);
    }
  });

  it('reads each batch of the rows only when the iteration reaches it', () => {
    const iterator = ds.sampleRows('sex', ALL).batches(100);
    expect(iterator.next().value).toHaveLength(100);
    // The file answers other reads between two batches.
    expect(ds.barchart('race', ALL).bars.length).toBeGreaterThan(0);
    expect(iterator.next().value).toHaveLength(100);
    expect(() => ds.sampleRows('no such term', ALL)).toThrow(/No term/);
    expect([...ds.sampleRows('sex', exact([])).batches()]).toEqual([]);
  });

  it('refuses page sizes outside 1..500 and pages below 1', () => {
    expect(() => ds.samples('sex', ALL, { page: 1, pageSize: 501 })).toThrow(RangeError);
    expect(() => ds.samples('sex', ALL, { page: 1, pageSize: 0 })).toThrow(RangeError);
    expect(() => ds.samples('sex', ALL, { page: 0, pageSize: 10 })).toThrow(RangeError);
    expect(() => ds.samples('sex', ALL, { page: 1.5, pageSize: 10 })).toThrow(RangeError);
  });
});

describe('scope is required', () => {
  it('throws when a caller passes no scope', () => {
    expect(() => ds.barchart('sex', undefined as unknown as Scope)).toThrow(TypeError);
    expect(() => ds.samples('sex', null as unknown as Scope, { page: 1, pageSize: 1 })).toThrow(TypeError);
    expect(() => ds.barchart('sex', { cohorts: 'ALPHA' } as unknown as Scope)).toThrow(TypeError);
  });

  it('never gives rows under a disclosure rule, paged or as the streamed table', () => {
    expect(() => ds.samples('sex', ruled(5), { page: 1, pageSize: 1 })).toThrow(/disclosure rule/);
    expect(() => ds.sampleRows('sex', ruled(5))).toThrow(/disclosure rule/);
  });
});

describe('opening a file that cannot serve', () => {
  function openError(path: string): unknown {
    try {
      openDataset({ label: 'Bad', genome: 'hg38', file: path }).close();
    } catch (e) {
      return e;
    }
    return undefined;
  }

  it('fails with dataset_invalid naming the file when it is not SQLite', () => {
    const path = join(dir, 'not-sqlite.db');
    writeFileSync(path, 'this is a text file, not a database\n'.repeat(200));
    const e = openError(path);
    expect(e).toBeInstanceOf(DatasetInvalidError);
    expect((e as TermdbError).code).toBe('dataset_invalid');
    expect((e as Error).message).toContain(path);
    expect((e as Error).message).toContain('not an SQLite database');
  });

  it('fails with dataset_invalid naming the missing table', () => {
    const path = join(dir, 'no-cohorts.db');
    copyFileSync(file, path);
    const writable = new Database(path);
    writable.exec('DROP TABLE subcohort_samples');
    writable.close();
    const e = openError(path);
    expect(e).toBeInstanceOf(DatasetInvalidError);
    expect((e as Error).message).toContain('subcohort_samples');
    expect((e as Error).message).toContain(path);
  });

  it('fails with dataset_invalid naming a missing column', () => {
    const path = join(dir, 'no-jsondata.db');
    copyFileSync(file, path);
    const writable = new Database(path);
    writable.exec('ALTER TABLE terms DROP COLUMN isleaf');
    writable.close();
    expect((openError(path) as Error).message).toMatch(/terms.*isleaf/);
  });

  it('fails with dataset_invalid when the file does not exist, and creates nothing', () => {
    const path = join(dir, 'absent.db');
    expect((openError(path) as TermdbError).code).toBe('dataset_invalid');
    expect((openError(path) as Error).message).toContain(path);
    expect(existsSync(path)).toBe(false);
  });

  it('never writes to the file', () => {
    const before = readFileSync(file);
    const other = openDataset({ label: 'x', genome: 'hg38', file });
    for (const id of supportedTerms) other.barchart(id, ruled(5, ['ALPHA']));
    other.samples('bmi', ALL, { page: 3, pageSize: 20 });
    other.close();
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
