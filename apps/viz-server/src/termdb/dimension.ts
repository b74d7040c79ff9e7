// A term as a dimension of a chart: per-sample codes and the categories (or bins) they stand for. The
// barchart's bars, overlays and panels, the summary's groups and the survival chart's curves are all
// dimensions, so that every chart splits samples the same way.
import type { Category, Term } from '@pp-embed/viz-api';

import { layoutBins } from './bins.js';
import type { CategoricalColumn, Codes, NumericColumn } from './columns.js';

/** A term's categories or bins as codes 1..size per sample (0: no value). */
export interface Dimension {
  readonly term: Term;
  /** Names how the term is split, the same in every answer (a disclosure rule's tables are keyed by it). */
  readonly key: string;
  readonly codes: Codes;
  readonly size: number;
  /**
   * Which codes a chart shows, in order, given how many counted samples have each (`counts[code - 1]`):
   * the categories with samples, or every bin up to the one holding the largest value counted.
   */
  shown(counts: ArrayLike<number>): { codes: number[]; categories: Category[] };
}

/** A categorical term: its categories with at least one sample, in display order. */
function categoricalDimension(term: Term, column: CategoricalColumn): Dimension {
  return {
    term,
    key: dimensionKey('c', term.id),
    codes: column.codes,
    size: column.keys.length,
    shown(counts) {
      const codes: number[] = [];
      for (let c = 1; c <= column.keys.length; c++) if ((counts[c - 1] as number) > 0) codes.push(c);
      return {
        codes,
        categories: codes.map((c) => ({
          key: column.keys[c - 1] as string,
          label: column.labels[c - 1] as string,
        })),
      };
    },
  };
}

/**
 * A numeric term by its default bins. The column's bins are laid out up to the dataset's largest value; a chart
 * lays them out again up to the largest value it counts (the last bin is open-ended, "≥X"), which keeps the
 * bins before it and merges nothing, since no counted value lies beyond it.
 */
function numericDimension(term: Term, column: NumericColumn): Dimension {
  return {
    term,
    key: dimensionKey('b', term.id),
    codes: column.binCodes,
    size: column.layout.length,
    shown(counts) {
      let last = -1;
      for (let b = 0; b < column.layout.length; b++) if ((counts[b] as number) > 0) last = b;
      const bins =
        last < 0 ? layoutBins(column.bins, null) : layoutBins(column.bins, column.binSample[last] as number);
      const codes = bins.map((_, b) => b + 1).slice(0, column.layout.length);
      return {
        codes,
        categories: codes.map((c) => ({
          key: (bins[c - 1] as { label: string }).label,
          label: (bins[c - 1] as { label: string }).label,
        })),
      };
    },
  };
}

/**
 * The key of a term split one way: `c` by categories, `b` by default bins, `d` by density bins, `s` by survival
 * time interval and outcome.
 *
 * @example
 * dimensionKey('c', 'sex'); // '["c","sex"]'
 */
export function dimensionKey(kind: 'c' | 'b' | 'd' | 's', termId: string): string {
  return JSON.stringify([kind, termId]);
}

/**
 * The dimension of a categorical or numeric column.
 *
 * @example
 * const bars = dimensionOf(term, column);
 * const { categories } = bars.shown(counts);
 */
export function dimensionOf(term: Term, column: CategoricalColumn | NumericColumn): Dimension {
  return column.kind === 'categorical' ? categoricalDimension(term, column) : numericDimension(term, column);
}
