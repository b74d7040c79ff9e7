import type { RangeClause } from '@pp-embed/viz-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { NumericColumn } from './columns.js';
import { applyFilter, cohortMasks, compileFilter } from './selection.js';

/** A numeric column of `samples` samples over `distinct` values 0, 0.5, 1, ... (every seventh without a value). */
function column(samples: number, distinct: number): { column: NumericColumn; value: (i: number) => number } {
  const values = Float64Array.from({ length: distinct }, (_, k) => k / 2);
  const ranks = new Uint32Array(samples);
  for (let i = 0; i < samples; i++) ranks[i] = i % 7 === 0 ? 0 : ((i * 7919) % distinct) + 1;
  const value = (i: number) => (ranks[i] === 0 ? NaN : (values[(ranks[i] as number) - 1] as number));
  const numeric = { kind: 'numeric', ranks, values, order: null, starts: null } as unknown as NumericColumn;
  return { column: numeric, value };
}

describe('filters', () => {
  // Few distinct values are looked up in a table, many compared by rank: both must keep the same samples.
  it.each([
    ['a few distinct values', 40],
    ['more distinct values than a lookup table holds', 70_000],
  ])('keep exactly the samples whose value is in range, with %s', (_name, distinct) => {
    const size = 100_000;
    const { column: numeric, value } = column(size, distinct);
    const base = Uint8Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 0 : 1));
    fc.assert(
      fc.property(
        fc.record({
          lower: fc.option(fc.tuple(fc.constantFrom('gt', 'gte'), fc.integer({ min: -2, max: distinct })), {
            nil: undefined,
          }),
          upper: fc.option(fc.tuple(fc.constantFrom('lt', 'lte'), fc.integer({ min: -2, max: distinct })), {
            nil: undefined,
          }),
        }),
        ({ lower, upper }) => {
          if (!lower && !upper) return;
          const clause: RangeClause = {
            term: 'x',
            ...(lower && { [lower[0]]: lower[1] / 2 }),
            ...(upper && { [upper[0]]: upper[1] / 2 }),
          };
          const mask = applyFilter(
            size,
            base,
            compileFilter([clause], () => numeric),
          ) as Uint8Array;
          const keep = (v: number) =>
            !Number.isNaN(v) &&
            (clause.gt === undefined || v > clause.gt) &&
            (clause.gte === undefined || v >= clause.gte) &&
            (clause.lt === undefined || v < clause.lt) &&
            (clause.lte === undefined || v <= clause.lte);
          for (let i = 0; i < size; i += 97)
            expect(mask[i], `sample ${i}`).toBe(base[i] === 1 && keep(value(i)) ? 1 : 0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('never writes to the grant it narrows, and never keeps a sample outside it', () => {
    const { column: numeric } = column(1000, 10);
    const base = Uint8Array.from({ length: 1000 }, (_, i) => i % 2);
    const before = base.slice();
    const mask = applyFilter(
      1000,
      base,
      compileFilter(
        [
          { term: 'x', gte: 0 },
          { term: 'x', lt: 4 },
          { term: 'x', lte: 3 },
        ],
        () => numeric,
      ),
    ) as Uint8Array;
    expect(base).toEqual(before);
    for (let i = 0; i < 1000; i++) if (base[i] === 0) expect(mask[i]).toBe(0);
    expect(applyFilter(1000, base, [])).toBe(base);
  });

  it('gives every sample of a union of cohorts once, and none for unknown ones', () => {
    const members = new Map([
      ['A', Uint8Array.from([1, 1, 0, 0])],
      ['B', Uint8Array.from([0, 1, 1, 0])],
    ]);
    const masks = cohortMasks(4, members);
    expect(masks(null)).toBeNull();
    expect([...(masks(['A', 'B']) as Uint8Array)]).toEqual([1, 1, 1, 0]);
    expect([...(masks(['NOPE']) as Uint8Array)]).toEqual([0, 0, 0, 0]);
    expect([...(masks([]) as Uint8Array)]).toEqual([0, 0, 0, 0]);
  });
});
