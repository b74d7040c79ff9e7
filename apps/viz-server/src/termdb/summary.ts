// Box plot and violin statistics of a numeric term, per group. Quantiles need the values in order: a tally of
// the counted samples by (group, rank of value), replayed twice in value order, gives every group's quantiles,
// moments, whiskers and density at once, whatever the number of groups, with no sorting per request.
import type { Category, NumericStats, SummaryGroup } from '@pp-embed/viz-api';

import type { NumericColumn } from './columns.js';
import type { Dimension } from './dimension.js';
import type { Mask } from './selection.js';
import { quantileAt } from './stats.js';
import { tallyByRank } from './tally.js';

/** Bins of the violins' density, shared by every group. */
export const DENSITY_BINS = 40;

// The quantiles every group needs: the whisker percentiles under a disclosure rule, and the box.
const PROBABILITIES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

export interface SummaryStats {
  readonly groups: SummaryGroup[];
  readonly density: { start: number; stop: number; bins: number } | null;
  /** The code of each group's category or bin (1 without a split), for the caller that adds to them. */
  readonly codes: number[];
}

/** Equal-width bins of a round width over [min, max], so that their edges do not reveal the extremes exactly. */
export function densityBins(
  min: number,
  max: number,
  integer: boolean,
): { start: number; stop: number; bins: number } {
  const raw = max > min ? (max - min) / DENSITY_BINS : 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let width = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  if (integer) width = Math.max(1, Math.ceil(width));
  const start = Math.floor(min / width) * width;
  const bins = Math.max(1, Math.floor((max - start) / width) + 1);
  return { start, stop: start + bins * width, bins };
}

/**
 * The summary of `column` over the samples of `mask`, one group per shown category of `group` (or one group
 * without it), with exact counts. `controlled` (a disclosure rule applies) leaves out the extremes, one sample's
 * values, and puts the whiskers at the 5th and 95th percentiles; the rule's numbers are disclosure/charts.ts's.
 *
 * @example
 * const { groups } = summaryStats(space.size, mask, agedx, null, false, false);
 */
export function summaryStats(
  size: number,
  mask: Mask,
  column: NumericColumn,
  group: Dimension | null,
  controlled: boolean,
  integer: boolean,
): SummaryStats {
  const { values } = column;
  const G = group?.size ?? 1;
  const tally = tallyByRank(size, mask, column, group?.codes ?? null, G, null);
  const n = tally.n;
  const shown = group === null ? { codes: [1], categories: [] as Category[] } : group.shown(n.subarray(1));

  // Positions (0-based, in each group's own order) of the order statistics the quantiles interpolate between.
  const P = PROBABILITIES.length;
  const position = new Float64Array((G + 1) * P * 2).fill(-1);
  const valueAt = new Float64Array((G + 1) * P * 2);
  for (const g of shown.codes) {
    const count = n[g] as number;
    if (count === 0) continue;
    PROBABILITIES.forEach((p, q) => {
      const h = (count - 1) * p;
      position[(g * P + q) * 2] = Math.floor(h);
      position[(g * P + q) * 2 + 1] = Math.min(count - 1, Math.floor(h) + 1);
    });
  }

  // First replay, in value order: running counts, moments (Welford, one update per distinct value) and the
  // order statistics.
  const seen = new Float64Array(G + 1);
  const mean = new Float64Array(G + 1);
  const m2 = new Float64Array(G + 1);
  const min = new Float64Array(G + 1).fill(NaN);
  const max = new Float64Array(G + 1).fill(NaN);
  tally.replay((rank, groups, counts) => {
    const v = values[rank - 1] as number;
    for (const g of groups) {
      const c = counts[g] as number;
      const before = seen[g] as number;
      const after = before + c;
      if (before === 0) min[g] = v;
      max[g] = v;
      const delta = v - (mean[g] as number);
      mean[g] = (mean[g] as number) + (delta * c) / after;
      m2[g] = (m2[g] as number) + delta * (v - (mean[g] as number)) * c;
      for (let x = g * P * 2; x < (g + 1) * P * 2; x++) {
        const at = position[x] as number;
        if (at >= before && at < after) valueAt[x] = v;
      }
      seen[g] = after;
    }
  });

  const quantile = (g: number, q: number) =>
    quantileAt(
      ((n[g] as number) - 1) * (PROBABILITIES[q] as number),
      valueAt[(g * P + q) * 2] as number,
      valueAt[(g * P + q) * 2 + 1] as number,
    );

  // Tukey's fences, then a second replay: whiskers (the most extreme values inside the fences) and density.
  const lowFence = new Float64Array(G + 1);
  const highFence = new Float64Array(G + 1);
  const whiskerLow = new Float64Array(G + 1).fill(NaN);
  const whiskerHigh = new Float64Array(G + 1).fill(NaN);
  let lo = Infinity;
  let hi = -Infinity;
  for (const g of shown.codes) {
    if (n[g] === 0) continue;
    const iqr = quantile(g, 3) - quantile(g, 1);
    lowFence[g] = quantile(g, 1) - 1.5 * iqr;
    highFence[g] = quantile(g, 3) + 1.5 * iqr;
    lo = Math.min(lo, min[g] as number);
    hi = Math.max(hi, max[g] as number);
  }
  const bins = Number.isFinite(lo) ? densityBins(lo, hi, integer) : null;
  const density = new Float64Array((G + 1) * (bins?.bins ?? 0));
  if (bins !== null) {
    const width = (bins.stop - bins.start) / bins.bins;
    tally.replay((rank, groups, counts) => {
      const v = values[rank - 1] as number;
      const b = Math.min(bins.bins - 1, Math.floor((v - bins.start) / width));
      for (const g of groups) {
        if (v >= (lowFence[g] as number) && Number.isNaN(whiskerLow[g] as number)) whiskerLow[g] = v;
        if (v <= (highFence[g] as number)) whiskerHigh[g] = v;
        density[g * bins.bins + b] = (density[g * bins.bins + b] as number) + (counts[g] as number);
      }
    });
  }

  const groups = shown.codes.map((g, i): SummaryGroup => {
    const category = group === null ? null : (shown.categories[i] as Category);
    const count = n[g] as number;
    const stats: NumericStats | null =
      count === 0
        ? null
        : {
            mean: mean[g] as number,
            sd: count > 1 ? Math.sqrt((m2[g] as number) / (count - 1)) : null,
            min: controlled ? null : (min[g] as number),
            max: controlled ? null : (max[g] as number),
            q1: quantile(g, 1),
            median: quantile(g, 2),
            q3: quantile(g, 3),
            whiskerLow: controlled ? quantile(g, 0) : (whiskerLow[g] as number),
            whiskerHigh: controlled ? quantile(g, 4) : (whiskerHigh[g] as number),
          };
    const shape =
      bins === null ? null : Array.from(density.subarray(g * bins.bins, (g + 1) * bins.bins), (c) => c);
    return {
      key: category?.key ?? null,
      label: category?.label ?? null,
      n: count,
      suppressed: false,
      stats,
      density: shape,
    };
  });
  return { groups, density: bins, codes: shown.codes };
}
