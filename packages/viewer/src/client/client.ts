import { DEFAULT_HEADER_KEY, type Filter, formatFilter, ROUTES } from '@pp-embed/viz-api';
import type {
  BarchartResult,
  RouteName,
  SamplesResult,
  SummaryResult,
  SurvivalResult,
  Term,
  TermdbConfig,
  TermSearchResult,
} from '../types.js';
import { warnOnce } from '../warnings.js';
import { PpRequestError, isAbortError } from './errors.js';
import {
  errorCode,
  errorReason,
  parseBarchart,
  parseConfig,
  parseLogin,
  parseSamples,
  parseSearch,
  parseSummary,
  parseSurvival,
  parseTermList,
} from './parse.js';

/**
 * The optional parts of a chart request: an overlay or split term (`term2`), a divide-by term (`term0`,
 * barchart only) and a filter.
 *
 * @example
 * const request: ChartRequest = { term2: 'sex', filter: [{ term: 'agedx', gte: 5 }] };
 */
export interface ChartRequest {
  term2?: string | undefined;
  term0?: string | undefined;
  filter?: Filter | undefined;
}

/**
 * The embedding page's token callback. It returns the current token, or nothing when the user is signed out.
 * It is called with the argument ProteinPaint's client passes, the credential's route key `"termdb"`, so a
 * callback written for ProteinPaint keeps working; one that ignores its argument does too. ProteinPaint's
 * client also accepts a Promise, so one is awaited here too.
 *
 * @example
 * const getDatasetAccessToken: TokenCallback = () => sessionToken;
 */
export type TokenCallback = (
  route?: string,
) => string | null | undefined | Promise<string | null | undefined>;

/** What ProteinPaint's client passes to `getDatasetAccessToken`: the route key its termdb app is guarded by. */
export const TOKEN_CALLBACK_ROUTE = 'termdb';

/**
 * Options of {@link VizClient}.
 *
 * @example
 * const options: VizClientOptions = { host: 'https://viz.example.org', dslabel: 'TermdbTest', getDatasetAccessToken: () => token };
 */
export interface VizClientOptions {
  /** Base URL of the visualization server; a path prefix is kept (`https://example.org/pp`). */
  host: string;
  dslabel: string;
  /** Called before every request; read each time, so a replaced callback takes effect at once. */
  getDatasetAccessToken?: TokenCallback | undefined;
  /** Replaces the global `fetch`, e.g. in tests. */
  fetch?: typeof globalThis.fetch;
}

interface Exchange {
  status: number;
  /** JSON, or the CSV as a Blob for the export on success. */
  body: unknown;
}

// Header values that fetch() would reject with a TypeError, which would otherwise look like a network failure.
const UNUSABLE_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

// What each server has said its header key is, so that a second widget for the same dataset (or a reload)
// sends the token of its config request under the right name.
const learnedHeaderKeys = new Map<string, string>();

// The routes of each dataset whose token is the one the server issues for the dataset password.
const passwordRoutes = new Map<string, ReadonlySet<RouteName>>();

// Tokens the server issued for a dataset password, in memory only (never storage or a cookie), shared by the
// widgets of one page that show the same dataset.
const passwordTokens = new Map<string, { token: string; headerKey: string; expiresAt: number }>();

/**
 * Turns `host` into the base URL requests are made against: absolute http(s), no query, no fragment, no
 * trailing slash. `undefined` when it is not such a URL.
 *
 * @example
 * normaliseHost('https://viz.example.org/'); // 'https://viz.example.org'
 * normaliseHost('viz.example.org'); // undefined
 */
export function normaliseHost(host: string | undefined | null): string | undefined {
  if (!host) return undefined;
  let url: URL;
  try {
    url = new URL(host.trim());
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    return undefined;
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

function abortError(): DOMException {
  return new DOMException('The request was aborted.', 'AbortError');
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error('rejected'));
      },
    );
  });
}

/**
 * Calls the token callback and returns a token fit for a header, or `undefined` to send the request
 * without one. A callback that throws, rejects or returns something odd never stops the request:
 * aggregated views keep working for a signed-out user.
 *
 * @example
 * const token = await readToken(() => session.token, signal);
 */
export async function readToken(
  callback: TokenCallback | undefined,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (typeof callback !== 'function') return undefined;
  let result: unknown;
  try {
    result = callback(TOKEN_CALLBACK_ROUTE);
    if (result instanceof Promise || (typeof result === 'object' && result !== null && 'then' in result)) {
      result = await untilAborted(Promise.resolve(result), signal);
    }
  } catch (error) {
    if (signal.aborted && isAbortError(error)) throw error;
    // The thrown value is not printed: it may quote the token.
    warnOnce(
      'PP_TOKEN_CALLBACK_THREW',
      'getDatasetAccessToken threw or rejected; requests are sent without a token until it returns one.',
    );
    return undefined;
  }
  if (result === undefined || result === null || result === '') return undefined;
  if (typeof result !== 'string' || UNUSABLE_HEADER_VALUE.test(result)) {
    warnOnce(
      'PP_TOKEN_UNUSABLE',
      'getDatasetAccessToken returned something that is not a string usable as an HTTP header value; requests are sent without a token.',
    );
    return undefined;
  }
  return result;
}

/**
 * Talks to one dataset of one visualization server. Before every request it asks the token callback and
 * sends the token in the header the server names in `auth.headerKey`; never in the URL. A 401
 * `token_expired` is retried once, and only when the callback then returns a different token.
 * Failures reject with a {@link PpRequestError}; aborted requests reject with an `AbortError`.
 *
 * @example
 * const client = new VizClient({ host: 'https://viz.example.org', dslabel: 'TermdbTest', getDatasetAccessToken: () => token });
 * const controller = new AbortController();
 * const config = await client.config(controller.signal);
 * const chart = await client.barchart('sex', controller.signal);
 */
export class VizClient {
  /** The normalised server URL, e.g. `https://viz.example.org`. */
  readonly base: string;
  readonly dslabel: string;
  #callback: TokenCallback | undefined;
  #fetch: typeof globalThis.fetch;

  constructor(options: VizClientOptions) {
    const base = normaliseHost(options.host);
    if (!base) throw new TypeError('host must be an absolute http(s) URL.');
    this.base = base;
    this.dslabel = options.dslabel;
    this.#callback = options.getDatasetAccessToken;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** The header the token is sent in: the server's `auth.headerKey` once the config has been read. */
  get headerKey(): string {
    return learnedHeaderKeys.get(this.#datasetKey) ?? DEFAULT_HEADER_KEY;
  }

  get #datasetKey(): string {
    return `${this.base}\n${this.dslabel}`;
  }

  /**
   * `GET /termdb/config`; also learns the header key for the requests that follow.
   *
   * @example
   * const { auth, rootTerms } = await client.config(signal);
   */
  async config(signal: AbortSignal): Promise<TermdbConfig> {
    const config = await this.#get('config', {}, signal, parseConfig);
    learnedHeaderKeys.set(this.#datasetKey, config.auth.headerKey);
    const routes = (Object.keys(config.auth.passwordRequired) as RouteName[]).filter(
      (id) => config.auth.passwordRequired[id] === true,
    );
    passwordRoutes.set(this.#datasetKey, new Set(routes));
    return config;
  }

  /** Whether `route`'s token is the one the server issues for the dataset password (per the config). */
  needsPassword(route: RouteName): boolean {
    return passwordRoutes.get(this.#datasetKey)?.has(route) === true;
  }

  /**
   * `POST /termdb/login`: sends the dataset password for `route` and keeps the token the server answers with,
   * in memory, for the requests of this dataset until it expires. Rejects with a {@link PpRequestError}
   * (`password_invalid`, `too_many_attempts`, …) on the `login` route.
   *
   * @example
   * await client.login(passwordInput.value, 'samples', signal);
   */
  async login(password: string, route: RouteName, signal: AbortSignal): Promise<void> {
    const url = `${this.base}${ROUTES.login.path}?${new URLSearchParams({ dslabel: this.dslabel })}`;
    const body = JSON.stringify({ password, route: ROUTES[route].name });
    const result = await this.#send('login', url, undefined, signal, body);
    if (result.status >= 200 && result.status < 300) {
      const issued = parseLogin(result.body);
      if (issued === undefined) throw new PpRequestError('unexpected_response', result.status, 'login');
      // A few seconds early, so that a token is not sent in its last moment and refused on arrival.
      const expiresAt = Date.now() + Math.max(0, issued.expiresIn - 5) * 1000;
      passwordTokens.set(this.#datasetKey, { token: issued.token, headerKey: issued.headerKey, expiresAt });
      return;
    }
    throw this.#failure('login', result);
  }

  /** The token for a route: the dataset password's for the routes that take it, else the page's callback's. */
  async #tokenFor(route: RouteName, signal: AbortSignal): Promise<string | undefined> {
    if (!this.needsPassword(route)) return readToken(this.#callback, signal);
    const issued = passwordTokens.get(this.#datasetKey);
    if (issued === undefined || issued.expiresAt <= Date.now()) {
      passwordTokens.delete(this.#datasetKey);
      return undefined;
    }
    return issued.token;
  }

  /**
   * `GET /termdb/terms`: the children of `parent`, or the root terms.
   *
   * @example
   * const children = await client.terms('demographics', signal);
   */
  terms(parent: string | undefined, signal: AbortSignal): Promise<Term[]> {
    return this.#get('terms', parent === undefined ? {} : { parent }, signal, parseTermList);
  }

  /**
   * `GET /termdb/barchart`: aggregated counts of one term, optionally split by `term2`, divided by `term0` and
   * filtered.
   *
   * @example
   * const { bars, total } = await client.barchart('sex', signal);
   * const split = await client.barchart('diaggrp', signal, { term2: 'sex', filter });
   */
  barchart(term: string, signal: AbortSignal, request: ChartRequest = {}): Promise<BarchartResult> {
    const { term2, term0, filter } = request;
    return this.#get(
      'barchart',
      { term, term2, term0, filter: formatFilter(filter ?? []) },
      signal,
      parseBarchart,
    );
  }

  /**
   * `GET /termdb/summary`: box plot and violin statistics of a numeric term.
   *
   * @example
   * const { groups } = await client.summary('agedx', signal, { term2: 'sex' });
   */
  summary(term: string, signal: AbortSignal, request: ChartRequest = {}): Promise<SummaryResult> {
    const { term2, filter } = request;
    return this.#get('summary', { term, term2, filter: formatFilter(filter ?? []) }, signal, parseSummary);
  }

  /**
   * `GET /termdb/survival`: Kaplan-Meier curves of a survival term.
   *
   * @example
   * const { series, logRank } = await client.survival('os', signal, { term2: 'diaggrp' });
   */
  survival(term: string, signal: AbortSignal, request: ChartRequest = {}): Promise<SurvivalResult> {
    const { term2, filter } = request;
    return this.#get('survival', { term, term2, filter: formatFilter(filter ?? []) }, signal, parseSurvival);
  }

  /**
   * `GET /termdb/search`: leaf terms matching `q`, best first.
   *
   * @example
   * const { terms } = await client.search('age', signal);
   */
  search(q: string, signal: AbortSignal): Promise<TermSearchResult> {
    return this.#get('search', { q }, signal, parseSearch);
  }

  /**
   * `GET /termdb/samples`: one page of sample-level values of one term.
   *
   * @example
   * const { rows, total } = await client.samples('sex', { page: 1, pageSize: 50 }, signal);
   */
  samples(
    term: string,
    paging: { page: number; pageSize: number },
    signal: AbortSignal,
    filter: Filter = [],
  ): Promise<SamplesResult> {
    const params = {
      term,
      page: String(paging.page),
      pageSize: String(paging.pageSize),
      filter: formatFilter(filter),
    };
    return this.#get('samples', params, signal, parseSamples);
  }

  /**
   * `GET /termdb/export`: every row of the sample table as CSV (sample-level, like the table).
   *
   * @example
   * const csv = await client.exportSamples('sex', signal, filter);
   */
  exportSamples(term: string, signal: AbortSignal, filter: Filter = []): Promise<Blob> {
    return this.#get('export', { term, filter: formatFilter(filter) }, signal, (body) =>
      body instanceof Blob ? body : undefined,
    );
  }

  async #get<T>(
    route: RouteName,
    params: Record<string, string | undefined>,
    signal: AbortSignal,
    parse: (body: unknown) => T | undefined,
  ): Promise<T> {
    const query = new URLSearchParams({ dslabel: this.dslabel });
    for (const [name, value] of Object.entries(params))
      if (value !== undefined && value !== '') query.set(name, value);
    const url = `${this.base}${ROUTES[route].path}?${query}`;

    const token = await this.#tokenFor(route, signal);
    let result = await this.#exchange(route, url, token, signal);
    if (this.needsPassword(route) && (result.status === 401 || errorCode(result.body) === 'ip_mismatch')) {
      // The password's token ran out, or no longer fits (another address, a new tokenSecret): the researcher
      // is asked for the password again.
      passwordTokens.delete(this.#datasetKey);
    } else if (result.status === 401 && errorCode(result.body) === 'token_expired') {
      // One retry, and only with a token the portal has actually renewed: the same token would be refused
      // again, and a second retry could loop against a portal whose renewal keeps failing.
      const renewed = await readToken(this.#callback, signal);
      if (renewed !== undefined && renewed !== token)
        result = await this.#exchange(route, url, renewed, signal);
    }

    if (result.status >= 200 && result.status < 300) {
      const value = parse(result.body);
      if (value === undefined) throw new PpRequestError('unexpected_response', result.status, route);
      return value;
    }
    throw this.#failure(route, result);
  }

  #failure(route: RouteName, result: Exchange): PpRequestError {
    const code = errorCode(result.body) ?? (result.status >= 500 ? 'internal_error' : 'unexpected_response');
    return new PpRequestError(code, result.status, route, errorReason(result.body));
  }

  async #exchange(
    route: RouteName,
    url: string,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const guessedKey = route === 'config' && !learnedHeaderKeys.has(this.#datasetKey);
    try {
      return await this.#send(route, url, token, signal);
    } catch (error) {
      if (!(error instanceof PpRequestError) || error.code !== 'network_error' || !token || !guessedKey)
        throw error;
      // Before the first config answer the header key is a guess. A server whose CORS policy allows only its
      // own custom key fails the preflight of a request carrying the default one; the config route is
      // discovery, so ask again without the token rather than report the server as unreachable.
      return this.#send(route, url, undefined, signal);
    }
  }

  async #send(
    route: RouteName,
    url: string,
    token: string | undefined,
    signal: AbortSignal,
    body?: string,
  ): Promise<Exchange> {
    const headers = new Headers({ accept: 'application/json' });
    if (token !== undefined) headers.set(this.headerKey, token);
    if (body !== undefined) headers.set('content-type', 'application/json');
    let response: Response;
    try {
      // Called unbound: window.fetch throws "Illegal invocation" when called as a method of another object.
      const fetchFn = this.#fetch;
      const method = body === undefined ? 'GET' : 'POST';
      response = await fetchFn(url, { method, headers, body, credentials: 'omit', mode: 'cors', signal });
    } catch (error) {
      if (signal.aborted) throw abortError();
      if (isAbortError(error)) throw error;
      throw new PpRequestError('network_error', 0, route);
    }
    let answer: unknown;
    try {
      answer = route === 'export' && response.ok ? await response.blob() : await response.json();
    } catch {
      if (signal.aborted) throw abortError();
      answer = undefined;
    }
    return { status: response.status, body: answer };
  }
}
