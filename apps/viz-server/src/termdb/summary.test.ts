// Numeric summaries, checked against values computed here from the rows SQL reads (sort, then R's type 7
// quantile), and against R's documented quantile results on a small vector.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Scope } from '@pp-embed/access-policy';
import type { Filter, SummaryResult } from '@pp-embed/viz-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeTermdb } from '../../test/termdb-file.js';
import { generatedDataset } from '../../test/harness.js';
import { openDataset, type TermdbDataset } from './dataset.js';
import { exact, minSampleSize, ruled } from '../../test/scopes.js';

const ALL: Scope = exact();
const dir = mkdtempSync(join(tmpdir(), 'pp-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** R's quantile(x, p) with its default type 7, on values sorted ascending. */
function quantile(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function reference(values: number[]) {
  const x = [...values].sort((a, b) => a - b);
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const q1 = quantile(x, 0.25);
  const q3 = quantile(x, 0.75);
  const iqr = q3 - q1;
  return {
    n,
    mean,
    sd,
    min: x[0]!,
    max: x[n - 1]!,
    q1,
    median: quantile(x, 0.5),
    q3,
    whiskerLow: x.find((v) => v >= q1 - 1.5 * iqr)!,
    whiskerHigh: [...x].reverse().find((v) => v <= q3 + 1.5 * iqr)!,
    p05: quantile(x, 0.05),
    p95: quantile(x, 0.95),
  };
}

describe('a small vector', () => {
  let ds: TermdbDataset;
  beforeAll(() => {
    const file = join(dir, 'small.db');
    // 1..10, and 100: an outlier beyond the upper fence.
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    writeTermdb(file, {
      terms: [
        {
          id: 'x',
          type: 'integer',
          json: { bins: { default: { type: 'regular-bin', bin_size: 5, first_bin: { stop: 5 } } } },
        },
        {
          id: 'y',
          type: 'float',
          json: { bins: { default: { type: 'regular-bin', bin_size: 5, first_bin: { stop: 5 } } } },
        },
      ],
      samples: Array.from({ length: 11 }, (_, i) => i + 1),
      values: {
        x: values.map((v, i) => [i + 1, v]),
        y: [...values, 100].map((v, i) => [i + 1, v]),
      },
    });
    ds = openDataset({ label: 'Small', genome: 'hg38', file, disclosure: minSampleSize(3) });
  });
  afterAll(() => ds?.close());

  it("gives R's quantiles of 1:10 (3.25, 5.5, 7.75), mean and sd", () => {
    const [group] = ds.summary('x', ALL).groups;
    expect(group).toMatchObject({ key: null, n: 10, suppressed: false });
    expect(group?.stats).toMatchObject({
      q1: 3.25,
      median: 5.5,
      q3: 7.75,
      mean: 5.5,
      min: 1,
      max: 10,
      whiskerLow: 1,
      whiskerHigh: 10,
    });
    expect(group?.stats?.sd).toBeCloseTo(3.02765, 5);
  });

  it('puts a whisker at the most extreme value inside 1.5 × IQR, not at an outlier', () => {
    const stats = ds.summary('y', ALL).groups[0]!.stats!;
    expect(stats.max).toBe(100);
    expect(stats.whiskerHigh).toBe(10);
  });

  it('leaves out one-sample values for a caller without a token, with whiskers at the 5th and 95th percentiles', () => {
    const stats = ds.summary('y', ruled(3)).groups[0]!.stats!;
    const expected = reference([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]);
    expect(stats.min).toBeNull();
    expect(stats.max).toBeNull();
    expect(stats.whiskerLow).toBeCloseTo(expected.p05, 10);
    expect(stats.whiskerHigh).toBeCloseTo(expected.p95, 10);
  });
});

describe('summaries of generated data, against the reference', () => {
  const generated = generatedDataset(3000, 9);

  const values = (table: string, term: string, where: string, params: unknown[] = []) =>
    generated.db
      .prepare<unknown[], { v: number }>(`SELECT value AS v FROM ${table} WHERE term_id = '${term}' ${where}`)
      .all(...params)
      .map((r) => r.v);

  function check(result: SummaryResult, valuesOf: (key: string | null) => number[]) {
    for (const group of result.groups) {
      const expected = reference(valuesOf(group.key));
      expect(group.n, String(group.key)).toBe(expected.n);
      const stats = group.stats!;
      for (const field of ['mean', 'sd', 'q1', 'median', 'q3'] as const) {
        expect(stats[field], `${group.key} ${field}`).toBeCloseTo(expected[field], 9);
      }
      expect([stats.min, stats.max, stats.whiskerLow, stats.whiskerHigh]).toEqual([
        expected.min,
        expected.max,
        expected.whiskerLow,
        expected.whiskerHigh,
      ]);
      // The density counts every value once, in the bin of width (stop - start) / bins that holds it.
      const { start, stop, bins } = result.density!;
      const width = (stop - start) / bins;
      const counts = new Array<number>(bins).fill(0);
      for (const v of valuesOf(group.key)) counts[Math.min(bins - 1, Math.floor((v - start) / width))]!++;
      expect(group.density).toEqual(counts);
    }
  }

  it.each([
    ['bmi overall', 'bmi', 'anno_float', undefined, ALL, [], ''],
    [
      'bmi by diagnosis in the Alpha study',
      'bmi',
      'anno_float',
      'diaggrp',
      exact(['ALPHA']),
      [],
      `AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = 'ALPHA')`,
    ],
    [
      'age at diagnosis by sex, filtered to two arms',
      'agedx',
      'anno_integer',
      'sex',
      ALL,
      [{ term: 'treatment_arm', values: ['A', 'B'] }],
      `AND sample IN (SELECT sample FROM anno_categorical WHERE term_id = 'treatment_arm' AND value IN ('A', 'B'))`,
    ],
  ] as [string, string, string, string | undefined, Scope, Filter, string][])(
    'matches for %s',
    (_name, term, table, term2, scope, filter, where) => {
      const result = generated.ds.summary(term, scope, { term2, filter });
      expect(result.groups.length).toBeGreaterThan(0);
      check(result, (key) =>
        key === null
          ? values(table, term, where)
          : values(
              table,
              term,
              `${where} AND sample IN (SELECT sample FROM anno_categorical WHERE term_id = ? AND value = ?)`,
              [term2, key],
            ),
      );
    },
  );

  it('splits by the bins of a numeric term', () => {
    const result = generated.ds.summary('bmi', ALL, { term2: 'agedx' });
    expect(result.groups.map((g) => g.key)).toEqual(
      generated.ds.barchart('agedx', ALL, { term2: 'bmi' }).bars.map((b) => b.key),
    );
  });

  it('hides a group smaller than the threshold; its n is the barchart bar of the same samples, and there is no violin', () => {
    const result = generated.ds.summary('bmi', ruled(5), { term2: 'diaggrp' });
    const rare = result.groups.find((g) => g.key === 'CML');
    expect(rare).toMatchObject({ n: null, suppressed: true, stats: null, density: null });
    // The same box of the same table as the bars of diaggrp split by the bins of bmi: never shown in one, hidden in
    // the other.
    const bars = generated.ds.barchart('diaggrp', ruled(5), { term2: 'bmi' }).bars;
    for (const group of result.groups) {
      expect(group.n, String(group.key)).toBe(bars.find((b) => b.key === group.key)?.count ?? null);
      expect(group.density).toBeNull();
    }
    expect(result.density).toBeNull();
  });
});
