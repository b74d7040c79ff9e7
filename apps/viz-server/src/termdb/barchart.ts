// Samples per category of a term, optionally split by an overlay term (term2) and divided by a third (term0):
// one pass over the selected samples fills a dense table of counts. These are the exact counts, for a caller who
// sees them; under a disclosure rule, disclosure/charts.ts answers instead.
import type { Bar, BarchartPanel, BarRow, Category } from '@pp-embed/viz-api';

import type { Dimension } from './dimension.js';
import type { Mask } from './selection.js';

/** Stands for a mask that keeps every sample: read at index 0 only. */
const ALL_IN = Uint8Array.of(1);

/** What the barchart adds to the request's echo (term, cohorts, filter). */
export interface BarchartCounts {
  readonly bars: Bar[];
  readonly total: number | null;
  readonly series: Category[] | null;
  readonly charts: BarchartPanel[];
}

/**
 * The barchart of `d1`, split by `d2` and divided by `d0` when given, over the samples of `mask`: exact counts.
 *
 * @example
 * const { bars, total } = barchartCounts(space.size, mask, sexDimension, null, null);
 */
export function barchartCounts(
  size: number,
  mask: Mask,
  d1: Dimension,
  d2: Dimension | null,
  d0: Dimension | null,
): BarchartCounts {
  const s1 = d1.size;
  const s2 = d2?.size ?? 1;
  const s0 = d0?.size ?? 1;
  const counts = new Uint32Array(s0 * s1 * s2);
  const codes1 = d1.codes;
  if (d2 === null && d0 === null) {
    // The common case, kept to one array read per sample.
    const tally = new Uint32Array(s1 + 1);
    if (mask === null) {
      for (let i = 0; i < size; i++) {
        const c = codes1[i] as number;
        tally[c] = (tally[c] as number) + 1;
      }
    } else {
      // A mask byte is 0 or 1: an excluded sample lands in the "no value" slot, without a branch.
      for (let i = 0; i < size; i++) {
        const c = (codes1[i] as number) * (mask[i] as number);
        tally[c] = (tally[c] as number) + 1;
      }
    }
    counts.set(tally.subarray(1));
  } else {
    // A table with a slot 0 in every dimension: a sample without a value in one of them (or excluded by the
    // mask, which multiplies its code to 0) lands there and is never read, so the loop has no branch.
    const w1 = s1 + 1;
    const w2 = s2 + 1;
    const padded = new Uint32Array((s0 + 1) * w1 * w2);
    const codes2 = d2?.codes ?? null;
    const codes0 = d0?.codes ?? null;
    const m = mask ?? ALL_IN;
    const step = mask === null ? 0 : 1;
    for (let i = 0, j = 0; i < size; i++, j += step) {
      const a = (codes1[i] as number) * (m[j] as number);
      const b = codes2 === null ? 1 : (codes2[i] as number);
      const z = codes0 === null ? 1 : (codes0[i] as number);
      const cell = (z * w1 + a) * w2 + b;
      padded[cell] = (padded[cell] as number) + 1;
    }
    for (let z = 1; z <= s0; z++)
      for (let a = 1; a <= s1; a++)
        for (let b = 1; b <= s2; b++)
          counts[((z - 1) * s1 + (a - 1)) * s2 + (b - 1)] = padded[(z * w1 + a) * w2 + b] as number;
  }

  // Marginals decide which categories each dimension shows.
  const m1 = new Float64Array(s1);
  const m2 = new Float64Array(s2);
  const m0 = new Float64Array(s0);
  for (let z = 0; z < s0; z++)
    for (let a = 0; a < s1; a++)
      for (let b = 0; b < s2; b++) {
        const n = counts[(z * s1 + a) * s2 + b] as number;
        m1[a] = (m1[a] as number) + n;
        m2[b] = (m2[b] as number) + n;
        m0[z] = (m0[z] as number) + n;
      }
  const shown1 = d1.shown(m1);
  const shown2 = d2 === null ? { codes: [1], categories: [] } : d2.shown(m2);
  const shown0 = d0 === null ? { codes: [1], categories: [] } : d0.shown(m0);

  const at = (z: number, a: number, b: number) => counts[((z - 1) * s1 + (a - 1)) * s2 + (b - 1)] as number;
  const exact = (n: number) => ({ count: n, suppressed: false });
  const charts: BarchartPanel[] = shown0.codes.map((z, i0) => {
    let panelTotal = 0;
    const bars: BarRow[] = shown1.codes.map((a, i1) => {
      let total = 0;
      const segments =
        d2 === null
          ? null
          : shown2.codes.map((b, i2) => {
              const n = at(z, a, b);
              total += n;
              return { ...(shown2.categories[i2] as Category), ...exact(n) };
            });
      if (d2 === null) total = at(z, a, 1);
      panelTotal += total;
      return { ...(shown1.categories[i1] as Category), ...exact(total), segments };
    });
    const category = d0 === null ? null : (shown0.categories[i0] as Category);
    return { key: category?.key ?? null, label: category?.label ?? null, bars, total: panelTotal };
  });

  const bars: Bar[] = shown1.codes.map((a, i1) => {
    let n = 0;
    for (const z of shown0.codes) for (const b of shown2.codes) n += at(z, a, b);
    return { ...(shown1.categories[i1] as Category), ...exact(n) };
  });
  return {
    bars,
    total: bars.reduce((sum, bar) => sum + (bar.count ?? 0), 0),
    series: d2 === null ? null : shown2.categories,
    charts,
  };
}
