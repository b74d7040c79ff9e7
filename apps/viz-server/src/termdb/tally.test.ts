import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Ranked } from './columns.js';
import { tallyByRank } from './tally.js';

/** A column from per-sample values (NaN: none), with its value order, as the loader builds it. */
function column(values: number[]): Ranked {
  const distinct = [...new Set(values.filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
  const ranks = new Uint32Array(values.map((v) => (Number.isNaN(v) ? 0 : distinct.indexOf(v) + 1)));
  const order: number[] = [];
  const starts: number[] = [];
  distinct.forEach((d) => {
    starts.push(order.length);
    values.forEach((v, s) => v === d && order.push(s));
  });
  starts.push(order.length);
  const ties = distinct.map((d) => values.filter((v) => v === d).length);
  return {
    ranks,
    values: Float64Array.from(distinct),
    order: Uint32Array.from(order),
    starts: Uint32Array.from(starts),
    maxTies: Math.max(0, ...ties),
  };
}

function visits(t: ReturnType<typeof tallyByRank>) {
  const out: string[] = [];
  t.replay((rank, groups, counts, events) => {
    for (const g of groups) out.push(`${rank}:${g}:${counts[g]}:${events[g]}`);
  });
  return out;
}

interface Sample {
  v: number | undefined;
  g: number;
  in: boolean;
  event: boolean;
}

/** What a replay must visit, counted sample by sample: `rank:group:samples:events`, by rank, then group. */
function reference(col: Ranked, samples: Sample[], grouped: boolean, masked: boolean, withEvents: boolean) {
  const cells = new Map<string, { rank: number; g: number; n: number; e: number }>();
  samples.forEach((s, i) => {
    const rank = col.ranks[i] as number;
    const g = grouped ? s.g : 1;
    if (rank === 0 || g === 0 || (masked && !s.in)) return;
    const key = `${rank}:${g}`;
    const cell = cells.get(key) ?? { rank, g, n: 0, e: 0 };
    cell.n++;
    if (withEvents && s.event) cell.e++;
    cells.set(key, cell);
  });
  return [...cells.values()]
    .sort((a, b) => a.rank - b.rank || a.g - b.g)
    .map((c) => `${c.rank}:${c.g}:${c.n}:${c.e}`);
}

/** A survival column's code: 2 × rank for the event, 2 × rank − 1 when censored. */
const rankEvent = (col: Ranked, samples: Sample[]) =>
  Uint32Array.from(samples, (s, i) => {
    const rank = col.ranks[i] as number;
    return rank === 0 ? 0 : 2 * rank - (s.event ? 0 : 1);
  });

describe('tallies by rank', () => {
  it('count every (rank, group) and its events as a sample-by-sample count does, from a table or walked in value order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            v: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
            g: fc.integer({ min: 0, max: 4 }),
            in: fc.boolean(),
            event: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (samples, grouped, masked, withEvents) => {
          const col = column(samples.map((s) => s.v ?? NaN));
          const groups = grouped ? Uint8Array.from(samples.map((s) => s.g)) : null;
          const mask = masked ? Uint8Array.from(samples.map((s) => (s.in ? 1 : 0))) : null;
          const events = withEvents ? rankEvent(col, samples) : null;
          const expected = reference(col, samples, grouped, masked, withEvents);
          const table = tallyByRank(samples.length, mask, col, groups, 4, events);
          const walk = tallyByRank(samples.length, mask, col, groups, 4, events, 0);
          expect(visits(table)).toEqual(expected);
          expect(visits(walk)).toEqual(expected);
          expect([...walk.n]).toEqual([...table.n]);
          expect(walk.lastRank).toBe(table.lastRank);
          const counted = samples.filter(
            (s) => (!masked || s.in) && s.v !== undefined && (!grouped || s.g > 0),
          ).length;
          expect(table.n.reduce((a, b) => a + b, 0)).toBe(counted);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts a value shared by more samples than a 16-bit cell holds', () => {
    const size = 70_000;
    const samples: Sample[] = Array.from({ length: size }, (_, i) => ({
      v: i < 69_990 ? 5 : 7,
      g: i < 100 ? 2 : 1,
      in: true,
      event: i % 1000 === 0,
    }));
    const col = column(samples.map((s) => s.v ?? NaN));
    expect(col.maxTies).toBe(69_990);
    const tally = tallyByRank(
      size,
      null,
      col,
      Uint8Array.from(samples.map((s) => s.g)),
      2,
      rankEvent(col, samples),
    );
    expect(visits(tally)).toEqual(reference(col, samples, true, false, true));
    expect([...tally.n]).toEqual([0, 69_900, 100]);
    // One cell, censored samples of value 5 in group 1, holds more than 65,535.
    expect(visits(tally)[0]).toBe('1:1:69890:69');
  });
});
