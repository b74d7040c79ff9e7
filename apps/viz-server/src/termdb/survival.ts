// Kaplan-Meier curves with Greenwood confidence intervals and the log-rank test, in one replay of the survival
// column's tally in time order. At a tied time, deaths come before censorings: a sample censored at t is still at risk
// at t (the usual convention, and R's survival package's).
import type { Category, SurvivalCurve, SurvivalSeries } from '@pp-embed/viz-api';
import { LIMITS } from '@pp-embed/viz-api';

import type { SurvivalColumn } from './columns.js';
import type { Dimension } from './dimension.js';
import type { Mask } from './selection.js';
import { chiSquareTail, quadraticForm, Z_975 } from './stats.js';
import { tallyByRank } from './tally.js';

export interface SurvivalStats {
  readonly series: SurvivalSeries[];
  readonly atRiskTimes: number[];
  readonly logRank: { chi2: number; df: number; p: number } | null;
  /** The code of each series' category or bin (1 without a split), for the caller that adds to them. */
  readonly codes: number[];
}

/** About six round times from 0 to `max`, for the number-at-risk table. */
export function riskTimes(max: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const out: number[] = [];
  for (let t = 0; t <= max + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

class CurveBuilder {
  readonly time: number[] = [];
  readonly survival: number[] = [];
  /** Greenwood's variance of log S at each step; the interval is worked out once, at the end. */
  readonly varLog: number[] = [];
  readonly atRisk: number[] = [];
  readonly events: number[] = [];
  readonly censored: number[] = [];
  /** The slot of the last point, to merge steps of one slot into it. */
  slot = -1;
  merged = false;

  add(
    slot: number,
    time: number,
    s: number,
    varLog: number,
    atRisk: number,
    events: number,
    censored: number,
  ) {
    const last = this.time.length - 1;
    if (slot >= 0 && slot === this.slot && last >= 0) {
      // Same slot of a sampled curve: the step moves to the later time and keeps the slot's sums.
      this.merged = true;
      this.time[last] = time;
      this.survival[last] = s;
      this.varLog[last] = varLog;
      this.events[last] = (this.events[last] as number) + events;
      this.censored[last] = (this.censored[last] as number) + censored;
      return;
    }
    this.slot = slot;
    this.time.push(time);
    this.survival.push(s);
    this.varLog.push(varLog);
    this.atRisk.push(atRisk);
    this.events.push(events);
    this.censored.push(censored);
  }

  curve(): SurvivalCurve {
    const lower: number[] = [];
    const upper: number[] = [];
    this.survival.forEach((s, i) => {
      // 95% interval of S on the log scale (R's survfit default, conf.type = "log"), clipped to [0, 1].
      const v = this.varLog[i] as number;
      const half = Z_975 * Math.sqrt(v);
      const usable = s > 0 && Number.isFinite(v);
      lower.push(usable ? round6(s * Math.exp(-half)) : 0);
      upper.push(usable ? round6(Math.min(1, s * Math.exp(half))) : 0);
    });
    const { time, atRisk, events, censored } = this;
    return { time, survival: this.survival.map(round6), lower, upper, atRisk, events, censored };
  }
}

/**
 * Kaplan-Meier curves of `column` over the samples of `mask`, one per shown category of `group` (or one), and
 * the log-rank test across them, from exact counts. Under a disclosure rule disclosure/charts.ts answers with a
 * life table instead, and keeps the test only when every curve's n is shown.
 *
 * @example
 * const { series, logRank } = survivalStats(space.size, mask, os, diagnosis);
 */
export function survivalStats(
  size: number,
  mask: Mask,
  column: SurvivalColumn,
  group: Dimension | null,
): SurvivalStats {
  const times = column.values;
  const G = group?.size ?? 1;
  const tally = tallyByRank(size, mask, column, group?.codes ?? null, G, column.rankEvent);
  const n = tally.n;
  const shown = group === null ? { codes: [1], categories: [] as Category[] } : group.shown(n.subarray(1));
  // Curves the chart draws, and the log-rank test compares: those with samples.
  const active = shown.codes.filter((g) => (n[g] as number) > 0);
  const index = new Int32Array(G + 1).fill(-1);
  active.forEach((g, i) => (index[g] = i));

  const maxTime = tally.lastRank === 0 ? 0 : (times[tally.lastRank - 1] as number);
  const minTime = Math.min(0, times[0] ?? 0);
  const sampled = times.length > LIMITS.maxCurvePoints;
  const slotOf = (t: number) =>
    sampled && maxTime > minTime
      ? Math.min(
          LIMITS.maxCurvePoints - 1,
          Math.floor(((t - minTime) / (maxTime - minTime)) * LIMITS.maxCurvePoints),
        )
      : -1;
  const ticks = riskTimes(maxTime);

  const A = active.length;
  const atRisk = Float64Array.from(active, (g) => n[g] as number);
  const survival = new Float64Array(A).fill(1);
  const greenwood = new Float64Array(A);
  const builders = active.map(() => new CurveBuilder());
  const atRiskAtTick = active.map(() => new Array<number>(ticks.length).fill(0));
  const observed = new Float64Array(A);
  const expected = new Float64Array(A);
  // The log-rank covariance V = Σ f (diag(n) N - n nᵀ) over death times, kept as its two parts and for the
  // curves the statistic uses (all but the last), the outer products in one triangle: V is symmetric.
  const keep = Math.max(0, A - 1);
  const diagonal = new Float64Array(keep);
  const outer = new Float64Array(keep * keep);
  let total = atRisk.reduce((x, y) => x + y, 0);
  let tick = 0;

  tally.replay((rank, groups, counts, events) => {
    const t = times[rank - 1] as number;
    const slot = slotOf(t);
    // The number at risk at a tick time is the number whose time is at or after it.
    while (tick < ticks.length && (ticks[tick] as number) <= t) {
      for (let a = 0; a < A; a++) (atRiskAtTick[a] as number[])[tick] = atRisk[a] as number;
      tick++;
    }
    // Log-rank: observed and expected deaths and their covariance at each death time (hypergeometric).
    let deaths = 0;
    for (const g of groups) if ((index[g] as number) >= 0) deaths += events[g] as number;
    if (deaths > 0 && A > 1) {
      const f = total > 1 ? (deaths * (total - deaths)) / (total * total * (total - 1)) : 0;
      for (let a = 0; a < A; a++)
        expected[a] = (expected[a] as number) + ((atRisk[a] as number) * deaths) / total;
      if (f > 0) {
        for (let a = 0, row = 0; a < keep; a++, row += keep) {
          const fa = f * (atRisk[a] as number);
          if (fa === 0) continue;
          diagonal[a] = (diagonal[a] as number) + fa * total;
          for (let b = 0; b <= a; b++)
            outer[row + b] = (outer[row + b] as number) + fa * (atRisk[b] as number);
        }
      }
    }
    for (const g of groups) {
      const a = index[g] as number;
      if (a < 0) continue;
      const na = atRisk[a] as number;
      const da = events[g] as number;
      const ca = (counts[g] as number) - da;
      observed[a] = (observed[a] as number) + da;
      if (da > 0) {
        survival[a] = (survival[a] as number) * (1 - da / na);
        greenwood[a] = na > da ? (greenwood[a] as number) + da / (na * (na - da)) : Infinity;
      }
      (builders[a] as CurveBuilder).add(slot, t, survival[a] as number, greenwood[a] as number, na, da, ca);
      atRisk[a] = na - da - ca;
      total -= da + ca;
    }
  });
  for (; tick < ticks.length; tick++) for (let a = 0; a < A; a++) (atRiskAtTick[a] as number[])[tick] = 0;

  let logRank: SurvivalStats['logRank'] = null;
  if (A > 1) {
    // The statistic over all but one curve (the last is determined by the others), with a generalized
    // inverse for curves whose variance the others explain; its rank is the degrees of freedom.
    const diff = Array.from({ length: keep }, (_, a) => (observed[a] as number) - (expected[a] as number));
    const v = Array.from({ length: keep }, (_, a) =>
      Array.from({ length: keep }, (_, b) => {
        const product = outer[Math.max(a, b) * keep + Math.min(a, b)] as number;
        return (a === b ? (diagonal[a] as number) : 0) - product;
      }),
    );
    const { value, rank } = quadraticForm(diff, v);
    if (rank > 0) logRank = { chi2: value, df: rank, p: chiSquareTail(value, rank) };
  }

  const series = shown.codes.map((g, i): SurvivalSeries => {
    const category = group === null ? null : (shown.categories[i] as Category);
    const a = index[g] as number;
    const builder = a < 0 ? new CurveBuilder() : (builders[a] as CurveBuilder);
    return {
      key: category?.key ?? null,
      label: category?.label ?? null,
      n: n[g] as number,
      events: a < 0 ? 0 : (observed[a] as number),
      suppressed: false,
      curve: builder.curve(),
      truncatedAt: null,
      atRisk: a < 0 ? ticks.map(() => 0) : (atRiskAtTick[a] as number[]),
      sampled: builder.merged,
    };
  });
  return { series, atRiskTimes: ticks, logRank, codes: shown.codes };
}
