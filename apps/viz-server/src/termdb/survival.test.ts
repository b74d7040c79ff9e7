// Kaplan-Meier curves and the log-rank test, checked two ways: against the published analysis of a textbook
// dataset, and against a plain implementation written here (for every time, count at risk and events from the
// rows read with SQL) on generated data with cohorts, splits and filters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Scope } from '@pp-embed/access-policy';
import { type Filter, LIMITS, type SurvivalSeries } from '@pp-embed/viz-api';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeTermdb } from '../../test/termdb-file.js';
import { generatedDataset } from '../../test/harness.js';
import { openDataset, type TermdbDataset } from './dataset.js';
import { generateDataset } from './generate.js';
import { exact, minSampleSize, ruled } from '../../test/scopes.js';

const ALL: Scope = exact();
const dir = mkdtempSync(join(tmpdir(), 'pp-survival-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Gehan (1965), the 6-mercaptopurine trial in acute leukemia (Freireich et al. 1963): weeks in remission, 0 for
// a censored time. The classic example of survival textbooks and of R's MASS::gehan.
const SIX_MP = [6, 6, 6, -6, 7, -9, 10, -10, -11, 13, 16, -17, -19, -20, 22, 23, -25, -32, -32, -34, -35];
const PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23];

describe('the 6-MP trial (Gehan 1965)', () => {
  let ds: TermdbDataset;
  beforeAll(() => {
    const file = join(dir, 'gehan.db');
    const rows = [...SIX_MP, ...PLACEBO].map((t, i): [number, number, number] => [
      i + 1,
      Math.abs(t),
      t > 0 ? 1 : 0,
    ]);
    writeTermdb(file, {
      terms: [
        { id: 'remission', type: 'survival', json: { unit: 'weeks' } },
        {
          id: 'arm',
          type: 'categorical',
          json: { values: { mp: { label: '6-MP' }, placebo: { label: 'Placebo' } } },
        },
      ],
      samples: rows.map(([s]) => s),
      values: { arm: rows.map(([s]) => [s, s <= SIX_MP.length ? 'mp' : 'placebo']) },
      survival: { remission: rows },
    });
    ds = openDataset({ label: 'Gehan', genome: 'hg38', file, disclosure: minSampleSize(5) });
  });
  afterAll(() => ds?.close());

  it("gives R's survfit estimates for the 6-MP arm: survival and its 95% log interval at each event time", () => {
    const result = ds.survival('remission', ALL, { term2: 'arm' });
    const mp = result.series.find((s) => s.key === 'mp') as SurvivalSeries;
    // summary(survfit(Surv(time, cens) ~ treat, data = gehan)), 6-MP stratum.
    const published = [
      [6, 21, 3, 0.857, 0.72, 1.0],
      [7, 17, 1, 0.807, 0.653, 0.996],
      [10, 15, 1, 0.753, 0.586, 0.968],
      [13, 12, 1, 0.69, 0.51, 0.935],
      [16, 11, 1, 0.627, 0.439, 0.896],
      [22, 7, 1, 0.538, 0.337, 0.858],
      [23, 6, 1, 0.448, 0.249, 0.807],
    ];
    const curve = mp.curve!;
    const steps = curve.time.map((t, i) => ({ t, i })).filter(({ i }) => (curve.events[i] as number) > 0);
    expect(steps.map(({ t, i }) => [t, curve.atRisk[i], curve.events[i]])).toEqual(
      published.map((p) => p.slice(0, 3)),
    );
    steps.forEach(({ i }, row) => {
      const [, , , s, lower, upper] = published[row] as number[];
      expect(curve.survival[i]).toBeCloseTo(s as number, 3);
      expect(curve.lower[i]).toBeCloseTo(lower as number, 3);
      expect(curve.upper[i]).toBeCloseTo(upper as number, 3);
    });
    expect(mp).toMatchObject({ n: 21, events: 9, suppressed: false, truncatedAt: null, sampled: false });
    expect(result.unit).toBe('weeks');
  });

  it("gives R's survdiff log-rank test: chi-square 16.8 on 1 degree of freedom, p = 4.2e-5", () => {
    const { logRank } = ds.survival('remission', ALL, { term2: 'arm' });
    expect(logRank?.df).toBe(1);
    expect(logRank?.chi2).toBeCloseTo(16.793, 3);
    expect(logRank?.p).toBeCloseTo(4.169e-5, 8);
  });

  it('marks censored times on the curve without a step', () => {
    const mp = ds.survival('remission', ALL, { term2: 'arm' }).series[0]!.curve!;
    const at = (t: number) => mp.time.indexOf(t);
    expect(mp.censored[at(9)]).toBe(1);
    expect(mp.events[at(9)]).toBe(0);
    expect(mp.survival[at(9)]).toBe(mp.survival[at(7)]);
    // At 6 weeks three relapses and one censoring: the censored sample was still at risk.
    expect([mp.events[at(6)], mp.censored[at(6)], mp.atRisk[at(6)]]).toEqual([3, 1, 21]);
  });

  it('gives no test for one curve, and counts at risk at round times', () => {
    const all = ds.survival('remission', ALL);
    expect(all.logRank).toBeNull();
    expect(all.series).toHaveLength(1);
    expect(all.atRiskTimes).toEqual([0, 10, 20, 30]);
    // Samples whose time is at or after each: all 42; then those in remission for 10 weeks or more, ...
    const atOrAfter = (t: number) => [...SIX_MP, ...PLACEBO].filter((x) => Math.abs(x) >= t).length;
    expect(all.series[0]!.atRisk).toEqual([42, atOrAfter(10), atOrAfter(20), atOrAfter(30)]);
  });

  it('under a rule, answers a life table on a fixed grid: every number a true count shown by the rule, the curve their product', () => {
    const result = ds.survival('remission', ruled(5), { term2: 'arm' });
    // The grid: the at-risk table's times (0, 10, 20, 30 for times up to 35 weeks), each step cut in two.
    expect(result.atRiskTimes).toEqual([0, 10, 20, 30]);
    for (const [key, arm] of [
      ['mp', SIX_MP],
      ['placebo', PLACEBO],
    ] as const) {
      const series = result.series.find((x) => x.key === key)!;
      expect(series.n).toBe(21);
      const curve = series.curve!;
      let survival = 1;
      curve.time.forEach((end, j) => {
        const start = end - 5;
        const atRisk = arm.filter((t) => Math.abs(t) >= start).length;
        const events = arm.filter((t) => t > 0 && t >= start && t < end).length;
        const censored = arm.filter((t) => t <= 0 && -t >= start && -t < end).length;
        expect([curve.atRisk[j], curve.events[j], curve.censored[j]], `${key} ${start}`).toEqual([
          atRisk,
          events,
          censored,
        ]);
        for (const n of [atRisk, events, censored])
          expect(n === 0 || n >= 5, `${key} ${start}: ${n}`).toBe(true);
        survival *= 1 - events / atRisk;
        expect(curve.survival[j]).toBeCloseTo(survival, 6);
      });
      // The curve stops where a number of the next interval is hidden, or where no one is left at risk.
      const stop = curve.time.at(-1) ?? 0;
      if (series.truncatedAt !== null) expect(series.truncatedAt).toBe(stop);
      else expect(arm.filter((t) => Math.abs(t) >= stop)).toHaveLength(0);
      series.atRisk.forEach((n, i) => {
        if (n !== null) expect(n).toBe(arm.filter((t) => Math.abs(t) >= result.atRiskTimes[i]!).length);
      });
    }
    // Both curves' n are shown, so the (exact) test comparing them is given.
    expect(result.logRank?.chi2).toBeCloseTo(16.793, 3);
    expect(result.disclosure).toEqual({ tier: 'anonymous', rule: ruled(5).rule });
  });
});

/** Kaplan-Meier and Greenwood as a textbook writes them, from (time, event) pairs. */
function referenceCurve(rows: { time: number; event: number }[]) {
  const times = [...new Set(rows.map((r) => r.time))].sort((a, b) => a - b);
  let s = 1;
  let v = 0;
  return times.map((t) => {
    const atRisk = rows.filter((r) => r.time >= t).length;
    const events = rows.filter((r) => r.time === t && r.event === 1).length;
    const censored = rows.filter((r) => r.time === t && r.event === 0).length;
    if (events > 0) {
      s *= 1 - events / atRisk;
      v += atRisk > events ? events / (atRisk * (atRisk - events)) : Infinity;
    }
    const half = 1.959963984540054 * Math.sqrt(v);
    return {
      time: t,
      atRisk,
      events,
      censored,
      survival: s,
      lower: s > 0 ? s * Math.exp(-half) : 0,
      upper: s > 0 ? Math.min(1, s * Math.exp(half)) : 0,
    };
  });
}

/** The k-sample log-rank statistic for two groups: (O1 - E1)² / V1. */
function referenceLogRank(a: { time: number; event: number }[], b: { time: number; event: number }[]) {
  const times = [...new Set([...a, ...b].filter((r) => r.event === 1).map((r) => r.time))];
  let o = 0;
  let e = 0;
  let v = 0;
  for (const t of times) {
    const n1 = a.filter((r) => r.time >= t).length;
    const n = n1 + b.filter((r) => r.time >= t).length;
    const d1 = a.filter((r) => r.time === t && r.event === 1).length;
    const d = d1 + b.filter((r) => r.time === t && r.event === 1).length;
    o += d1;
    e += (n1 * d) / n;
    if (n > 1) v += (n1 * (n - n1) * d * (n - d)) / (n * n * (n - 1));
  }
  return ((o - e) * (o - e)) / v;
}

describe('survival on generated data, against the reference', () => {
  // Few enough distinct times that every curve is drawn step by step.
  const generated = generatedDataset(300, 3);

  function rowsOf(term: string, where: string, params: unknown[] = []) {
    return generated.db
      .prepare<unknown[], { time: number; event: number }>(
        `SELECT tte AS time, exit_code AS event FROM survival WHERE term_id = '${term}' ${where}`,
      )
      .all(...params);
  }

  it.each([
    ['everyone', ALL, [], ''],
    [
      'the Beta study',
      exact(['BETA']),
      [],
      `AND sample IN (SELECT sample FROM subcohort_samples WHERE subcohort = 'BETA')`,
    ],
    [
      'women aged 5 to 10 at diagnosis',
      ALL,
      [
        { term: 'sex', values: ['2'] },
        { term: 'agedx', gte: 5, lte: 10 },
      ],
      `AND sample IN (SELECT sample FROM anno_categorical WHERE term_id = 'sex' AND value = '2')
       AND sample IN (SELECT sample FROM anno_integer WHERE term_id = 'agedx' AND value BETWEEN 5 AND 10)`,
    ],
  ] as [string, Scope, Filter, string][])(
    'matches the reference per arm for %s',
    (_name, scope, filter, where) => {
      const result = generated.ds.survival('efs', scope, { term2: 'treatment_arm', filter });
      const byArm = new Map<string, { time: number; event: number }[]>();
      for (const series of result.series) {
        const rows = rowsOf(
          'efs',
          `${where} AND sample IN (SELECT sample FROM anno_categorical WHERE term_id = 'treatment_arm' AND value = ?)`,
          [series.key],
        );
        byArm.set(series.key as string, rows);
        expect(series.n).toBe(rows.length);
        const expected = referenceCurve(rows);
        const curve = series.curve!;
        expect(curve.time).toEqual(expected.map((p) => p.time));
        expect(curve.atRisk).toEqual(expected.map((p) => p.atRisk));
        expect(curve.events).toEqual(expected.map((p) => p.events));
        expect(curve.censored).toEqual(expected.map((p) => p.censored));
        curve.survival.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!.survival, 6));
        curve.lower.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!.lower, 6));
        curve.upper.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!.upper, 6));
      }
      const [a, b] = result.series.slice(0, 2).map((s) => byArm.get(s.key as string)!);
      if (result.series.length === 2) expect(result.logRank?.chi2).toBeCloseTo(referenceLogRank(a!, b!), 6);
    },
  );

  it('samples a curve with more steps than the limit at the end of equal time slots, ending where the exact curve ends', () => {
    const big = join(dir, 'big.db');
    generateDataset({ file: big, samples: 5000, seed: 5 });
    const many = openDataset({ label: 'B', genome: 'hg38', file: big });
    const bigDb = new Database(big, { readonly: true });
    try {
      const series = many.survival('os', ALL).series[0]!;
      const curve = series.curve!;
      expect(series.sampled).toBe(true);
      expect(curve.time.length).toBeLessThanOrEqual(LIMITS.maxCurvePoints);
      const rows = bigDb
        .prepare<[], { time: number; event: number }>(
          "SELECT tte AS time, exit_code AS event FROM survival WHERE term_id = 'os'",
        )
        .all();
      const exact = referenceCurve(rows);
      expect(curve.survival.at(-1)).toBeCloseTo(exact.at(-1)!.survival, 6);
      expect(curve.events.reduce((x, y) => x + y, 0)).toBe(rows.filter((r) => r.event === 1).length);
      // Each sampled step is the exact curve at that step's time.
      for (let i = 0; i < curve.time.length; i += 37) {
        const at = exact.find((p) => p.time === curve.time[i])!;
        expect(curve.survival[i]).toBeCloseTo(at.survival, 6);
      }
    } finally {
      many.close();
      bigDb.close();
    }
  });
});
