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
 * without `groups`). With `outcome`, samples whose outcome is 2 are also counted as events.
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
  outcome: Uint8Array | null,
  tableCells = TABLE_CELLS,
): Tally {
  const { ranks, order, starts } = column;
  const D = column.values.length;
  const G = groups === null ? 1 : groupCount;
  const n = new Float64Array(G + 1);
  const counts = new Float64Array(G + 1);
  const events = new Float64Array(G + 1);
  const touched: number[] = [];
  let lastRank = 0;

  // The table is rank-major with two counts per cell (samples, then events), so that one rank's groups are
  // read together; filling it is the hot loop, kept free of branches that depend on the data where it can be.
  const table = G * D <= tableCells ? new Uint32Array(G * D * 2) : null;
  if (table !== null) {
    for (let i = 0; i < size; i++) {
      // A mask byte is 0 or 1: multiplying turns an excluded sample into "no value" without a branch.
      const r = mask === null ? (ranks[i] as number) : (ranks[i] as number) * (mask[i] as number);
      const g = groups === null ? 1 : (groups[i] as number);
      if (r === 0 || g === 0) continue;
      const cell = ((r - 1) * G + (g - 1)) * 2;
      table[cell] = (table[cell] as number) + 1;
      // Outcome 2 (the event) adds 1 and outcome 1 (censored) adds 0.
      if (outcome !== null) table[cell + 1] = (table[cell + 1] as number) + ((outcome[i] as number) >> 1);
    }
    for (let r = 1; r <= D; r++) {
      for (let g = 1; g <= G; g++) {
        const c = table[((r - 1) * G + (g - 1)) * 2] as number;
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

  /** The counts of one rank, from the table or from the samples of that value. */
  function gather(r: number): void {
    if (table !== null) {
      const row = (r - 1) * G * 2;
      for (let g = 1; g <= G; g++) {
        const c = table[row + (g - 1) * 2] as number;
        if (c === 0) continue;
        touched.push(g);
        counts[g] = c;
        events[g] = table[row + (g - 1) * 2 + 1] as number;
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
      if (outcome?.[s] === 2) events[g] = (events[g] as number) + 1;
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
        visit(r, touched, counts, events);
        for (const g of touched) {
          counts[g] = 0;
          events[g] = 0;
        }
        touched.length = 0;
      }
    },
  };
}
