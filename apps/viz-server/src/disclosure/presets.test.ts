// The programmes' rules on a generated dataset: what each shows of the same charts (thresholds, rounding, noise),
// and that rounding and noise repeat exactly, whichever answer and whichever copy of the file a number comes from.
import type { Scope } from '@pp-embed/access-policy';
import { type BarchartResult, presetRule } from '@pp-embed/viz-api';
import { describe, expect, it } from 'vitest';

import { generatedDataset } from '../../test/harness.js';
import { exact, ruled } from '../../test/scopes.js';
import { openDataset } from '../termdb/dataset.js';

const ALL: Scope = exact();

/** Every count of a barchart answer beside the exact one, by place. */
function pairs(ruledChart: BarchartResult, exactChart: BarchartResult): [number | null, number][] {
  const out: [number | null, number][] = [[ruledChart.total, exactChart.total as number]];
  ruledChart.charts.forEach((panel, p) => {
    panel.bars.forEach((bar) => {
      const twin = exactChart.charts[p]?.bars.find((x) => x.key === bar.key);
      out.push([bar.count, twin?.count ?? 0]);
      bar.segments?.forEach((s) => {
        out.push([s.count, twin?.segments?.find((x) => x.key === s.key)?.count ?? 0]);
      });
    });
  });
  return out;
}

describe('programme presets on generated data', () => {
  const generated = generatedDataset(3000, 11);
  const chart = (scope: Scope) => generated.ds.barchart('diaggrp', scope, { term2: 'race', term0: 'sex' });
  // Charts of one term each: most of their counts are large enough to show under every rule.
  const singles = (scope: Scope) =>
    ['diaggrp', 'race', 'sex', 'treatment_arm', 'agedx'].map((t) => generated.ds.barchart(t, scope));
  const shownPairs = (preset: 'opensafely' | 'pic-sure') => {
    const exactCharts = singles(ALL);
    return singles(ruled(presetRule(preset)))
      .flatMap((c, i) => pairs(c, exactCharts[i] as BarchartResult))
      .filter(([s]) => s !== null) as [number, number][];
  };

  it.each([
    ['genomics-england', 5],
    ['all-of-us', 21],
    ['opensafely', 8],
    ['pic-sure', 10],
  ] as const)('%s hides every count from 1 to %i - 1', (preset, k) => {
    const rule = presetRule(preset);
    expect(rule.threshold).toBe(k);
    const shown = pairs(chart(ruled(rule)), chart(ALL));
    expect(shown.some(([s]) => s === null)).toBe(true);
    for (const [s, n] of shown) if (n > 0 && n < k) expect(s, `exact ${n}`).toBeNull();
  });

  it('opensafely rounds every shown count to the nearest 5, and never shows a non-zero one as 0', () => {
    const shown = shownPairs('opensafely');
    expect(shown.length).toBeGreaterThan(10);
    for (const [s, n] of shown) {
      expect(s % 5, `exact ${n}`).toBe(0);
      if (n === 0) expect(s).toBe(0);
      else expect(Math.abs(s - n), `exact ${n}`).toBeLessThanOrEqual(Math.max(2, 5 - n));
    }
  });

  it('pic-sure moves every shown count by at most 3, and some of them', () => {
    const shown = shownPairs('pic-sure');
    for (const [s, n] of shown) {
      if (n === 0) expect(s).toBe(0);
      else expect(Math.abs(s - n), `exact ${n}`).toBeLessThanOrEqual(3);
    }
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.some(([s, n]) => s !== n)).toBe(true);
  });

  it('adds the same noise to the same number asked again, through another chart, or of another copy of the file', () => {
    const rule = ruled(presetRule('pic-sure'));
    const survival = generated.ds.survival('os', rule);
    const series = survival.series[0]!;
    // The number at risk under the curve and in the table below it: one number, one noise.
    let compared = 0;
    survival.atRiskTimes.forEach((t, i) => {
      const j = series.curve?.time.findIndex((end) => end > t) ?? -1;
      if (j >= 1 && series.curve?.time[j - 1] === t) {
        expect(series.curve.atRisk[j], `at ${t}`).toBe(series.atRisk[i]);
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(1);
    // Another copy of the file (another replica): the same data, so the same noise.
    const copy = openDataset({ label: 'Copy', genome: 'hg38', file: generated.file });
    try {
      expect(copy.barchart('diaggrp', rule, { term2: 'race' }).charts).toEqual(
        generated.ds.barchart('diaggrp', rule, { term2: 'race' }).charts,
      );
    } finally {
      copy.close();
    }
  });
});
