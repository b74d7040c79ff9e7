// The dimensions answers under a disclosure rule count by: a term's categories, a numeric term's default bins
// (one binning per term: two would overlap), a survival term's time intervals. Each is the same in every answer, whatever the request's
// filter or scope: the bins span the term's values over the whole dataset, so that no request can move an edge
// and isolate a few samples between two answers.
import { type Filter, isCategoryClause } from '@pp-embed/viz-api';

import { binRanges, nextUp } from '../termdb/bins.js';
import type { CategoricalColumn, Codes, Column, NumericColumn, SurvivalColumn } from '../termdb/columns.js';
import { FilterInvalidError } from '../termdb/errors.js';
import { dimensionKey } from '../termdb/dimension.js';
import { riskTimes } from '../termdb/survival.js';
import type { LatticeDim } from './lattice.js';

/** A dimension with each sample's code in it (0: no value). */
export interface ControlDim extends LatticeDim {
  readonly codes: Codes;
}

function codesFor(size: number, largest: number): Codes {
  return largest < 256
    ? new Uint8Array(size)
    : largest < 65_536
      ? new Uint16Array(size)
      : new Uint32Array(size);
}

/** A categorical term by its categories. @example categoricalDim('sex', column); */
export function categoricalDim(termId: string, column: CategoricalColumn): ControlDim {
  return { key: dimensionKey('c', termId), size: column.keys.length + 1, codes: column.codes };
}

/** A numeric term by its default bins (the barchart's bars). @example binDim('agedx', column); */
export function binDim(termId: string, column: NumericColumn): ControlDim {
  return { key: dimensionKey('b', termId), size: column.layout.length + 1, codes: column.binCodes };
}

/** The time grid of a survival term: intervals `[start + j*step, start + (j+1)*step)`, the last open-ended. */
export interface SurvivalGrid {
  readonly start: number;
  readonly step: number;
  readonly intervals: number;
  /** The number-at-risk table's times: every other grid time from 0. */
  readonly ticks: readonly number[];
}

export interface SurvivalDim extends ControlDim {
  readonly grid: SurvivalGrid;
}

/**
 * A survival term by time interval and outcome: code `1 + 2j` for a sample censored in interval j, `2 + 2j` for an
 * event in it. The grid comes from the term's largest time in the whole dataset: the at-risk table's round times
 * (about six), each interval half of one of their steps.
 *
 * @example
 * survivalDim('os', column).grid; // { start: 0, step: 2.5, intervals: 10, ticks: [0, 5, 10, 15, 20, 25] }
 */
export function survivalDim(termId: string, column: SurvivalColumn): SurvivalDim {
  const { values, ranks, rankEvent } = column;
  const max = values.length === 0 ? 0 : (values[values.length - 1] as number);
  const min = values.length === 0 ? 0 : (values[0] as number);
  const ticks = riskTimes(max);
  const riskStep = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : 1;
  const step = riskStep / 2;
  const start = Math.min(0, Math.floor(min / step) * step);
  const intervals = Math.max(1, Math.floor((max - start) / step) + 1);
  const intervalOfRank = new Uint32Array(values.length + 1);
  values.forEach((v, r) => {
    intervalOfRank[r + 1] = Math.min(intervals - 1, Math.floor((v - start) / step)) + 1;
  });
  const codes = codesFor(ranks.length, 2 * intervals);
  for (let i = 0; i < ranks.length; i++) {
    const j = intervalOfRank[ranks[i] as number] as number;
    // rankEvent is even for an event, odd for a censored time.
    if (j > 0) codes[i] = 2 * j - 1 + ((rankEvent[i] as number) % 2 === 0 ? 1 : 0);
  }
  return {
    key: dimensionKey('s', termId),
    size: 2 * intervals + 1,
    codes,
    grid: { start, step, intervals, ticks },
  };
}

/** What a filter adds to an answer under a rule: a dimension per term, and the categories or bins it keeps. */
export interface FilterDims {
  readonly dims: ControlDim[];
  /** Per dimension of `dims`: the indices kept. */
  readonly selections: number[][];
}

/**
 * A filter as dimensions and selections. A range must follow the term's bins (it keeps whole bins), since a range
 * that cuts a bin would let two answers differ by the few samples of the cut. Validation of terms and categories
 * is `compileFilter`'s, called before this.
 *
 * @throws FilterInvalidError naming the clause whose range cuts a bin.
 * @example
 * filterDims([{ term: 'sex', values: ['2'] }], columnOf); // { dims: [sex], selections: [[2]] }
 */
export function filterDims(filter: Filter, columnOf: (termId: string) => Column | undefined): FilterDims {
  const dims: ControlDim[] = [];
  const selections: number[][] = [];
  filter.forEach((clause, index) => {
    const column = columnOf(clause.term) as CategoricalColumn | NumericColumn;
    let dim: ControlDim;
    let keep: Set<number>;
    if (isCategoryClause(clause)) {
      const c = column as CategoricalColumn;
      dim = categoricalDim(clause.term, c);
      keep = new Set(clause.values.map((v) => c.codeOf.get(v) as number));
    } else {
      const n = column as NumericColumn;
      dim = binDim(clause.term, n);
      keep = new Set(binsInRange(n, clause, `filter[${index}]`));
    }
    const at = dims.findIndex((d) => d.key === dim.key);
    if (at < 0) {
      dims.push(dim);
      selections.push([...keep].sort((a, b) => a - b));
    } else {
      // Two clauses on one term: samples must pass both.
      selections[at] = (selections[at] as number[]).filter((j) => keep.has(j));
    }
  });
  return { dims, selections };
}

/** The bins (codes) a range keeps whole; a bin it cuts is refused. */
function binsInRange(
  column: NumericColumn,
  clause: { gt?: number; gte?: number; lt?: number; lte?: number },
  at: string,
): number[] {
  const lo = clause.gt !== undefined ? nextUp(clause.gt) : (clause.gte ?? -Infinity);
  const hi = clause.lt !== undefined ? clause.lt : clause.lte !== undefined ? nextUp(clause.lte) : Infinity;
  const kept: number[] = [];
  const ranges = binRanges(column.layout);
  ranges.forEach((r, b) => {
    if (r.hi <= lo || r.lo >= hi || r.lo >= r.hi) return;
    if (r.lo >= lo && r.hi <= hi) kept.push(b + 1);
    else {
      const labels = column.layout.map((bin) => bin.label).join(', ');
      throw new FilterInvalidError(
        `${at} cuts the bin ${JSON.stringify((column.layout[b] as { label: string }).label)}: under this dataset's disclosure rule a range keeps whole bins (${labels}).`,
      );
    }
  });
  return kept;
}

/**
 * Counts the samples of `mask` (null: all) by every dimension: the joint table, "no value" included.
 *
 * @example
 * const joint = tallyJoint(space.size, mask, [sex, race]);
 */
export function tallyJoint(size: number, mask: Uint8Array | null, dims: readonly ControlDim[]): Float64Array {
  const strides: number[] = new Array<number>(dims.length);
  let cells = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    strides[d] = cells;
    cells *= (dims[d] as ControlDim).size;
  }
  // Counted as integers (a million samples fit), handed on as doubles.
  const joint = new Float64Array(cells);
  const codes = dims.map((d) => d.codes);
  // Kept to a few array reads per sample: the shapes answers have most often get their own loops.
  if (codes.length === 1) {
    const a = codes[0] as Codes;
    for (let i = 0; i < size; i++) {
      if (mask !== null && mask[i] !== 1) continue;
      const c = a[i] as number;
      joint[c] = (joint[c] as number) + 1;
    }
  } else if (codes.length === 2) {
    const [a, b] = codes as [Codes, Codes];
    const sa = strides[0] as number;
    for (let i = 0; i < size; i++) {
      if (mask !== null && mask[i] !== 1) continue;
      const c = (a[i] as number) * sa + (b[i] as number);
      joint[c] = (joint[c] as number) + 1;
    }
  } else if (codes.length === 3) {
    const [a, b, c] = codes as [Codes, Codes, Codes];
    const [sa, sb] = strides as [number, number, number];
    for (let i = 0; i < size; i++) {
      if (mask !== null && mask[i] !== 1) continue;
      const x = (a[i] as number) * sa + (b[i] as number) * sb + (c[i] as number);
      joint[x] = (joint[x] as number) + 1;
    }
  } else if (codes.length === 4) {
    const [a, b, c, e] = codes as [Codes, Codes, Codes, Codes];
    const [sa, sb, sc] = strides as [number, number, number, number];
    for (let i = 0; i < size; i++) {
      if (mask !== null && mask[i] !== 1) continue;
      const x = (a[i] as number) * sa + (b[i] as number) * sb + (c[i] as number) * sc + (e[i] as number);
      joint[x] = (joint[x] as number) + 1;
    }
  } else {
    const D = codes.length;
    for (let i = 0; i < size; i++) {
      if (mask !== null && mask[i] !== 1) continue;
      let c = 0;
      for (let d = 0; d < D; d++) c += ((codes[d] as Codes)[i] as number) * (strides[d] as number);
      joint[c] = (joint[c] as number) + 1;
    }
  }
  return joint;
}
