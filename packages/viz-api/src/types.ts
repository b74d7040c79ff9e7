/**
 * The response bodies of the visualization server, as sent on the wire.
 * @module
 */
import type { Disclosure } from './disclosure.js';
import type { Filter } from './filter.js';
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
  /**
   * true for the leaves the server charts: categorical, integer and float terms (barchart, numeric summary,
   * overlays and filters) and survival terms (survival chart); false for the others (condition, date,
   * multivalue, parents, ...).
   */
  readonly supported: boolean;
}

/**
 * One bar of a barchart: a category, or a bin of a numeric term.
 *
 * Under a disclosure rule (the answer's `disclosure.rule`), `count` is null in two cases, told apart by
 * `suppressed`:
 * - `suppressed: true`: the count is small, from 1 to the rule's `threshold - 1` (shown as `hiddenAs`);
 * - `suppressed: false`: the count is withheld, because together with numbers this or another answer shows it
 *   would give a small count away; its size is not told.
 * A count shown under a rule with `rounding` or `noise` is the rounded or perturbed number.
 *
 * @example
 * const hidden: Bar = { key: 'Other', label: 'Other', count: null, suppressed: true };
 */
export interface Bar {
  /** Category key, or the bin label for numeric terms. */
  readonly key: string;
  /** What a researcher reads: the category label, or a bin such as "10 to <20". */
  readonly label: string;
  /** null when suppressed or withheld. */
  readonly count: number | null;
  /** true when the count is hidden because it is small (below the rule's `threshold`). */
  readonly suppressed: boolean;
}

/**
 * A category of a term, or a bin of a numeric term, as a series of a chart: an overlay's colours, a summary's
 * groups, a survival chart's curves.
 *
 * @example
 * const female: Category = { key: '2', label: 'Female' };
 */
export interface Category {
  readonly key: string;
  readonly label: string;
}

/**
 * One bar of a barchart panel, with its overlay segments.
 *
 * @example
 * const row: BarRow = { key: '1', label: 'Male', count: 40, suppressed: false, segments: null };
 */
export interface BarRow extends Bar {
  /**
   * With an overlay (`term2`): the samples of this bar in each category of `term2`, in the order of
   * `BarchartResult.series` (one entry per series, zero counts included). null without an overlay.
   */
  readonly segments: readonly Bar[] | null;
}

/**
 * One chart of a barchart: all the samples, or, with a divide-by term (`term0`), those of one of its values.
 *
 * @example
 * const panel: BarchartPanel = { key: null, label: null, bars: [], total: 0 };
 */
export interface BarchartPanel {
  /** The `term0` category key or bin label; null without a divide-by term. */
  readonly key: string | null;
  readonly label: string | null;
  readonly bars: readonly BarRow[];
  /** Samples in this panel; null when any number of the panel is hidden. */
  readonly total: number | null;
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
  /** The `threshold` of the caller's disclosure rule; null when the caller sees exact counts. */
  readonly minSampleSize: number | null;
  /** The caller's tier and the disclosure rule every aggregated answer applies for it. */
  readonly disclosure: Disclosure;
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
 * `GET /termdb/barchart`: samples per category or bin of `term`, optionally split by the categories of an
 * overlay term (`term2`, stacked segments) and divided into one chart per value of `term0`. A sample is
 * counted when it has a value for every one of these terms and passes the filter.
 *
 * @example
 * const shown = result.bars.filter((bar) => !bar.suppressed);
 */
export interface BarchartResult {
  readonly term: Term;
  /** The bars of `term` over all the charts (the sum of the panels' bars). */
  readonly bars: readonly Bar[];
  /** Samples counted; null when it would give a hidden count away. */
  readonly total: number | null;
  /** The cohort restriction applied from the token's `clientAuthResult.cohorts`, or null. */
  readonly cohorts: readonly string[] | null;
  /** The overlay term, or null. */
  readonly term2: Term | null;
  /** The divide-by term, or null. */
  readonly term0: Term | null;
  /** The overlay's categories or bins, in order (the legend); null without an overlay. */
  readonly series: readonly Category[] | null;
  /** One panel without `term0`, else one per value of `term0` with at least one sample. */
  readonly charts: readonly BarchartPanel[];
  /** The filter applied; `[]` for none. */
  readonly filter: Filter;
  /** The caller's tier and the rule applied to every count above. */
  readonly disclosure: Disclosure;
}

/**
 * Summary statistics of a numeric term over one group of samples. Quantiles are R's default (type 7: linear
 * interpolation between order statistics), `sd` the sample standard deviation (n - 1).
 *
 * @example
 * const iqr = stats.q3 - stats.q1;
 */
export interface NumericStats {
  readonly mean: number;
  /** null for a single sample. */
  readonly sd: number | null;
  /** The smallest and largest values: null under a disclosure rule (they are one sample's). */
  readonly min: number | null;
  readonly max: number | null;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  /**
   * The box plot's whiskers: the most extreme values within 1.5 × IQR of the box (Tukey); under a disclosure
   * rule, the 5th and 95th percentiles.
   */
  readonly whiskerLow: number;
  readonly whiskerHigh: number;
}

/**
 * One group of a numeric summary.
 *
 * @example
 * const n = group.suppressed ? 'fewer than 5' : group.n;
 */
export interface SummaryGroup {
  /** The `term2` category key or bin label; null without `term2`. */
  readonly key: string | null;
  readonly label: string | null;
  /** Samples with a value; null when hidden. */
  readonly n: number | null;
  /** As `Bar.suppressed`: the group is small and shows no numbers. */
  readonly suppressed: boolean;
  /** null when empty, and under a disclosure rule whenever `n` is hidden. */
  readonly stats: NumericStats | null;
  /**
   * Samples per bin of `SummaryResult.density` (the violin's shape); null when the group is empty, and always
   * under a disclosure rule.
   */
  readonly density: readonly (number | null)[] | null;
}

/**
 * `GET /termdb/summary`: a box plot or violin of an integer or float term, optionally one per category or bin
 * of `term2`.
 *
 * @example
 * for (const g of result.groups) console.log(g.label ?? result.term.name, g.stats?.median);
 */
export interface SummaryResult {
  readonly term: Term;
  readonly term2: Term | null;
  readonly groups: readonly SummaryGroup[];
  /**
   * The equal-width bins every group's `density` counts in, from `start` to `stop`; null with no values, and
   * under a disclosure rule: density bins would be a second binning of the term beside its bars, and the samples
   * between the edges of one and the other's are what two answers would differ by. Group sizes are then counted
   * in the term's bars, the same numbers its barchart shows.
   */
  readonly density: { readonly start: number; readonly stop: number; readonly bins: number } | null;
  readonly cohorts: readonly string[] | null;
  readonly filter: Filter;
  readonly disclosure: Disclosure;
}

/**
 * A Kaplan-Meier curve as columns: entry i of each array is one step of the curve, at `time[i]`. Each step's
 * `survival` holds from its time to the next; the curve starts at 1 at time 0. Survival and its 95% bounds
 * are rounded to 6 decimals. Under a disclosure rule the steps are the ends of the intervals of a fixed time grid
 * (a life table), and every number is worked out from counts the rule shows.
 *
 * @example
 * const last = curve.survival.at(-1);
 */
export interface SurvivalCurve {
  readonly time: readonly number[];
  readonly survival: readonly number[];
  /** 95% pointwise confidence interval on the log scale (R's `survfit` default), clipped to [0, 1]. */
  readonly lower: readonly number[];
  readonly upper: readonly number[];
  /** Samples at risk just before the step. */
  readonly atRisk: readonly number[];
  /** Events at the step (within its slot for a sampled curve). */
  readonly events: readonly number[];
  /** Samples censored at the step (within its slot for a sampled curve): the curve's tick marks. */
  readonly censored: readonly number[];
}

/**
 * One curve of a survival chart.
 *
 * @example
 * const shown = series.filter((s) => !s.suppressed);
 */
export interface SurvivalSeries {
  /** The `term2` category key or bin label; null without `term2`. */
  readonly key: string | null;
  readonly label: string | null;
  /** Samples in the curve; null when hidden. */
  readonly n: number | null;
  /** Events in the curve; null when hidden. */
  readonly events: number | null;
  readonly suppressed: boolean;
  /** null when suppressed. */
  readonly curve: SurvivalCurve | null;
  /**
   * Under a disclosure rule: the time from which the curve is not shown (fewer samples at risk than the rule's
   * threshold, or a count it hides); null when it runs to its end.
   */
  readonly truncatedAt: number | null;
  /** Samples at risk at each of `SurvivalResult.atRiskTimes`; an entry is null when hidden. */
  readonly atRisk: readonly (number | null)[];
  /** True when the curve has more steps than `LIMITS.maxCurvePoints` and is sampled at the end of time slots. */
  readonly sampled: boolean;
}

/**
 * `GET /termdb/survival`: Kaplan-Meier curves of a survival term (time to event; exit code 1 is the event,
 * 0 censored), optionally one per category or bin of `term2`, with a log-rank test.
 *
 * @example
 * console.log(result.logRank ? `log-rank p = ${result.logRank.p}` : 'one curve');
 */
export interface SurvivalResult {
  readonly term: Term;
  readonly term2: Term | null;
  /** The time unit the dataset gives (e.g. "years"), or null. */
  readonly unit: string | null;
  readonly series: readonly SurvivalSeries[];
  /**
   * The times of the number-at-risk table: about six round times up to the largest time counted, or, under a
   * disclosure rule, up to the term's largest time in the whole dataset (the same in every answer).
   */
  readonly atRiskTimes: readonly number[];
  /**
   * The log-rank test over the series shown; null with fewer than two, and under a disclosure rule when a series'
   * `n` is hidden.
   */
  readonly logRank: { readonly chi2: number; readonly df: number; readonly p: number } | null;
  readonly cohorts: readonly string[] | null;
  readonly filter: Filter;
  readonly disclosure: Disclosure;
}

/**
 * A term found by `GET /termdb/search`, with where it is in the tree.
 *
 * @example
 * const where = match.path.map((p) => p.name).join(' › ');
 */
export interface TermMatch extends Term {
  /** Its ancestors, from a root term down to its parent. */
  readonly path: readonly { readonly id: string; readonly name: string }[];
}

/**
 * `GET /termdb/search`: leaf terms whose name or id holds every word of the query, best matches first.
 *
 * @example
 * const shown = result.terms.length < result.total ? 'more results: refine the search' : '';
 */
export interface TermSearchResult {
  readonly terms: readonly TermMatch[];
  /** Matches in all, of which at most `LIMITS.maxSearchResults` are listed. */
  readonly total: number;
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
  /** The filter applied; `[]` for none. */
  readonly filter: Filter;
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
