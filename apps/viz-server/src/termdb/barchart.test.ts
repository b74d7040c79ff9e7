// Barcharts with overlays, divide-by terms and filters, against counts SQL computes on the file, for random
// requests; and what suppression shows and hides in them.
import type { Scope } from '@pp-embed/access-policy';
import type { BarchartResult, Filter, FilterClause } from '@pp-embed/viz-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { generatedDataset } from '../../test/harness.js';
import { exact, ruled } from '../../test/scopes.js';

const generated = generatedDataset(1500, 21);
const ALL: Scope = exact();
const CATEGORICAL = ['sex', 'race', 'diaggrp', 'treatment_arm'];
const UNCOMPUTABLE = "'-9999'";

/** SQL for one filter clause, as the filter's documentation defines it. */
function clauseSql(clause: FilterClause): string {
  if ('values' in clause) {
    const list = clause.values.map((v) => `'${v}'`).join(',');
    return `sample IN (SELECT sample FROM anno_categorical WHERE term_id = '${clause.term}' AND value IN (${list}))`;
  }
  const table = clause.term === 'bmi' ? 'anno_float' : 'anno_integer';
  const parts = [
    clause.gt !== undefined ? `value > ${clause.gt}` : '',
    clause.gte !== undefined ? `value >= ${clause.gte}` : '',
    clause.lt !== undefined ? `value < ${clause.lt}` : '',
    clause.lte !== undefined ? `value <= ${clause.lte}` : '',
    // Uncomputable codes are never in a range.
    clause.term === 'followup_years' ? 'value <> -1' : '',
  ].filter(Boolean);
  return `sample IN (SELECT sample FROM ${table} WHERE term_id = '${clause.term}' AND ${parts.join(' AND ')})`;
}

/** Counts by (term0 value, term value, term2 value) computed by SQL alone. */
function sqlCells(
  term: string,
  term2: string | undefined,
  term0: string | undefined,
  cohorts: string[] | null,
  filter: Filter,
) {
  const joins = [term, term2, term0].map((t, i) =>
    t === undefined ? `(SELECT 'all' AS value) AS t${i}` : `anno_categorical AS t${i}`,
  );
  const where = [
    `t0.term_id = '${term}'`,
    term2 === undefined ? '' : `t1.term_id = '${term2}' AND t1.sample = t0.sample`,
    term0 === undefined ? '' : `t2.term_id = '${term0}' AND t2.sample = t0.sample`,
    ...[0, 1, 2].map((i) => ([term, term2, term0][i] === undefined ? '' : `t${i}.value <> ${UNCOMPUTABLE}`)),
    cohorts === null
      ? ''
      : `t0.sample IN (SELECT sample FROM subcohort_samples WHERE subcohort IN (${cohorts.map((c) => `'${c}'`).join(',') || "''"}))`,
    ...filter.map((c) => clauseSql(c).replace(/^sample/, 't0.sample')),
  ].filter(Boolean);
  const rows = generated.db
    .prepare<[], { z: string; a: string; b: string; n: number }>(
      `SELECT t2.value AS z, t0.value AS a, t1.value AS b, count(*) AS n FROM ${joins.join(', ')}
        WHERE ${where.join(' AND ')} GROUP BY z, a, b`,
    )
    .all();
  return new Map(rows.map((r) => [`${r.z}|${r.a}|${r.b}`, r.n]));
}

/** Every cell of a result as `term0|term|term2` → count (null when hidden). */
function cellsOf(result: BarchartResult): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const panel of result.charts) {
    for (const bar of panel.bars) {
      if (bar.segments === null) out.set(`${panel.key ?? 'all'}|${bar.key}|all`, bar.count);
      else for (const s of bar.segments) out.set(`${panel.key ?? 'all'}|${bar.key}|${s.key}`, s.count);
    }
  }
  return out;
}

const categoryClause = fc.constantFrom(...CATEGORICAL).chain((term) =>
  fc.record({
    term: fc.constant(term),
    values: fc.subarray(
      {
        sex: ['1', '2'],
        race: ['White', 'Black', 'Asian', 'Multiple', 'AIAN', 'NHPI'],
        diaggrp: ['ALL', 'AML', 'HL', 'CNS', 'WT'],
        treatment_arm: ['A', 'B', 'C', 'OBS'],
      }[term]!,
      { minLength: 1 },
    ),
  }),
);
const rangeClause = fc
  .record({
    term: fc.constantFrom('agedx', 'bmi', 'followup_years'),
    lo: fc.integer({ min: 0, max: 30 }),
    span: fc.integer({ min: 0, max: 30 }),
    kind: fc.constantFrom('gte-lt', 'gt-lte', 'gte', 'lt'),
  })
  .map(({ term, lo, span, kind }): FilterClause =>
    kind === 'gte-lt'
      ? { term, gte: lo, lt: lo + span }
      : kind === 'gt-lte'
        ? { term, gt: lo, lte: lo + span }
        : kind === 'gte'
          ? { term, gte: lo }
          : { term, lt: lo + 1 },
  );
const request = fc.record({
  terms: fc.shuffledSubarray(CATEGORICAL, { minLength: 1, maxLength: 3 }),
  cohorts: fc.constantFrom(null, ['ALPHA'], ['BETA'], ['ALPHA', 'BETA'], ['ALPHA,BETA'], []),
  filter: fc.array(fc.oneof(categoryClause, rangeClause), { maxLength: 3 }),
});

describe('overlays, divide-by terms and filters', () => {
  it('count every cell as SQL on the file does, for random requests', () => {
    fc.assert(
      fc.property(request, ({ terms, cohorts, filter }) => {
        const [term, term2, term0] = terms as [string, string?, string?];
        const result = generated.ds.barchart(term, exact(cohorts), { term2, term0, filter });
        // SQL expands the combined cohort by its members, as the grant does.
        const expanded =
          cohorts === null ? null : cohorts.flatMap((c) => (c === 'ALPHA,BETA' ? ['ALPHA', 'BETA'] : [c]));
        const expected = sqlCells(term, term2, term0, expanded, filter);
        const shown = cellsOf(result);
        for (const [key, n] of expected) expect(shown.get(key), key).toBe(n);
        for (const [key, n] of shown) if (n !== 0) expect(expected.get(key), key).toBe(n);
        expect(result.total).toBe([...expected.values()].reduce((a, b) => a + b, 0));
        expect(result.filter).toEqual(filter);
      }),
      { numRuns: 60 },
    );
  });

  it('splits numeric bins as the numeric barchart filtered to each category does', () => {
    const overlay = generated.ds.barchart('diaggrp', ALL, { term2: 'agedx' });
    for (const bar of overlay.charts[0]!.bars) {
      const alone = generated.ds.barchart('agedx', ALL, {
        filter: [{ term: 'diaggrp', values: [bar.key] }],
      }).bars;
      const segments = bar.segments!;
      // The bins are the same up to the category's own largest value, where its last bin is open-ended and
      // holds what the overlay's later bins hold.
      alone
        .slice(0, -1)
        .forEach((b, i) =>
          expect(segments[i], `${bar.key} ${b.key}`).toMatchObject({ key: b.key, count: b.count }),
        );
      const rest = segments.slice(alone.length - 1).reduce((a, s) => a + (s.count ?? 0), 0);
      expect(rest, `${bar.key} ${alone.at(-1)?.key}`).toBe(alone.at(-1)?.count);
    }
    expect(overlay.series?.map((s) => s.key)).toEqual(
      generated.ds.barchart('agedx', ALL).bars.map((b) => b.key),
    );
  });

  it('keeps the plain barchart as it was: one panel, no segments, the same bars', () => {
    const chart = generated.ds.barchart('race', ALL);
    expect(chart.charts).toEqual([
      { key: null, label: null, total: chart.total, bars: chart.bars.map((b) => ({ ...b, segments: null })) },
    ]);
    expect(chart).toMatchObject({ term2: null, term0: null, series: null, filter: [] });
  });

  it('never widens the grant: a filter on the cohort-less samples finds nothing outside the cohort', () => {
    const alpha: Scope = exact(['ALPHA']);
    const filtered = generated.ds.barchart('sex', alpha, {
      filter: [
        {
          term: 'diaggrp',
          values: ['ALL', 'AML', 'HL', 'NHL', 'CNS', 'WT', 'NB', 'OS', 'EWS', 'RMS', 'RB', 'CML'],
        },
      ],
    });
    const granted = generated.ds.barchart('sex', alpha);
    for (const bar of filtered.bars)
      expect(bar.count!).toBeLessThanOrEqual(granted.bars.find((b) => b.key === bar.key)!.count!);
    expect(generated.ds.barchart('sex', exact([]), { filter: [{ term: 'sex', values: ['1'] }] }).total).toBe(
      0,
    );
  });
});

describe('suppression with overlays', () => {
  const anonymous: Scope = ruled(5);

  it.each([
    ['race', 'diaggrp', undefined],
    ['diaggrp', 'treatment_arm', 'sex'],
    ['race', undefined, 'treatment_arm'],
    ['treatment_arm', 'race', 'diaggrp'],
  ])(
    '%s by %s, divided by %s: shows true counts only, hides small ones, and shows only totals it can stand by',
    (term, term2, term0) => {
      const open = generated.ds.barchart(term!, ALL, { term2, term0 });
      const shown = generated.ds.barchart(term!, anonymous, { term2, term0 });
      const truth = cellsOf(open);
      const cells = cellsOf(shown);
      expect([...cells.keys()]).toEqual([...truth.keys()]);
      for (const [key, n] of cells) {
        const real = truth.get(key)!;
        if (n !== null) expect(n, key).toBe(real);
        if (real > 0 && real < 5) expect(n, key).toBeNull();
      }
      // Totals, when shown, are the true ones. (That no hidden count can be worked out from them, or from other
      // answers, is the lattice's property test and the adversarial suite's.)
      open.charts.forEach((panel, i) => {
        const shownPanel = shown.charts[i]!;
        if (shownPanel.total !== null) expect(shownPanel.total).toBe(panel.total);
        panel.bars.forEach((bar, j) => {
          const b = shownPanel.bars[j]!;
          if (b.count !== null) expect(b.count).toBe(bar.count);
        });
      });
      if (shown.total !== null) expect(shown.total).toBe(open.total);
      expect(shown.disclosure).toEqual({ tier: 'anonymous', rule: anonymous.rule });
    },
  );
});

describe('refusals', () => {
  function codeOf(f: () => unknown): string {
    try {
      f();
      return 'no error';
    } catch (e) {
      return (e as { code?: string }).code ?? 'other error';
    }
  }

  it.each([
    ['the same term twice', () => generated.ds.barchart('sex', ALL, { term2: 'sex' }), 'term_wrong_type'],
    ['a survival overlay', () => generated.ds.barchart('sex', ALL, { term2: 'os' }), 'term_wrong_type'],
    [
      'a survival divide-by term',
      () => generated.ds.barchart('sex', ALL, { term0: 'efs' }),
      'term_wrong_type',
    ],
    ['an unknown overlay', () => generated.ds.barchart('sex', ALL, { term2: 'nope' }), 'term_not_found'],
    [
      'a parent as overlay',
      () => generated.ds.barchart('sex', ALL, { term2: 'demographics' }),
      'term_not_supported',
    ],
    [
      'a filter on an unknown term',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'nope', values: ['1'] }] }),
      'filter_invalid',
    ],
    [
      'a filter on a parent term',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'demographics', values: ['1'] }] }),
      'filter_invalid',
    ],
    [
      'a filter on a survival term',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'os', gte: 1 }] }),
      'filter_invalid',
    ],
    [
      'a range on a categorical term',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'race', gte: 1 }] }),
      'filter_invalid',
    ],
    [
      'categories of a numeric term',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'agedx', values: ['1'] }] }),
      'filter_invalid',
    ],
    [
      'an unknown category',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'race', values: ['Martian'] }] }),
      'filter_invalid',
    ],
    [
      'an uncomputable category',
      () => generated.ds.barchart('sex', ALL, { filter: [{ term: 'race', values: ['-9999'] }] }),
      'filter_invalid',
    ],
    ['a summary of a categorical term', () => generated.ds.summary('sex', ALL), 'term_wrong_type'],
    ['a survival chart of a numeric term', () => generated.ds.survival('agedx', ALL), 'term_wrong_type'],
  ])('refuses %s', (_name, call, code) => {
    expect(codeOf(call)).toBe(code);
  });
});
