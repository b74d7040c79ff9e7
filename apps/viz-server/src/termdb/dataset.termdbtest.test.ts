// The reader against ProteinPaint's own TermdbTest.db (academic-use licence: read in place, never copied).
// Every expected count comes from SQL written here, not from the code under test.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDataset } from './dataset.js';
import type { TermdbDataset } from './dataset.js';
import type { TermdbErrorCode } from './errors.js';
import { TermdbError } from './errors.js';
import type { Scope } from '@pp-embed/access-policy';
import { TERMDB_TEST, TERMDB_TEST_PRESENT, termdbTestTitle } from '../../test/harness.js';
import { exact, minSampleSize, ruled } from '../../test/scopes.js';

const FILE = TERMDB_TEST;
const present = TERMDB_TEST_PRESENT;

const ALL: Scope = exact();
// TermdbTest records cohort membership as a multivalue annotation, {"ABC":1} / {"XYZ":1} / {"ABC":1,"XYZ":1}.
const COHORT_SCOPES: [string, string[], string[]][] = [
  ['no restriction', [], []],
  ['cohort ABC', ['ABC'], ['ABC']],
  ['cohort XYZ', ['XYZ'], ['XYZ']],
  ['the combined cohort "ABC,XYZ"', ['ABC,XYZ'], ['ABC', 'XYZ']],
];

/** Leaf term ids of these types, read when the suite is collected so that each term gets its own test. */
function termsOfType(types: string[]): string[] {
  if (!present) return [];
  const db = new Database(FILE, { readonly: true });
  try {
    return db
      .prepare<[], { id: string }>(
        `SELECT id FROM terms WHERE isleaf = 1 AND type IN (${types.map((t) => `'${t}'`).join(',')}) ORDER BY id`,
      )
      .all()
      .map((r) => r.id);
  } finally {
    db.close();
  }
}

function codeOf(f: () => unknown): TermdbErrorCode | 'no error' | 'other error' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof TermdbError ? e.code : 'other error';
  }
}

describe.skipIf(!present)(termdbTestTitle('TermdbTest.db'), () => {
  let ds: TermdbDataset;
  let db: Database.Database;

  beforeAll(() => {
    ds = openDataset({ label: 'TermdbTest', genome: 'hg38', file: FILE, disclosure: minSampleSize(5) });
    db = new Database(FILE, { readonly: true });
  });
  afterAll(() => {
    ds?.close();
    db?.close();
  });

  const jsondata = (id: string) =>
    JSON.parse(
      db.prepare<[string], { j: string }>('SELECT jsondata AS j FROM terms WHERE id = ?').get(id)!.j,
    ) as {
      values?: Record<string, { uncomputable?: boolean }>;
      bins: {
        default: { bin_size: number; first_bin: { stop: number }; last_bin?: { start: number } };
      };
    };
  const uncomputable = (id: string) =>
    Object.entries(jsondata(id).values ?? {})
      .filter(([, v]) => v.uncomputable)
      .map(([k]) => k);
  const inCohorts = (base: string[]) =>
    base.length === 0
      ? ''
      : `AND sample IN (SELECT m.sample FROM anno_multivalue m, json_each(m.value) j
                         WHERE m.term_id = 'subcohort' AND j.key IN (${base.map((c) => `'${c}'`).join(',')}))`;

  describe('term tree', () => {
    it('lists the root terms in child_order', () => {
      const roots = db
        .prepare<[], { id: string }>(
          "SELECT id FROM terms WHERE parent_id IS NULL OR parent_id = '' ORDER BY child_order, id",
        )
        .all();
      expect(ds.terms(null).map((t) => t.id)).toEqual(roots.map((r) => r.id));
    });

    it('lists the children of a parent', () => {
      const children = db
        .prepare<[], { id: string }>(
          "SELECT id FROM terms WHERE parent_id = 'Demographic Variables' ORDER BY child_order, id",
        )
        .all();
      expect(ds.terms('Demographic Variables').map((t) => t.id)).toEqual(children.map((r) => r.id));
    });

    it('marks as supported exactly the categorical, numeric and survival leaves', () => {
      const rows = db.prepare<[], { id: string; type: string | null; isleaf: number }>(
        'SELECT id, type, isleaf FROM terms',
      );
      for (const row of rows.all()) {
        const expected =
          row.isleaf === 1 && ['categorical', 'integer', 'float', 'survival'].includes(row.type ?? '');
        expect(ds.term(row.id)?.supported, row.id).toBe(expected);
      }
    });

    it('gives a parent term a null type', () => {
      expect(ds.term('Demographic Variables')).toEqual({
        id: 'Demographic Variables',
        name: 'Demographic Variables',
        type: null,
        isleaf: false,
        supported: false,
      });
    });

    it('lists the cohorts of the cohorts table', () => {
      const rows = db
        .prepare<[], { id: string; name: string }>('SELECT cohort AS id, name FROM cohorts')
        .all();
      expect(ds.cohorts()).toEqual(rows);
    });
  });

  describe.each(COHORT_SCOPES)('categorical barcharts, %s', (_, cohorts, base) => {
    const scope: Scope = exact(cohorts.length === 0 ? null : cohorts);

    it.each(termsOfType(['categorical']))('counts %s as SQL on the file does', (id) => {
      const excluded = uncomputable(id);
      const rows = db
        .prepare<[string], { value: string; n: number }>(
          `SELECT value, count(*) AS n FROM anno_categorical WHERE term_id = ? ${inCohorts(base)} GROUP BY value`,
        )
        .all(id)
        .filter((r) => !excluded.includes(r.value));
      const chart = ds.barchart(id, scope);
      expect(Object.fromEntries(chart.bars.map((b) => [b.key, b.count]))).toEqual(
        Object.fromEntries(rows.map((r) => [r.value, r.n])),
      );
      expect(chart.total).toBe(rows.reduce((s, r) => s + r.n, 0));
      expect(chart.cohorts).toEqual(scope.cohorts);
    });
  });

  describe.each(COHORT_SCOPES)('numeric barcharts, %s', (_, cohorts, base) => {
    const scope: Scope = exact(cohorts.length === 0 ? null : cohorts);

    // Every numeric term of TermdbTest has regular bins: bin 0 is "< first stop", bin k covers
    // [first + (k-1)·size, first + k·size), and the last bin (at last_bin.start, or wherever the largest
    // value falls) is open-ended. Here that is plain arithmetic in SQL.
    it.each(termsOfType(['integer', 'float']))('counts %s as SQL on the file does', (id) => {
      const table = ds.term(id)?.type === 'integer' ? 'anno_integer' : 'anno_float';
      const { bin_size: size, first_bin, last_bin } = jsondata(id).bins.default;
      const lastIndex = last_bin ? 1 + Math.ceil((last_bin.start - first_bin.stop) / size) : 1e9;
      const excluded = uncomputable(id).map(Number);
      const rows = db
        .prepare<[Record<string, unknown>], { bin: number; n: number }>(
          `SELECT min(CASE WHEN value < @first THEN 0
                           WHEN @last IS NOT NULL AND value >= @last THEN @lastIndex
                           ELSE 1 + CAST((value - @first) / @size AS INTEGER) END, @lastIndex) AS bin,
                  count(*) AS n
             FROM ${table}
            WHERE term_id = @id AND value NOT IN (${excluded.join(',')}) ${inCohorts(base)}
            GROUP BY bin ORDER BY bin`,
        )
        .all({ first: first_bin.stop, size, last: last_bin?.start ?? null, lastIndex, id });
      const expected = Array.from({ length: (rows.at(-1)?.bin ?? -1) + 1 }, (_, i) => {
        return rows.find((r) => r.bin === i)?.n ?? 0;
      });
      const chart = ds.barchart(id, scope);
      expect(chart.bars.map((b) => b.count)).toEqual(expected);
      expect(chart.total).toBe(expected.reduce((s, n) => s + n, 0));
    });
  });

  describe('bin labels', () => {
    it('uses label_offset for agedx, as ProteinPaint shows it', () => {
      expect(ds.barchart('agedx', ALL).bars.map((b) => b.label)).toEqual([
        '<5',
        '5 to 9',
        '10 to 14',
        '15 to 19',
        '≥20',
      ]);
    });

    it('stops at last_bin.start for a_death', () => {
      expect(ds.barchart('a_death', ALL).bars.map((b) => b.label)).toEqual([
        '<25',
        '25 to <30',
        '30 to <35',
        '35 to <40',
        '40 to <45',
        '45 to <50',
        '50 to <55',
        '≥55',
      ]);
    });

    it('leaves out the uncomputable doses of aaclassic_5', () => {
      const chart = ds.barchart('aaclassic_5', ALL);
      const computable = db
        .prepare<[], { n: number }>(
          "SELECT count(*) AS n FROM anno_float WHERE term_id = 'aaclassic_5' AND value NOT IN (0, -8888, -9999)",
        )
        .get()!.n;
      expect(chart.total).toBe(computable);
      expect(chart.bars[0]?.label).toBe('<5000');
    });
  });

  describe('scope', () => {
    it('counts nothing for an empty cohort list', () => {
      expect(ds.barchart('diaggrp', exact([]))).toMatchObject({
        bars: [],
        total: 0,
      });
      expect(ds.barchart('agedx', exact([]))).toMatchObject({
        bars: [],
        total: 0,
      });
      expect(ds.samples('sex', exact([]), { page: 1, pageSize: 10 })).toMatchObject({
        rows: [],
        total: 0,
      });
    });

    it('counts nothing for a cohort the dataset does not have', () => {
      expect(ds.barchart('sex', exact(['NOPE'])).total).toBe(0);
    });

    it('suppresses small cells but never a zero, and shows the total only when it gives nothing away', () => {
      const chart = ds.barchart('age_relapse', ruled(5));
      const exactChart = ds.barchart('age_relapse', ALL);
      expect(chart.bars[0]).toEqual({ key: '<65', label: '<65', count: 0, suppressed: false });
      expect(chart.bars.filter((b) => b.suppressed).map((b) => b.count)).toEqual([null, null, null, null]);
      // The total is the samples with a value: every sample less those without one, both shown elsewhere.
      expect(chart.total).toBe(exactChart.total);
      const hidden = chart.bars.filter((b) => b.count === null);
      expect(hidden.length).toBeGreaterThanOrEqual(2);
      const hiddenSum = (chart.total as number) - chart.bars.reduce((n, b) => n + (b.count ?? 0), 0);
      expect(hiddenSum).toBeGreaterThanOrEqual(5);
    });

    it('shows a total that other answers show to be 0, though cells beside small counts are hidden in it', () => {
      // No sample has both a diagnosis group and a sex in TermdbTest: the two-term chart says 0, so the three-term
      // chart says it too (hiding it would hide nothing: the security suite's attacker found it by bounds).
      expect(ds.barchart('diaggrp', ruled(5), { term2: 'sex' }).total).toBe(0);
      expect(ds.barchart('diaggrp', ruled(5), { term2: 'sex', term0: 'genetic_race' }).total).toBe(0);
    });
  });

  describe('samples', () => {
    it('pages through every sample with a value, in sample id order', () => {
      const expected = db
        .prepare<[], { sample: string; value: string }>(
          `SELECT s.name AS sample, a.value FROM anno_categorical a JOIN sampleidmap s ON s.id = a.sample
            WHERE a.term_id = 'diaggrp' ORDER BY a.sample`,
        )
        .all();
      const pages = [1, 2, 3, 4].map((page) => ds.samples('diaggrp', ALL, { page, pageSize: 30 }));
      expect(pages.map((p) => p.rows.length)).toEqual([30, 30, 30, 10]);
      expect(pages.every((p) => p.total === expected.length)).toBe(true);
      // Labels of diaggrp are its keys.
      expect(pages.flatMap((p) => p.rows)).toEqual(expected);
      expect(ds.samples('diaggrp', ALL, { page: 5, pageSize: 30 }).rows).toEqual([]);
    });

    it('labels categorical values and keeps numbers as numbers', () => {
      const sex = ds.samples('sex', ALL, { page: 1, pageSize: 500 }).rows;
      expect(new Set(sex.map((r) => r.value))).toEqual(new Set(['Male', 'Female']));
      const age = ds.samples('agedx', ALL, { page: 1, pageSize: 5 }).rows;
      expect(age.every((r) => typeof r.value === 'number')).toBe(true);
    });

    it('restricts rows to the cohort', () => {
      const result = ds.samples('agedx', exact(['XYZ']), { page: 1, pageSize: 500 });
      const expected = db
        .prepare<[], { sample: string }>(
          `SELECT s.name AS sample FROM anno_float a JOIN sampleidmap s ON s.id = a.sample
            WHERE a.term_id = 'agedx' ${inCohorts(['XYZ']).replaceAll('sample IN', 'a.sample IN')} ORDER BY a.sample`,
        )
        .all();
      expect(result.rows.map((r) => r.sample)).toEqual(expected.map((r) => r.sample));
      expect(result.total).toBe(expected.length);
    });
  });

  describe('refusals', () => {
    it.each(['os', 'efs'])('charts survival term %s with the survival chart only', (id) => {
      expect(ds.term(id)?.supported).toBe(true);
      expect(codeOf(() => ds.survival(id, ALL))).toBe('no error');
      expect(codeOf(() => ds.barchart(id, ALL))).toBe('term_wrong_type');
      expect(codeOf(() => ds.summary(id, ALL))).toBe('term_wrong_type');
      expect(codeOf(() => ds.samples(id, ALL, { page: 1, pageSize: 10 }))).toBe('term_wrong_type');
      expect(codeOf(() => ds.barchart('sex', ALL, { term2: id }))).toBe('term_wrong_type');
    });

    it.each(['date', 'Cardiac dysrhythmia', 'subcohort', 'ctcae_graded', 'Demographic Variables'])(
      'refuses to chart %s with term_not_supported',
      (id) => {
        expect(ds.term(id)?.supported).toBe(false);
        expect(codeOf(() => ds.barchart(id, ALL))).toBe('term_not_supported');
        expect(codeOf(() => ds.samples(id, ALL, { page: 1, pageSize: 10 }))).toBe('term_not_supported');
      },
    );

    it.each(['no-such-term', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''])(
      'answers term_not_found for %j',
      (id) => {
        expect(ds.term(id)).toBeUndefined();
        expect(codeOf(() => ds.barchart(id, ALL))).toBe('term_not_found');
        expect(codeOf(() => ds.samples(id, ALL, { page: 1, pageSize: 10 }))).toBe('term_not_found');
        expect(codeOf(() => ds.terms(id))).toBe('term_not_found');
      },
    );
  });
});
