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
  return {
    ranks,
    values: Float64Array.from(distinct),
    order: Uint32Array.from(order),
    starts: Uint32Array.from(starts),
  };
}

function visits(t: ReturnType<typeof tallyByRank>) {
  const out: string[] = [];
  t.replay((rank, groups, counts, events) => {
    for (const g of groups) out.push(`${rank}:${g}:${counts[g]}:${events[g]}`);
  });
  return out;
}

describe('tallies by rank', () => {
  it('visit the same counts whether read from a table or walked in value order', () => {
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
        (samples) => {
          const col = column(samples.map((s) => s.v ?? NaN));
          const groups = Uint8Array.from(samples.map((s) => s.g));
          const mask = Uint8Array.from(samples.map((s) => (s.in ? 1 : 0)));
          const outcome = Uint8Array.from(samples.map((s) => (s.event ? 2 : 1)));
          const table = tallyByRank(samples.length, mask, col, groups, 4, outcome);
          const walk = tallyByRank(samples.length, mask, col, groups, 4, outcome, 0);
          expect(visits(walk)).toEqual(visits(table));
          expect([...walk.n]).toEqual([...table.n]);
          expect(walk.lastRank).toBe(table.lastRank);
          // And both count exactly the masked samples with a value and a group.
          const expected = samples.filter((s) => s.in && s.v !== undefined && s.g > 0).length;
          expect(table.n.reduce((a, b) => a + b, 0)).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
