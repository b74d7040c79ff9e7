// The lattice against an attacker written apart from its audit (test/linear-attack.ts): for random tables, every
// count hidden in any table of the lattice stays hidden given every count shown in any of them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { determined, type Published } from '../../test/linear-attack.js';
import { Lattice, SHOWN } from './lattice.js';
import { BLANK, MASKED, SMALL, WITHHELD } from './suppress.js';

/** What the marks of a hidden count tell an attacker who knows the rule. */
function bounds(state: number, k: number): [number, number] {
  if (state === SMALL) return [1, k - 1];
  if (state === WITHHELD) return [k, Infinity];
  if (state === MASKED) return [1, Infinity];
  if (state === BLANK) return [0, Infinity];
  throw new Error(`state ${state}`);
}
import { projector, shapeOf } from './shape.js';

/** Every table of the lattice, what it shows, and whether an attacker with all of it recovers a hidden count. */
function attack(lattice: Lattice, sizes: number[], k: number) {
  const joint = shapeOf(sizes);
  const D = sizes.length;
  const full = (1 << D) - 1;
  const kept = (mask: number) => sizes.map((_, d) => d).filter((d) => (mask >> d) & 1);
  // Unknowns: the joint table's cells, then one per hidden cell of a smaller table.
  const sums: Published[] = [];
  const targets: { unknown: number; value: number; where: string }[] = [];
  let next = joint.cells;
  const counts = lattice.counts(full);
  const lo = Array.from({ length: joint.cells }, () => 0);
  const hi = Array.from({ length: joint.cells }, () => Infinity);
  for (let mask = full; mask >= 0; mask--) {
    const { project, shape } = projector(joint, kept(mask));
    const states = lattice.pattern(mask);
    const members = Array.from({ length: shape.cells }, () => [] as number[]);
    for (let c = 0; c < joint.cells; c++) members[project(c)]?.push(c);
    const values = lattice.counts(mask);
    for (let u = 0; u < shape.cells; u++) {
      if (states[u] === SHOWN) sums.push({ of: members[u] as number[], value: values[u] as number });
      else {
        const unknown = next++;
        const [l, h] = bounds(states[u] as number, k);
        lo.push(l);
        hi.push(h);
        sums.push({ of: members[u] as number[], minus: [unknown], value: 0 });
        targets.push({ unknown, value: values[u] as number, where: `${mask}:${u}` });
      }
    }
  }
  // The bounds on hidden joint cells tighten what the attacker knows about them.
  const states = lattice.pattern(full);
  for (let c = 0; c < joint.cells; c++) {
    if (states[c] === SHOWN) [lo[c], hi[c]] = [counts[c] as number, counts[c] as number];
    else [lo[c], hi[c]] = bounds(states[c] as number, k);
  }
  const found = determined(next, sums, lo, hi);
  return targets.filter((t) => found.has(t.unknown));
}

const table = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 }).chain((sizes) =>
  fc.record({
    sizes: fc.constant(sizes.map((s) => s + 1)),
    counts: fc.array(
      fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 5, max: 40 })),
      {
        minLength: sizes.reduce((n, s) => n * (s + 1), 1),
        maxLength: sizes.reduce((n, s) => n * (s + 1), 1),
      },
    ),
  }),
);

describe('a lattice of tables under a rule', () => {
  it('never lets an attacker with every shown count of every table recover a hidden one', () => {
    fc.assert(
      fc.property(table, ({ sizes, counts }) => {
        const dims = sizes.map((size, d) => ({ key: `t${d}`, size }));
        const lattice = new Lattice(dims, Float64Array.from(counts), [{ threshold: 5, complementary: true }]);
        expect(attack(lattice, sizes, 5)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('hides a line under a small margin whole, but not a zero that another shown margin says is 0', () => {
    // A (none, a1, a2) by B (none, b1, b2). b1 holds 3 samples (small): its line is hidden whole, zeros included,
    // but a2 has no samples at all (its margin shows 0), so (a2, b1) is known to be 0 and stays shown.
    const counts = Float64Array.from([0, 0, 10, 10, 3, 10, 0, 0, 0]);
    const lattice = new Lattice(
      [
        { key: 'A', size: 3 },
        { key: 'B', size: 3 },
      ],
      counts,
      [{ threshold: 5, complementary: true }],
    );
    const states = lattice.pattern(3);
    expect([states[1], states[4], states[7]]).toEqual([BLANK, BLANK, SHOWN]);
    expect(lattice.box([[2], [1]])).toEqual({ value: 0, state: SHOWN });
    expect(attack(lattice, [3, 3], 5)).toEqual([]);
  });
});
