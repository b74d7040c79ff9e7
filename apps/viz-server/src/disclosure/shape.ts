// Dense tables of counts over a few dimensions, and how the cells of a table fall into the cells of a table that
// keeps some of its dimensions (its margin). Every dimension has a "no value" category at index 0.

/** A dense table's axis lengths and strides; the last dimension varies fastest. */
export interface Shape {
  readonly sizes: readonly number[];
  readonly strides: readonly number[];
  readonly cells: number;
}

/**
 * The shape of a table with these axis lengths.
 *
 * @example
 * shapeOf([3, 4]); // { sizes: [3, 4], strides: [4, 1], cells: 12 }
 */
export function shapeOf(sizes: readonly number[]): Shape {
  const strides = new Array<number>(sizes.length);
  let cells = 1;
  for (let d = sizes.length - 1; d >= 0; d--) {
    strides[d] = cells;
    cells *= sizes[d] as number;
  }
  return { sizes: [...sizes], strides, cells };
}

/** The coordinate of cell `c` along dimension `d`. @example coordinate(shapeOf([3, 4]), 5, 0); // 1 */
export function coordinate(shape: Shape, c: number, d: number): number {
  return Math.floor(c / (shape.strides[d] as number)) % (shape.sizes[d] as number);
}

/**
 * Maps the cells of a table to the cells of its margin over `kept` (positions of the dimensions kept, ascending).
 *
 * @example
 * const toRows = projector(shapeOf([3, 4]), [0]);
 * toRows.project(5); // 1: cell (1, 1) adds to row 1
 */
export function projector(
  shape: Shape,
  kept: readonly number[],
): { shape: Shape; project(c: number): number } {
  const margin = shapeOf(kept.map((d) => shape.sizes[d] as number));
  const from = kept.map((d) => shape.strides[d] as number);
  const sizes = kept.map((d) => shape.sizes[d] as number);
  const to = margin.strides;
  return {
    shape: margin,
    project(c) {
      let u = 0;
      for (let i = 0; i < from.length; i++) {
        u += (Math.floor(c / (from[i] as number)) % (sizes[i] as number)) * (to[i] as number);
      }
      return u;
    },
  };
}

/**
 * Sums a table into its margin over `kept`.
 *
 * @example
 * marginOf([1, 2, 3, 4], shapeOf([2, 2]), [0]); // Float64Array [3, 7]
 */
export function marginOf(counts: ArrayLike<number>, shape: Shape, kept: readonly number[]): Float64Array {
  const { shape: margin, project } = projector(shape, kept);
  const out = new Float64Array(margin.cells);
  for (let c = 0; c < shape.cells; c++) {
    const n = counts[c] as number;
    if (n !== 0) {
      const u = project(c);
      out[u] = (out[u] as number) + n;
    }
  }
  return out;
}
