// Small-cell suppression for tables of counts, one rule for every chart.
//
// Primary: a count 0 < n < k is not shown (k is the dataset's minSampleSize, for callers without a verified
// token). Zeros are shown. Complementary: a line of the table (the cells that differ in one dimension only:
// the bars of one chart, the segments of one bar, one overlay category across the bars) adds up to a number a
// caller can obtain from another chart of the same data; a line with exactly one hidden cell would give that
// cell away by subtraction, so the smallest shown non-zero cell of the line is withheld too, until no line has
// exactly one. A total is shown only when none of its cells is hidden.

/** Per cell: shown. */
export const SHOWN = 0;
/** Per cell: below the threshold, `0 < n < k`. */
export const SMALL = 1;
/** Per cell: not small, withheld so that a small cell cannot be worked out by subtraction. */
export const WITHHELD = 2;

/**
 * Which cells of a dense table of counts are hidden: `SHOWN`, `SMALL` or `WITHHELD` per cell, in the table's
 * own order (the last dimension varies fastest). With `k` null nothing is hidden.
 *
 * @example
 * hiddenCells([3, 40, 12], [3], 5); // Uint8Array [1, 0, 2]: 3 is small, 12 is withheld to protect it
 */
export function hiddenCells(
  counts: ArrayLike<number>,
  shape: readonly number[],
  k: number | null,
): Uint8Array {
  const cells = counts.length;
  const hidden = new Uint8Array(cells);
  if (k === null) return hidden;
  let any = false;
  for (let c = 0; c < cells; c++) {
    const n = counts[c] as number;
    if (n > 0 && n < k) {
      hidden[c] = SMALL;
      any = true;
    }
  }
  if (!any) return hidden;

  // Strides of each dimension in the flat order. A line along dimension d is named by its first cell (the one
  // whose coordinate d is 0); hiddenIn[d][first] counts its hidden cells.
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const lineOf = (c: number, d: number) =>
    c - (Math.floor(c / (strides[d] as number)) % (shape[d] as number)) * (strides[d] as number);
  const hiddenIn = shape.map(() => new Uint32Array(cells));
  const count = (c: number) =>
    shape.forEach((_, d) => {
      const lines = hiddenIn[d] as Uint32Array;
      const line = lineOf(c, d);
      lines[line] = (lines[line] as number) + 1;
    });
  for (let c = 0; c < cells; c++) if (hidden[c] !== SHOWN) count(c);
  const hide = (c: number) => {
    hidden[c] = WITHHELD;
    count(c);
  };

  let changed = true;
  while (changed) {
    changed = false;
    shape.forEach((length, d) => {
      if (length < 2) return;
      const stride = strides[d] as number;
      const lines = hiddenIn[d] as Uint32Array;
      for (let start = 0; start < cells; start++) {
        if (lineOf(start, d) !== start || lines[start] !== 1) continue;
        // The cell to withhold: one that also completes another line left with a single hidden cell, if any
        // (one cell then protects two), else the smallest; never a zero, which protects nothing.
        let best = -1;
        let bestScore = -1;
        for (let j = 0; j < length; j++) {
          const c = start + j * stride;
          const n = counts[c] as number;
          if (hidden[c] !== SHOWN || n === 0) continue;
          let score = 0;
          shape.forEach((l, e) => {
            if (e !== d && l > 1 && (hiddenIn[e] as Uint32Array)[lineOf(c, e)] === 1) score++;
          });
          if (score > bestScore || (score === bestScore && n < (counts[best] as number))) {
            best = c;
            bestScore = score;
          }
        }
        if (best >= 0) {
          hide(best);
          changed = true;
        }
      }
    });
  }
  return hidden;
}

/**
 * A count as the wire shows it: the number, or null with `suppressed` telling a small count from a withheld one.
 *
 * @example
 * shownCount(3, SMALL); // { count: null, suppressed: true }
 */
export function shownCount(n: number, state: number): { count: number | null; suppressed: boolean } {
  return state === SHOWN ? { count: n, suppressed: false } : { count: null, suppressed: state === SMALL };
}

/**
 * A total of cells as the wire shows it: shown only when none of its cells is hidden; a total that is itself
 * small is `suppressed`.
 *
 * @example
 * shownTotal(7, [SHOWN, SMALL], 5); // { count: null, suppressed: false }
 */
export function shownTotal(
  n: number,
  states: Iterable<number>,
  k: number | null,
): { count: number | null; suppressed: boolean } {
  if (k !== null && n > 0 && n < k) return { count: null, suppressed: true };
  for (const state of states) if (state !== SHOWN) return { count: null, suppressed: false };
  return { count: n, suppressed: false };
}
