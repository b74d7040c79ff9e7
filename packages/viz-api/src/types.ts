/**
 * The response bodies of the visualization server, as sent on the wire.
 * @module
 */
import type { RouteId } from './routes.js';

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
  readonly id: string;
  readonly name: string;
  /** null for a parent (non-leaf) term that only groups children. */
  readonly type: TermType | null;
  readonly isleaf: boolean;
  /** false for types the server cannot chart yet (condition, survival, date, multivalue, parents, ...). */
  readonly supported: boolean;
}

/**
 * One bar of a barchart: a category, or a bin of a numeric term.
 *
 * @example
 * const hidden: Bar = { key: 'Other', label: 'Other', count: null, suppressed: true };
 */
export interface Bar {
  /** Category key, or the bin label for numeric terms. */
  readonly key: string;
  /** What a researcher reads: the category label, or a bin such as "10 to <20". */
  readonly label: string;
  /** null when suppressed. */
  readonly count: number | null;
  /** true when the count is below the dataset's `minSampleSize` for a caller without a verified token. */
  readonly suppressed: boolean;
}

/**
 * A cohort of the dataset.
 *
 * @example
 * const abc: Cohort = { id: 'ABC', name: 'ABC cohort' };
 */
export interface Cohort {
  readonly id: string;
  readonly name: string;
}

/**
 * `GET /termdb/config`: the dataset, and what the calling origin needs to read it.
 *
 * @example
 * const headerKey = config.auth.headerKey; // 'x-ds-access-token'
 */
export interface TermdbConfig {
  readonly dslabel: string;
  readonly genome: string;
  readonly auth: {
    /** The header to send the token in. */
    readonly headerKey: string;
    /** Route id → whether it needs a token from the calling origin. */
    readonly tokenRequired: Readonly<Partial<Record<RouteId, boolean>>>;
    /**
     * Route id → whether the token it needs is the one `POST /termdb/login` issues for the dataset password
     * (a `basic` entry), which the widget asks the researcher for, rather than one from the portal.
     */
    readonly passwordRequired: Readonly<Partial<Record<RouteId, boolean>>>;
  };
  /** null when the dataset does not suppress small cells. */
  readonly minSampleSize: number | null;
  /** null when the `terms` route needs a token that the request did not carry. */
  readonly rootTerms: readonly Term[] | null;
  /** null when the `terms` route needs a token that the request did not carry. */
  readonly cohorts: readonly Cohort[] | null;
}

/**
 * `GET /termdb/terms`.
 *
 * @example
 * const names = body.terms.map((t) => t.name);
 */
export interface TermList {
  readonly terms: readonly Term[];
}

/**
 * `GET /termdb/barchart`.
 *
 * @example
 * const shown = result.bars.filter((bar) => !bar.suppressed);
 */
export interface BarchartResult {
  readonly term: Term;
  readonly bars: readonly Bar[];
  /** Samples counted; null when any bar is suppressed, so that suppressed cells cannot be recovered. */
  readonly total: number | null;
  /** The cohort restriction applied from the token's `clientAuthResult.cohorts`, or null. */
  readonly cohorts: readonly string[] | null;
}

/**
 * One row of `GET /termdb/samples`.
 *
 * @example
 * const row: SampleRow = { sample: '2646', value: 'Female' };
 */
export interface SampleRow {
  readonly sample: string;
  /** The category label for categorical terms, the number for numeric terms. */
  readonly value: string | number;
}

/**
 * `GET /termdb/samples`: one page of sample-level values.
 *
 * @example
 * const pages = Math.ceil(result.total / result.pageSize);
 */
export interface SamplesResult {
  readonly term: Term;
  readonly rows: readonly SampleRow[];
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
}

/**
 * `GET /healthcheck`.
 *
 * @example
 * const ok = health.status === 'ok';
 */
export interface Health {
  readonly status: 'ok';
  readonly datasets: readonly string[];
}

/**
 * `POST /termdb/login`: the token issued for a right dataset password. Send it in `headerKey` on every request
 * of the dataset until it expires; it is never set as a cookie.
 *
 * @example
 * headers.set(result.headerKey, result.token);
 */
export interface LoginResult {
  readonly token: string;
  readonly headerKey: string;
  /** Seconds until the token expires. */
  readonly expiresIn: number;
}
