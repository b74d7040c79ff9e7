// Shapes of docs/http-api.md, produced by this layer and sent as they are by the routes.

export type TermType =
  'categorical' | 'integer' | 'float' | 'condition' | 'survival' | 'multivalue' | 'date' | (string & {});

export interface Term {
  readonly id: string;
  readonly name: string;
  /** null for a parent (non-leaf) term that only groups children. */
  readonly type: TermType | null;
  readonly isleaf: boolean;
  /** false for types the server cannot chart yet (condition, survival, date, multivalue, parents, ...). */
  readonly supported: boolean;
}

export interface Bar {
  /** Category key, or the bin label for numeric terms. */
  readonly key: string;
  /** What a researcher reads: the category label, or a bin such as "10 to <20". */
  readonly label: string;
  /** null when suppressed. */
  readonly count: number | null;
  readonly suppressed: boolean;
}

export interface BarchartResult {
  readonly term: Term;
  readonly bars: Bar[];
  /** Samples counted; null when any bar is suppressed, so that suppressed cells cannot be recovered. */
  readonly total: number | null;
  /** The cohort restriction applied, or null. */
  readonly cohorts: string[] | null;
}

export interface SampleRow {
  readonly sample: string;
  /** The category label for categorical terms, the number for numeric terms. */
  readonly value: string | number;
}

export interface SamplesResult {
  readonly term: Term;
  readonly rows: SampleRow[];
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
}

export interface Cohort {
  readonly id: string;
  readonly name: string;
}

/**
 * What one caller may see, decided by the access layer from the token's role data and required by every
 * method that touches samples, so that no route can forget it.
 */
export interface Scope {
  /** Only samples in at least one of these cohorts; `[]` means no samples; null means no restriction. */
  readonly cohorts: readonly string[] | null;
  /** Aggregated counts `0 < n < suppressBelow` are withheld; null turns suppression off. */
  readonly suppressBelow: number | null;
}

export interface Page {
  /** 1-based. */
  readonly page: number;
  /** 1 to {@link MAX_PAGE_SIZE}. */
  readonly pageSize: number;
}

export const MAX_PAGE_SIZE = 500;
