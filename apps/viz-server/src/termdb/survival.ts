// Kaplan-Meier curves with Greenwood confidence intervals and the log-rank test, in one replay of the survival
// column's tally in time order. At a tied time, deaths come before censorings: a sample censored at t is still at risk
// at t (the usual convention, and R's survival package's).
import type { Category, SurvivalCurve, SurvivalSeries } from '@pp-embed/viz-api';
import { LIMITS } from '@pp-embed/viz-api';

import type { SurvivalColumn } from './columns.js';
import type { Dimension } from './dimension.js';
import type { Mask } from './selection.js';
import { chiSquareTail, quadraticForm, Z_975 } from './stats.js';
import { hiddenCells, SHOWN, SMALL } from './suppress.js';
import { tallyByRank } from './tally.js';

export interface SurvivalStats {
  readonly series: SurvivalSeries[];
  readonly atRiskTimes: number[];
  readonly logRank: { chi2: number; df: number; p: number } | null;
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
  readonly lower: number[] = [];
  readonly upper: number[] = [];
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
    // 95% interval of S on the log scale (R's survfit default, conf.type = "log"), clipped to [0, 1].
    const half = Z_975 * Math.sqrt(varLog);
    const lower = s > 0 && Number.isFinite(varLog) ? s * Math.exp(-half) : 0;
    const upper = s > 0 && Number.isFinite(varLog) ? Math.min(1, s * Math.exp(half)) : 0;
    const last = this.time.length - 1;
    if (slot >= 0 && slot === this.slot && last >= 0) {
      // Same slot of a sampled curve: the step moves to the later time and keeps the slot's sums.
      this.merged = true;
      this.time[last] = time;
      this.survival[last] = round6(s);
      this.lower[last] = round6(lower);
      this.upper[last] = round6(upper);
      this.events[last] = (this.events[last] as number) + events;
      this.censored[last] = (this.censored[last] as number) + censored;
      return;
    }
    this.slot = slot;
    this.time.push(time);
    this.survival.push(round6(s));
    this.lower.push(round6(lower));
    this.upper.push(round6(upper));
    this.atRisk.push(atRisk);
    this.events.push(events);
    this.censored.push(censored);
  }

  curve(): SurvivalCurve {
    const { time, survival, lower, upper, atRisk, events, censored } = this;
    return { time, survival, lower, upper, atRisk, events, censored };
  }
}

/**
 * Kaplan-Meier curves of `column` over the samples of `mask`, one per shown category of `group` (or one), and
 * the log-rank test across them. With `k`, a curve of fewer than k samples is suppressed, a curve stops where
 * fewer than k samples remain at risk, and at-risk and event counts below k are null.
 *
 * @example
 * const { series, logRank } = survivalStats(space.size, mask, os, diagnosis, null);
 */
export function survivalStats(
  size: number,
  mask: Mask,
  column: SurvivalColumn,
  group: Dimension | null,
  k: number | null,
): SurvivalStats {
  const times = column.values;
  const G = group?.size ?? 1;
  const tally = tallyByRank(size, mask, column, group?.codes ?? null, G, column.outcome);
  const n = tally.n;
  const shown = group === null ? { codes: [1], categories: [] as Category[] } : group.shown(n.subarray(1));
  const sizes = shown.codes.map((g) => n[g] as number);
  const hidden = hiddenCells(sizes, [sizes.length], k);
  // Curves the chart draws, and the log-rank test compares: those not suppressed, with samples.
  const active = shown.codes.filter((g, i) => hidden[i] !== SMALL && (n[g] as number) > 0);
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
  const atRisk = active.map((g) => n[g] as number);
  const survival = new Float64Array(A).fill(1);
  const greenwood = new Float64Array(A);
  const truncated = new Float64Array(A).fill(NaN);
  const builders = active.map(() => new CurveBuilder());
  const atRiskAtTick = active.map(() => new Array<number>(ticks.length).fill(0));
  const observed = new Float64Array(A);
  const eventCount = new Float64Array(A);
  const expected = new Float64Array(A);
  const variance = Array.from({ length: A }, () => new Float64Array(A));
  let tick = 0;

  tally.replay((rank, groups, counts, events) => {
    const t = times[rank - 1] as number;
    // The number at risk at a tick time is the number whose time is at or after it.
    while (tick < ticks.length && (ticks[tick] as number) <= t) {
      for (let a = 0; a < A; a++) (atRiskAtTick[a] as number[])[tick] = atRisk[a] as number;
      tick++;
    }
    // Log-rank: observed and expected deaths and their covariance at each death time (hypergeometric).
    let deaths = 0;
    let total = 0;
    for (const g of groups) if ((index[g] as number) >= 0) deaths += events[g] as number;
    for (let a = 0; a < A; a++) total += atRisk[a] as number;
    if (deaths > 0 && A > 1) {
      const f = total > 1 ? (deaths * (total - deaths)) / (total * total * (total - 1)) : 0;
      for (let a = 0; a < A; a++) {
        const na = atRisk[a] as number;
        const da = events[active[a] as number] as number;
        observed[a] = (observed[a] as number) + da;
        expected[a] = (expected[a] as number) + (na * deaths) / total;
        if (f === 0 || na === 0) continue;
        const row = variance[a] as Float64Array;
        for (let b = 0; b < A; b++) {
          const nb = atRisk[b] as number;
          row[b] = (row[b] as number) + (a === b ? f * na * (total - na) : -f * na * nb);
        }
      }
    }
    for (const g of groups) {
      const a = index[g] as number;
      if (a < 0) continue;
      const na = atRisk[a] as number;
      const da = events[g] as number;
      const ca = (counts[g] as number) - da;
      eventCount[a] = (eventCount[a] as number) + da;
      if (k !== null && Number.isNaN(truncated[a] as number) && na < k) truncated[a] = t;
      if (da > 0) {
        survival[a] = (survival[a] as number) * (1 - da / na);
        greenwood[a] = na > da ? (greenwood[a] as number) + da / (na * (na - da)) : Infinity;
      }
      if (Number.isNaN(truncated[a] as number)) {
        (builders[a] as CurveBuilder).add(
          slotOf(t),
          t,
          survival[a] as number,
          greenwood[a] as number,
          na,
          da,
          ca,
        );
      }
      atRisk[a] = na - da - ca;
    }
  });
  for (; tick < ticks.length; tick++) for (let a = 0; a < A; a++) (atRiskAtTick[a] as number[])[tick] = 0;

  let logRank: SurvivalStats['logRank'] = null;
  if (A > 1) {
    // The statistic over all but one curve (the last is determined by the others), with a generalized
    // inverse for curves whose variance the others explain; its rank is the degrees of freedom.
    const keep = A - 1;
    const diff = Array.from({ length: keep }, (_, a) => (observed[a] as number) - (expected[a] as number));
    const v = Array.from({ length: keep }, (_, a) =>
      Array.from((variance[a] as Float64Array).subarray(0, keep)),
    );
    const { value, rank } = quadraticForm(diff, v);
    if (rank > 0) logRank = { chi2: value, df: rank, p: chiSquareTail(value, rank) };
  }

  const small = (x: number) => k !== null && x > 0 && x < k;
  const series = shown.codes.map((g, i): SurvivalSeries => {
    const category = group === null ? null : (shown.categories[i] as Category);
    const base = { key: category?.key ?? null, label: category?.label ?? null };
    const a = index[g] as number;
    if (hidden[i] === SMALL) {
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
    const builder = a < 0 ? new CurveBuilder() : (builders[a] as CurveBuilder);
    const events = a < 0 ? 0 : (eventCount[a] as number);
    const counts = a < 0 ? ticks.map(() => 0) : (atRiskAtTick[a] as number[]);
    return {
      ...base,
      n: hidden[i] === SHOWN ? (n[g] as number) : null,
      events: small(events) ? null : events,
      suppressed: false,
      curve: builder.curve(),
      truncatedAt: a < 0 || Number.isNaN(truncated[a] as number) ? null : (truncated[a] as number),
      atRisk: counts.map((x) => (small(x) ? null : x)),
      sampled: builder.merged,
    };
  });
  return { series, atRiskTimes: ticks, logRank };
}
