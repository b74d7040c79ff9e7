/**
 * Response shapes of the visualization server, as documented in `docs/http-api.md`.
 * @module
 */

/**
 * The type of a term. `null` on a parent term that only groups children.
 *
 * @example
 * const numeric: TermType[] = ['integer', 'float'];
 */
export type TermType =
  | 'categorical'
  | 'integer'
  | 'float'
  | 'condition'
  | 'survival'
  | 'multivalue'
  | 'date'
  // Servers may add types; keep the known ones in autocompletion without closing the set.
  | (string & {});

/**
 * One node of a dataset's term tree.
 *
 * @example
 * const sex: Term = { id: 'sex', name: 'Sex', type: 'categorical', isleaf: true, supported: true };
 */
export interface Term {
  id: string;
  name: string;
  type: TermType | null;
  isleaf: boolean;
  /** `false` for types the server cannot chart yet (condition, survival, date, ...). */
  supported: boolean;
}

/**
 * One bar of a barchart: a category, or a bin of a numeric term.
 *
 * @example
 * const hidden: Bar = { key: 'Other', label: 'Other', count: null, suppressed: true };
 */
export interface Bar {
  key: string;
  label: string;
  /** `null` when suppressed. */
  count: number | null;
  /** `true` when the count is below the dataset's `minSampleSize` for an anonymous caller. */
  suppressed: boolean;
}

/**
 * Names of the server routes the widget calls; each error and event says which one it came from.
 *
 * @example
 * const route: RouteName = 'samples';
 */
export type RouteName = 'config' | 'terms' | 'barchart' | 'samples';

/**
 * `GET /termdb/config`.
 *
 * @example
 * const headerKey = config.auth.headerKey; // 'x-ds-access-token'
 */
export interface TermdbConfig {
  dslabel: string;
  genome: string;
  auth: {
    headerKey: string;
    tokenRequired: Partial<Record<RouteName, boolean>>;
  };
  /** `null` when the dataset does not suppress small cells. */
  minSampleSize: number | null;
  /** `null` when the `terms` route needs a token that the request did not carry. */
  rootTerms: Term[] | null;
  cohorts: { id: string; name: string }[] | null;
}

/**
 * `GET /termdb/barchart`.
 *
 * @example
 * const shown = result.bars.filter((bar) => !bar.suppressed);
 */
export interface BarchartResult {
  term: Term;
  bars: Bar[];
  /** `null` when any bar is suppressed, so hidden cells cannot be recovered by subtraction. */
  total: number | null;
  cohorts: string[] | null;
}

/**
 * One row of `GET /termdb/samples`.
 *
 * @example
 * const row: SampleRow = { sample: '2646', value: 'Female' };
 */
export interface SampleRow {
  sample: string;
  value: string | number;
}

/**
 * `GET /termdb/samples`.
 *
 * @example
 * const pages = Math.ceil(result.total / result.pageSize);
 */
export interface SamplesResult {
  term: Term;
  rows: SampleRow[];
  page: number;
  pageSize: number;
  total: number;
}
