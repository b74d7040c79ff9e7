// The charts of a caller whose counts go through a disclosure rule. Each chart counts its samples in the joint
// table of its terms and its filter's terms over the caller's scope (lattice.ts), and every number it answers (a
// bar, a segment, a total, a group's n, a number at risk, events, censored) is a box of that table,
// shown only when the rule lets the shown cells determine it. What is not a count (a summary's quartiles, a
// survival curve) is worked out from shown numbers only, or left out.
import type {
  BarchartPanel,
  Bar,
  BarRow,
  Category,
  DisclosureRule,
  SummaryGroup,
  SurvivalCurve,
  SurvivalSeries,
} from '@pp-embed/viz-api';
import { LIMITS } from '@pp-embed/viz-api';

import type { BarchartCounts } from '../termdb/barchart.js';
import type { Dimension } from '../termdb/dimension.js';
import { TooManyValuesError } from '../termdb/errors.js';
import type { Mask } from '../termdb/selection.js';
import { Z_975 } from '../termdb/stats.js';
import type { SummaryStats } from '../termdb/summary.js';
import type { SurvivalStats } from '../termdb/survival.js';
import type { ControlDim, FilterDims, SurvivalDim } from './dims.js';
import { tallyJoint } from './dims.js';
import { type Box, type BoxValue, Lattice, type PatternCache, SHOWN } from './lattice.js';
import { presentCount, shown } from './present.js';
import type { TableRule } from './suppress.js';

/** The caller's side of an answer under a rule. */
export interface ControlledScope {
  readonly size: number;
  /** The caller's samples (its cohorts), before any filter. */
  readonly mask: Mask;
  /** Names the mask in cache keys. */
  readonly scopeKey: string;
  /** The rules of the lower tiers, lowest first, then the caller's. */
  readonly rules: readonly TableRule[];
  readonly rule: DisclosureRule;
  readonly cache: PatternCache;
  /** The dataset's noise key (a digest of its data, worked out when first asked for). */
  readonly noiseKey: () => string;
}

/** A chart dimension as a lattice dimension. */
export function asControlDim(d: Dimension): ControlDim {
  return { key: d.key, size: d.size + 1, codes: d.codes };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The joint table of an answer's dimensions and its filter's, in one order for every answer. */
class Answer {
  readonly lattice: Lattice;
  readonly #dims: ControlDim[];
  readonly #filter = new Map<string, readonly number[]>();
  readonly #scope: ControlledScope;

  constructor(scope: ControlledScope, chart: readonly ControlDim[], filter: FilterDims) {
    this.#scope = scope;
    const byKey = new Map<string, ControlDim>();
    for (const d of chart) byKey.set(d.key, d);
    filter.dims.forEach((d, i) => {
      if (!byKey.has(d.key)) byKey.set(d.key, d);
      this.#filter.set(d.key, filter.selections[i] as number[]);
    });
    // Sorted by key, so that a table over the same terms is the same table whichever answer builds it.
    this.#dims = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const cells = this.#dims.reduce((n, d) => n * d.size, 1);
    if (this.#dims.length > LIMITS.maxTermsUnderRule || cells > LIMITS.maxCellsUnderRule) {
      throw new TooManyValuesError(
        'filter',
        `Under this dataset's disclosure rule an answer can involve at most ${LIMITS.maxTermsUnderRule} terms and ${LIMITS.maxCellsUnderRule.toLocaleString('en-US')} combinations of their values, filter included.`,
      );
    }
    const dims = this.#dims;
    this.lattice = new Lattice(
      dims,
      () => tallyJoint(scope.size, scope.mask, dims),
      scope.rules,
      scope.cache,
      scope.scopeKey,
    );
  }

  /** The box of the chart categories given (by dimension key), within the filter; other dimensions all. */
  box(picked: ReadonlyMap<string, readonly number[]>): Box {
    return this.#dims.map((d) => {
      const chosen = picked.get(d.key);
      const kept = this.#filter.get(d.key);
      if (chosen === undefined) return kept ?? null;
      if (kept === undefined) return chosen;
      const allowed = new Set(kept);
      return chosen.filter((j) => allowed.has(j));
    });
  }

  value(picked: ReadonlyMap<string, readonly number[]>): BoxValue {
    return this.lattice.box(this.box(picked));
  }

  /**
   * Exact counts per category of one dimension, within the filter, over samples with a value for every other
   * dimension of `among`: which categories a chart lists (a hidden count is not a zero, so a listed category says
   * nothing a hidden mark does not).
   */
  marginal(key: string, among: readonly string[]): Float64Array {
    const at = this.#dims.findIndex((d) => d.key === key);
    const { shape } = this.lattice;
    const allowed = this.#dims.map((d) => {
      const kept = this.#filter.get(d.key);
      const ok = new Uint8Array(d.size);
      if (kept !== undefined) for (const j of kept) ok[j] = 1;
      else if (among.includes(d.key)) ok.fill(1, 1);
      else ok.fill(1);
      return ok;
    });
    const out = new Float64Array((this.#dims[at] as ControlDim).size - 1);
    const counts = this.lattice.counts((1 << this.#dims.length) - 1);
    for (let c = 0; c < shape.cells; c++) {
      const n = counts[c] as number;
      if (n === 0) continue;
      let ok = true;
      let mine = 0;
      for (let d = 0; d < this.#dims.length && ok; d++) {
        const j = Math.floor(c / (shape.strides[d] as number)) % (shape.sizes[d] as number);
        if ((allowed[d] as Uint8Array)[j] !== 1) ok = false;
        if (d === at) mine = j;
      }
      if (ok && mine > 0) out[mine - 1] = (out[mine - 1] as number) + n;
    }
    return out;
  }

  /**
   * Which samples a box counts, the same whichever table and request reach it: the dimensions it restricts (a
   * dimension kept whole restricts nothing), by key. Empty when the rule adds no noise.
   */
  identity(picked: ReadonlyMap<string, readonly number[]>): string {
    if (this.#scope.rule.noise === 0) return '';
    const box = this.box(picked);
    const parts: string[] = [];
    this.#dims.forEach((d, i) => {
      const s = box[i];
      if (s != null && s.length < d.size) parts.push(`${d.key}=${[...s].sort((a, b) => a - b).join(',')}`);
    });
    return parts.join('\t');
  }

  /** The noise key of the dataset, when the rule adds noise. */
  get key(): string {
    return this.#scope.rule.noise === 0 ? '' : this.#scope.noiseKey();
  }

  /** A number on the wire, with noise (if the rule has any) that depends on which samples it counts. */
  shown(picked: ReadonlyMap<string, readonly number[]>): { count: number | null; suppressed: boolean } {
    return shown(this.lattice.box(this.box(picked)), this.#scope.rule, this.identity(picked), this.key);
  }
}

/**
 * The barchart of `d1`, split by `d2` and divided by `d0` when given, under the caller's rule: the same shape as
 * an exact barchart, every count a box of the answer's joint table.
 *
 * @example
 * const counts = controlledBarchart(scope, d1, d2, null, filterDims(filter, columnOf));
 */
export function controlledBarchart(
  scope: ControlledScope,
  d1: Dimension,
  d2: Dimension | null,
  d0: Dimension | null,
  filter: FilterDims,
): BarchartCounts {
  const chart = [d1, d2, d0].filter((d): d is Dimension => d !== null);
  const answer = new Answer(scope, chart.map(asControlDim), filter);
  const all = (d: Dimension) => range(1, d.size);
  const pick = (entries: [Dimension | null, readonly number[]][]) =>
    new Map(entries.filter(([d]) => d !== null).map(([d, s]) => [(d as Dimension).key, s]));

  // Which categories each dimension lists: those with samples, from the exact counts (a hidden count is not 0).
  const among = chart.map((d) => d.key);
  const marginal = (d: Dimension) => answer.marginal(d.key, among);
  const shown1 = d1.shown(marginal(d1));
  const shown2 = d2 === null ? { codes: [], categories: [] } : d2.shown(marginal(d2));
  const shown0 = d0 === null ? { codes: [], categories: [] } : d0.shown(marginal(d0));
  const codes2 = d2 === null ? [] : shown2.codes;
  const within2 = d2 === null ? [] : all(d2);
  const within0 = d0 === null ? [] : all(d0);

  const panels: (number | null)[] = d0 === null ? [null] : shown0.codes;
  const charts: BarchartPanel[] = panels.map((z, i0) => {
    const panel = z === null ? [] : [[d0, [z]] as [Dimension | null, number[]]];
    const bars: BarRow[] = shown1.codes.map((a, i1) => {
      const segments =
        d2 === null
          ? null
          : codes2.map((b, i2) => ({
              ...(shown2.categories[i2] as Category),
              ...answer.shown(pick([[d1, [a]], [d2, [b]], ...panel])),
            }));
      return {
        ...(shown1.categories[i1] as Category),
        ...answer.shown(pick([[d1, [a]], [d2, within2], ...panel])),
        segments,
      };
    });
    const category = z === null ? null : (shown0.categories[i0] as Category);
    return {
      key: category?.key ?? null,
      label: category?.label ?? null,
      bars,
      total: answer.shown(pick([[d1, all(d1)], [d2, within2], ...panel])).count,
    };
  });
  const bars: Bar[] = shown1.codes.map((a, i1) => ({
    ...(shown1.categories[i1] as Category),
    ...answer.shown(
      pick([
        [d1, [a]],
        [d2, within2],
        [d0, within0],
      ]),
    ),
  }));
  return {
    bars,
    total: answer.shown(
      pick([
        [d1, all(d1)],
        [d2, within2],
        [d0, within0],
      ]),
    ).count,
    series: d2 === null ? null : shown2.categories,
    charts,
  };
}

/**
 * A summary under the caller's rule: each group's n is a box of the joint table of the term's bins (the bars of
 * its barchart), the split term and the filter's terms, so that it is the same number a barchart shows or hides. A
 * group shows its statistics only when its n is shown (statistics of a group whose size is hidden could be set
 * against another answer's), and never its extremes, which are one sample's values. There is no violin: its
 * density bins would be a second binning of the term, and the samples between the edges of one binning and the
 * other's are what two answers would differ by.
 *
 * @example
 * const controlled = controlledSummary(scope, exact, binDim('agedx', column), group, filterDims(filter, columnOf));
 */
export function controlledSummary(
  scope: ControlledScope,
  exact: SummaryStats,
  bins: ControlDim,
  group: Dimension | null,
  filter: FilterDims,
): SummaryStats {
  const chart = [bins, ...(group === null ? [] : [asControlDim(group)])];
  const answer = new Answer(scope, chart, filter);
  const withValue = range(1, bins.size - 1);
  const groups = exact.groups.map((g, i): SummaryGroup => {
    const code = exact.codes[i] as number;
    const n = answer.shown(
      new Map<string, readonly number[]>([
        [bins.key, withValue],
        ...(group === null ? [] : [[group.key, [code]] as [string, number[]]]),
      ]),
    );
    return {
      key: g.key,
      label: g.label,
      n: n.count,
      suppressed: n.count === null && n.suppressed,
      stats: n.count === null ? null : g.stats,
      density: null,
    };
  });
  return { groups, density: null, codes: exact.codes };
}

/**
 * Survival curves under the caller's rule: a life table on the term's fixed time grid, per group. The number at
 * risk at the start of each interval, the events and the censored in it are boxes of the joint table of the time
 * grid (with the outcome), the split term and the filter's terms; the curve steps at the end of each interval
 * with the Kaplan-Meier product over the numbers as shown (rounded or perturbed ones included), so that it tells
 * nothing the shown numbers do not, and stops at the first interval whose numbers are not all shown. The log-rank
 * test is left to the caller (`logRank` null): it is the exact one, given only when every curve's n is shown.
 *
 * @example
 * const controlled = controlledSurvival(scope, timeDim, group, filterDims(filter, columnOf));
 */
export function controlledSurvival(
  scope: ControlledScope,
  time: SurvivalDim,
  group: Dimension | null,
  filter: FilterDims,
): Omit<SurvivalStats, 'codes'> {
  const chart = [time, ...(group === null ? [] : [asControlDim(group)])];
  const answer = new Answer(scope, chart, filter);
  // The curves listed: the split's categories with samples that have a time (exact counts: a hidden one is not 0).
  const listed =
    group === null
      ? { codes: [1], categories: [] as Category[] }
      : group.shown(answer.marginal(group.key, [time.key, group.key]));
  const { grid } = time;
  const rule = scope.rule;
  const from = (j: number) => range(2 * j + 1, 2 * grid.intervals);
  const everything = range(1, 2 * grid.intervals);
  const startOf = (j: number) => grid.start + j * grid.step;
  const tickIntervals = grid.ticks.map((t) => Math.max(0, Math.round((t - grid.start) / grid.step)));

  const series = listed.codes.map((code, i): SurvivalSeries => {
    const category = group === null ? null : (listed.categories[i] as Category);
    const base = { key: category?.key ?? null, label: category?.label ?? null };
    const at = (codes: number[]) =>
      new Map<string, readonly number[]>([
        [time.key, codes],
        ...(group === null ? [] : [[group.key, [code]] as [string, number[]]]),
      ]);
    const n = answer.shown(at(everything));
    const ticks = tickIntervals.map((j) => answer.shown(at(from(j))).count);
    if (n.count === null && n.suppressed) {
      return {
        ...base,
        n: null,
        events: null,
        suppressed: true,
        curve: null,
        truncatedAt: null,
        atRisk: ticks.map(() => null),
        sampled: false,
      };
    }
    const events = answer.shown(at(range(1, grid.intervals).map((j) => 2 * j))).count;
    const curve: { -readonly [K in keyof SurvivalCurve]: number[] } = {
      time: [],
      survival: [],
      lower: [],
      upper: [],
      atRisk: [],
      events: [],
      censored: [],
    };
    let survival = 1;
    let greenwood = 0;
    let truncatedAt: number | null = null;
    for (let j = 0; j < grid.intervals; j++) {
      const atRisk = answer.value(at(from(j)));
      if (atRisk.state === SHOWN && atRisk.value === 0) break;
      const d = answer.value(at([2 * j + 2]));
      const c = answer.value(at([2 * j + 1]));
      if (atRisk.state !== SHOWN || d.state !== SHOWN || c.state !== SHOWN) {
        truncatedAt = startOf(j);
        break;
      }
      // The same noise as the same numbers have elsewhere (the number at risk of the table below the curve).
      const nShown = presentCount(atRisk.value, rule, answer.identity(at(from(j))), answer.key);
      const dShown = Math.min(
        nShown,
        presentCount(d.value, rule, answer.identity(at([2 * j + 2])), answer.key),
      );
      const cShown = presentCount(c.value, rule, answer.identity(at([2 * j + 1])), answer.key);
      if (dShown > 0) {
        survival *= 1 - dShown / nShown;
        greenwood = nShown > dShown ? greenwood + dShown / (nShown * (nShown - dShown)) : Infinity;
      }
      const half = Z_975 * Math.sqrt(greenwood);
      const usable = survival > 0 && Number.isFinite(greenwood);
      curve.time.push(Number(startOf(j + 1).toPrecision(12)));
      curve.survival.push(round6(survival));
      curve.lower.push(usable ? round6(survival * Math.exp(-half)) : 0);
      curve.upper.push(usable ? round6(Math.min(1, survival * Math.exp(half))) : 0);
      curve.atRisk.push(nShown);
      curve.events.push(dShown);
      curve.censored.push(cShown);
    }
    return {
      ...base,
      n: n.count,
      events,
      suppressed: false,
      curve,
      truncatedAt,
      atRisk: ticks,
      sampled: false,
    };
  });
  return { series, atRiskTimes: [...grid.ticks], logRank: null };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
