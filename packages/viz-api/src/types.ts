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
 * How one dataset is being served, in `GET /healthcheck`.
 *
 * - `ok`: the file on disk is the one being served.
 * - `stale`: an older copy is served because the file on disk was refused by the checks, or is gone;
 *   `problem` says which. Answers stay consistent (one file's tree and counts), but not current.
 * - `unavailable`: the served file cannot be read (it was overwritten in place, or is damaged): data routes
 *   answer 503 `dataset_unavailable` until a file that passes the checks is back.
 *
 * @example
 * const ds: DatasetHealth = { label: 'TermdbTest', status: 'ok', version: 'sha256:2c26b46b68ffc68f', since: '2026-01-01T00:00:00.000Z', problem: null };
 */
export interface DatasetHealth {
  readonly label: string;
  readonly status: 'ok' | 'stale' | 'unavailable';
  /** What is served: `sha256:` and the first 16 hex digits of the file's SHA-256; null until it is computed. */
  readonly version: string | null;
  /** When the served file was opened (ISO 8601). */
  readonly since: string;
  /** Why the status is not `ok`, in a sentence without file paths; null when it is. */
  readonly problem: string | null;
}

/**
 * A key set fetched from a JWKS URL, in `GET /healthcheck`.
 *
 * - `ok`: the last fetch succeeded and the keys are within their refresh time.
 * - `stale`: the last fetch failed, and the keys of an earlier fetch are still used; `ageSeconds` says how old.
 * - `unavailable`: no fetch has succeeded: tokens checked against this set are refused.
 *
 * @example
 * const keys: KeySetHealth = { url: 'https://portal.example.org/.well-known/jwks.json', status: 'ok', keys: 2, ageSeconds: 42, problem: null };
 */
export interface KeySetHealth {
  /** Scheme, host and path of the JWKS URL (no query). */
  readonly url: string;
  readonly status: 'ok' | 'stale' | 'unavailable';
  /** Usable keys in the set. */
  readonly keys: number;
  /** Seconds since the keys in use were fetched; null when none ever were. */
  readonly ageSeconds: number | null;
  /** The last fetch failure, when the status is not `ok`; null when it is. */
  readonly problem: string | null;
}

/**
 * The embedder registry of the server (the portals `pp-token embedder` registers), in `GET /healthcheck`.
 *
 * - `ok`: the version in force is the file as it is now.
 * - `stale`: the file was changed and the change refused (cut short, tampered with, older, or refused by the
 *   loader); the version in force keeps serving, and the log says why (`embedder_registry_refused`).
 *
 * @example
 * const registry: EmbedderRegistryHealth = { status: 'ok', version: 7, entries: 3, retired: 1, since: '2026-05-23T12:00:00.000Z', problem: null };
 */
export interface EmbedderRegistryHealth {
  readonly status: 'ok' | 'stale';
  /** The version in force: it goes up by one with every change. */
  readonly version: number;
  /** Live entries, and retired ones (still held, so that their tokens are refused). */
  readonly entries: number;
  readonly retired: number;
  /** When the version in force was loaded (ISO 8601). */
  readonly since: string;
  /** Why the status is not `ok`, in a sentence without file paths; null when it is. */
  readonly problem: string | null;
}

/**
 * `GET /healthcheck`: 200 while the server serves (`ok`, or `degraded` when a dataset or a key set is not `ok`, a
 * revocation feed is not `fresh` or a change of the embedder registry was refused), 503 with `draining` once it is
 * shutting down, so that a load balancer stops sending it requests.
 *
 * @example
 * const health: Health = await (await fetch(`${host}/healthcheck`)).json();
 * for (const ds of health.checks.datasets) if (ds.status !== 'ok') console.warn(ds.label, ds.problem);
 */
export interface Health {
  readonly status: 'ok' | 'degraded' | 'draining';
  /** The labels of the datasets served, in configuration order. */
  readonly datasets: readonly string[];
  readonly checks: {
    readonly datasets: readonly DatasetHealth[];
    readonly keySets: readonly KeySetHealth[];
    /** One row per revocation feed of serverconfig.json (`revocationFeeds`); empty when none is configured. */
    readonly revocationFeeds: readonly RevocationFeedHealth[];
    /** The embedder registry (`embedderRegistry`); null when none is configured. */
    readonly embedderRegistry: EmbedderRegistryHealth | null;
  };
}

/**
 * What a replica knows of one portal's revocation feed, in `/healthcheck`.
 *
 * - `fresh`: the feed answered within its staleness limit; revocations it lists are refused.
 * - `stale`: the feed has not answered for a while, the last good list still applies, and protected requests are
 *   still served; past `maxStaleSeconds` the state becomes `failed-closed`.
 * - `failed-closed`: tokens of the feed's embedders are refused with `revocation_unavailable` until it answers.
 * - `never-synced`: no list was ever loaded since start: the same refusal.
 *
 * @example
 * const alarm = health.checks.revocationFeeds.some((feed) => feed.state !== 'fresh');
 */
export interface RevocationFeedHealth {
  readonly feed: string;
  readonly state: 'fresh' | 'stale' | 'failed-closed' | 'never-synced';
  /** The feed's sequence number of the list in force; null before the first. */
  readonly seq: number | null;
  /** Live revocations in the list in force. */
  readonly entries: number;
  /** When the feed last answered (a new list or "unchanged"), ISO 8601; null before the first answer. */
  readonly lastSyncAt: string | null;
  readonly maxStaleSeconds: number;
  /** Why the last attempt failed, when it did: a fixed phrase, never the feed's content. */
  readonly lastError: string | null;
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
