// Counted samples by (group, rank of their value), visited in ascending value order: what quantiles and
// survival curves are computed from. Two ways to get there, chosen by size:
//   - a table of counts per (group, rank), filled in one pass in sample order (sequential, cache-friendly),
//     when groups × distinct values is small (most clinical terms: ages, doses, days of follow-up);
//   - a walk along the column's value order (samples sorted by value, kept at load) otherwise, so that a
//     term with a million distinct values needs no table of that size and no sort.
import type { Codes, Ranked } from './columns.js';
import type { Mask } from './selection.js';

/** Above this many (group, rank) cells, the value-order walk is used instead of a table. */
export const TABLE_CELLS = 1 << 20;

/**
 * Called once per rank with counted samples, in ascending rank order: the groups that have some (ascending),
 * and per group the samples counted and, with an outcome, those whose outcome is the event.
 */
export type RankVisitor = (
  rank: number,
  groups: readonly number[],
  counts: Float64Array,
  events: Float64Array,
) => void;

export interface Tally {
  /** Samples counted per group code (index 0 unused). */
  readonly n: Float64Array;
  /** The highest rank counted, 0 when none. */
  readonly lastRank: number;
  /** Visits every rank with counted samples, in order; may be called more than once. */
  replay(visit: RankVisitor): void;
}

/**
 * Tallies the samples of `mask` that have a value (rank > 0) and a group (code > 0; every sample is in group 1
 * without `groups`). With `events` (a survival column's `rankEvent`: 2 × rank − 1 when censored, 2 × rank when
 * the time ends in the event), events are counted too.
 *
 * @example
 * const tally = tallyByRank(space.size, mask, column, diagnosis.codes, diagnosis.size, null);
 * tally.replay((rank, groups, counts) => { ... });
 */
export function tallyByRank(
  size: number,
  mask: Mask,
  column: Ranked,
  groups: Codes | null,
  groupCount: number,
  events: Codes | null,
  tableCells = TABLE_CELLS,
): Tally {
  const { ranks, order, starts } = column;
  const D = column.values.length;
  const G = groups === null ? 1 : groupCount;
  const n = new Float64Array(G + 1);
  const counts = new Float64Array(G + 1);
  const eventCounts = new Float64Array(G + 1);
  const touched: number[] = [];
  let lastRank = 0;

  // The table has a row per code (per rank, or per rank and outcome with `events`) and a column per group,
  // row 0 and column 0 included: an excluded sample (mask byte 0 multiplies its code to 0), one without a
  // value and one without a group land there and are never read, so the hot loop is one increment per sample
  // with no branch. Rows are rank-major, so that one rank's groups are read together.
  const S = events === null ? 1 : 2;
  const W = groups === null ? 1 : G + 1;
  const codes = events ?? ranks;
  let table: Uint16Array | Uint32Array | null = null;
  if (G * D <= tableCells) {
    // A cell counts samples that share one value, so it never passes maxTies: 16-bit cells, when they suffice,
    // halve the table and keep more of it in cache. Row 0 may wrap around; it is never read.
    table = column.maxTies < 0x10000 ? new Uint16Array((D * S + 1) * W) : new Uint32Array((D * S + 1) * W);
    const t = table;
    if (groups === null) {
      if (mask === null) {
        for (let i = 0; i < size; i++) {
          const x = codes[i] as number;
          t[x] = (t[x] as number) + 1;
        }
      } else {
        for (let i = 0; i < size; i++) {
          const x = (codes[i] as number) * (mask[i] as number);
          t[x] = (t[x] as number) + 1;
        }
      }
    } else if (mask === null) {
      for (let i = 0; i < size; i++) {
        const x = (codes[i] as number) * W + (groups[i] as number);
        t[x] = (t[x] as number) + 1;
      }
    } else {
      for (let i = 0; i < size; i++) {
        const x = (codes[i] as number) * (mask[i] as number) * W + (groups[i] as number);
        t[x] = (t[x] as number) + 1;
      }
    }
    for (let r = 1; r <= D; r++) {
      const row = rowOf(r);
      for (let g = 1; g <= G; g++) {
        const c = (t[row + g] as number) + (S === 2 ? (t[row + W + g] as number) : 0);
        if (c === 0) continue;
        n[g] = (n[g] as number) + c;
        lastRank = r;
      }
    }
  } else {
    for (let i = 0; i < size; i++) {
      const r = mask === null ? (ranks[i] as number) : (ranks[i] as number) * (mask[i] as number);
      const g = groups === null ? 1 : (groups[i] as number);
      if (r === 0 || g === 0) continue;
      n[g] = (n[g] as number) + 1;
      if (r > lastRank) lastRank = r;
    }
  }

  /**
   * Where rank `r`'s first row starts, less one: group g's count is at `rowOf(r) + g` (censored, or every sample
   * without `events`), its events at `rowOf(r) + W + g`. Without groups, group 1 is column 0.
   */
  function rowOf(r: number): number {
    return ((r - 1) * S + 1) * W - (groups === null ? 1 : 0);
  }

  /** The counts of one rank, from the table or from the samples of that value. */
  function gather(r: number): void {
    if (table !== null) {
      const row = rowOf(r);
      for (let g = 1; g <= G; g++) {
        const e = S === 2 ? (table[row + W + g] as number) : 0;
        const c = (table[row + g] as number) + e;
        if (c === 0) continue;
        touched.push(g);
        counts[g] = c;
        eventCounts[g] = e;
      }
      return;
    }
    // Columns with few distinct values keep no order: they are always tallied in a table.
    if (order === null || starts === null) throw new Error('a column without a value order was walked');
    const to = starts[r] as number;
    for (let j = starts[r - 1] as number; j < to; j++) {
      const s = order[j] as number;
      if (mask !== null && mask[s] !== 1) continue;
      const g = groups === null ? 1 : (groups[s] as number);
      if (g === 0) continue;
      if (counts[g] === 0) touched.push(g);
      counts[g] = (counts[g] as number) + 1;
      // An even code is the event (2 × rank).
      if (events !== null && ((events[s] as number) & 1) === 0)
        eventCounts[g] = (eventCounts[g] as number) + 1;
    }
    touched.sort((a, b) => a - b);
  }

  return {
    n,
    lastRank,
    replay(visit) {
      for (let r = 1; r <= lastRank; r++) {
        gather(r);
        if (touched.length === 0) continue;
        visit(r, touched, counts, eventCounts);
        for (const g of touched) {
          counts[g] = 0;
          eventCounts[g] = 0;
        }
        touched.length = 0;
      }
    },
  };
}
