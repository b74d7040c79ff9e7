import { backoffDelay, retryAfterMs } from './backoff.js';

/**
 * Where a provider stands.
 * - `loading`: the first request is on its way; no token yet.
 * - `active`: a token is held. A renewal may be failing in the background (see `state.error`); the token is
 *   still handed out until it expires.
 * - `retrying`: no usable token; requests are being retried with backoff.
 * - `signed-out`: the endpoint answered 401 (or redirected to a sign-in page). Stopped until `refresh()`.
 * - `refused`: the endpoint answered another 4xx, e.g. 403 `no_grants`. Stopped until `refresh()`.
 * - `disposed`: `dispose()` was called. Final.
 *
 * @example
 * const waiting: TokenStatus[] = ['loading', 'retrying'];
 */
export type TokenStatus = 'loading' | 'active' | 'retrying' | 'signed-out' | 'refused' | 'disposed';

/**
 * A snapshot of a provider, as `provider.state` and as given to `subscribe` listeners. It never holds the token.
 *
 * @example
 * provider.subscribe((state) => {
 *   if (state.status === 'refused' && state.error?.code === 'no_grants') showNoAccessNote();
 * });
 */
export interface TokenState {
  readonly status: TokenStatus;
  /**
   * Why the last attempt failed, until one succeeds: the endpoint's `error.code` when it sent one, otherwise
   * `network_error`, `timeout`, `unexpected_response`, `redirected`, `headers_failed` or `http_<status>`.
   * `status` is the HTTP status, 0 when no response arrived.
   */
  readonly error?: { readonly code: string; readonly status: number } | undefined;
}

/**
 * Extra request headers, or a function that returns them before every request (sync or async), e.g. to send a
 * CSRF token that the page may replace.
 *
 * @example
 * const headers: HeadersOption = () => ({ 'x-csrf-token': readCsrfToken() });
 */
export type HeadersOption = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/**
 * Something that takes event listeners: `window` and `document` in a page, an `EventTarget` in tests.
 *
 * @example
 * createTokenProvider({ endpoint: '/api/dataset-token', window: new EventTarget(), document: null });
 */
export interface ListenerTarget {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/**
 * Options of {@link createTokenProvider}. Only `endpoint` is required.
 *
 * @example
 * const options: TokenProviderOptions = {
 *   endpoint: '/api/dataset-token?dataset=TermdbTest',
 *   headers: { 'x-csrf-token': csrfToken },
 * };
 */
export interface TokenProviderOptions {
  /**
   * The portal's token endpoint. It answers `{"token": "...", "expiresIn": <seconds>}`, 401 when the user is
   * signed out, and another 4xx when the user may not have a token.
   */
  endpoint: string | URL;
  /** HTTP method. Default `POST`, so that a token is never the answer to a request a link or image can make. */
  method?: 'POST' | 'GET';
  /** Default `same-origin`: the session cookie goes with the request, to the portal only. */
  credentials?: RequestCredentials;
  headers?: HeadersOption;
  /** Replaces the global `fetch`. */
  fetch?: (input: string | URL, init: RequestInit) => Promise<Response>;
  /**
   * Seconds before expiry at which the token is renewed. Default 60; never more than half the token's lifetime,
   * so a short-lived token is not renewed the moment it arrives.
   */
  refreshMargin?: number;
  /** First retry delay in ms, doubled on each failure up to `maxRetryDelay`. Default 1000. */
  initialRetryDelay?: number;
  /** Longest retry delay in ms. Default 60000. */
  maxRetryDelay?: number;
  /** A request that has not answered after this many ms is abandoned and retried. Default 10000. */
  timeout?: number;
  /** Where to listen for `online`. Default `window`; `null` to not listen. */
  window?: ListenerTarget | null;
  /** Where to listen for `visibilitychange`. Default `document`; `null` to not listen. */
  document?: (ListenerTarget & { readonly visibilityState?: string }) | null;
}

/**
 * The provider: one token, fetched once and shared by every viewer on the page.
 *
 * @example
 * const provider = createTokenProvider({ endpoint: '/api/dataset-token' });
 * await provider.ready;
 * viewer.getDatasetAccessToken = provider.getDatasetAccessToken;
 */
export interface TokenProvider {
  /**
   * Settles once the first attempt has a result, with the status it led to: `active` (a token), `signed-out`,
   * `refused`, or `retrying` (the endpoint could not be reached; attempts go on and `subscribe` tells when a
   * token arrives). It never rejects.
   */
  readonly ready: Promise<TokenStatus>;
  /**
   * The current token, or `''` when there is none (signed out, refused, expired, not loaded yet). Synchronous,
   * takes no argument, and may be passed around detached: it is the widget's `getDatasetAccessToken`.
   */
  readonly getDatasetAccessToken: () => string;
  /** The current status and last error. */
  readonly state: TokenState;
  /**
   * Asks for a new token now (sharing a request already on its way), e.g. after the user signed in without a
   * page load. Also restarts a provider that stopped on 401 or another 4xx. Resolves with the new status.
   */
  refresh(): Promise<TokenStatus>;
  /** Calls `listener` on every status change; returns the function that removes it. */
  subscribe(listener: (state: TokenState) => void): () => void;
  /** Stops timers and listeners, aborts a request in flight and forgets the token. */
  dispose(): void;
}

type Outcome =
  | { kind: 'token'; token: string; lifetimeMs: number; arrived: Mark }
  | { kind: 'retry'; code: string; status: number; retryAfterMs?: number | undefined }
  | { kind: 'signed-out' | 'refused'; code: string; status: number };

/** A moment on both clocks: the monotonic one and the wall clock. */
interface Mark {
  mono: number;
  wall: number;
}

const MAX_TOKEN_LENGTH = 8192;
// A token travels in an HTTP header; anything outside visible ASCII would make fetch() throw in the widget.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const CODE = /^[a-z0-9_]{1,64}$/;
// A Retry-After beyond this is treated as this: the page may stay open for hours.
const MAX_RETRY_AFTER_MS = 10 * 60_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`createTokenProvider: ${name} must be a positive number`);
  }
  return value;
}

function defaultTarget<T>(value: T | null | undefined, fallback: unknown): T | undefined {
  if (value === null) return undefined;
  if (value !== undefined) return value;
  const candidate = fallback as Partial<ListenerTarget> | undefined;
  return typeof candidate?.addEventListener === 'function' ? (fallback as T) : undefined;
}

async function errorCode(response: Response, fallback: string): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown } } | null;
    const code = body?.error?.code;
    return typeof code === 'string' && CODE.test(code) ? code : fallback;
  } catch {
    return fallback;
  }
}

async function interpret(response: Response, arrived: Mark): Promise<Outcome> {
  const { status } = response;
  // A session that ended is often answered with a redirect to the sign-in page.
  if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
    return { kind: 'signed-out', code: 'redirected', status };
  }
  if (status === 401) return { kind: 'signed-out', code: await errorCode(response, 'not_signed_in'), status };
  if (status === 408 || status === 429 || status >= 500) {
    return {
      kind: 'retry',
      code: await errorCode(response, `http_${status}`),
      status,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
    };
  }
  if (status < 200 || status >= 300) {
    return { kind: 'refused', code: await errorCode(response, `http_${status}`), status };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { kind: 'retry', code: 'unexpected_response', status };
  }
  const { token, expiresIn } = (body ?? {}) as { token?: unknown; expiresIn?: unknown };
  if (
    typeof token !== 'string' ||
    token.length > MAX_TOKEN_LENGTH ||
    !HEADER_SAFE.test(token) ||
    typeof expiresIn !== 'number' ||
    !Number.isFinite(expiresIn) ||
    expiresIn <= 0
  ) {
    return { kind: 'retry', code: 'unexpected_response', status };
  }
  return { kind: 'token', token, lifetimeMs: expiresIn * 1000, arrived };
}

/**
 * Turns a portal's token endpoint into the synchronous `getDatasetAccessToken` callback the widget calls before
 * each request. The token is fetched at once, kept in memory only (never in storage, the URL or the console),
 * renewed in the background `refreshMargin` seconds before it expires, and shared by every caller on the page.
 *
 * Expiry is measured from the moment the response arrived, with `performance.now()`, using the server's
 * `expiresIn`: the browser's wall clock may be wrong by hours without effect. The wall clock is only consulted
 * for how much time *passed*, because some platforms pause the monotonic clock while the machine sleeps; the
 * larger of the two elapsed times counts, so a wrong clock changes nothing and a sleep is noticed.
 *
 * When the endpoint cannot be reached (network down, 5xx, 429, timeout) it retries with exponential backoff
 * and jitter, and tries again at once when the browser reports `online` or the page becomes visible. A 401
 * stops it: from then on `getDatasetAccessToken()` returns `''` until `refresh()` is called.
 *
 * @example
 * import { createTokenProvider } from '@pp-embed/token-provider';
 *
 * const csrf = document.querySelector('meta[name="csrf-token"]').content;
 * const provider = createTokenProvider({
 *   endpoint: '/api/dataset-token?dataset=TermdbTest',
 *   headers: { 'x-csrf-token': csrf },
 * });
 * await provider.ready;
 * const handle = runproteinpaint({
 *   holder: document.querySelector('#viz'),
 *   mass: { state: { dslabel: 'TermdbTest', genome: 'hg38' } },
 *   getDatasetAccessToken: provider.getDatasetAccessToken,
 * });
 * provider.subscribe(() => handle.refresh());
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const endpoint = options?.endpoint;
  if (!(endpoint instanceof URL) && (typeof endpoint !== 'string' || endpoint === '')) {
    throw new TypeError('createTokenProvider: endpoint must be a URL or a non-empty string');
  }
  const refreshMarginMs = positive('refreshMargin', options.refreshMargin, 60) * 1000;
  const initialMs = positive('initialRetryDelay', options.initialRetryDelay, 1000);
  const maxMs = Math.max(initialMs, positive('maxRetryDelay', options.maxRetryDelay, 60_000));
  const timeoutMs = positive('timeout', options.timeout, 10_000);
  const method = options.method ?? 'POST';
  const credentials = options.credentials ?? 'same-origin';
  const doFetch =
    options.fetch ?? ((input: string | URL, init: RequestInit) => globalThis.fetch(input, init));
  const win = defaultTarget(options.window, globalThis);
  const doc = defaultTarget(options.document, (globalThis as { document?: unknown }).document);

  const listeners = new Set<(state: TokenState) => void>();
  let status: TokenStatus = 'loading';
  let error: TokenState['error'];
  let token = '';
  let arrived: Mark | undefined;
  let lifetimeMs = 0;
  let renewAtMs = 0;
  let failures = 0;
  let nextTimer: ReturnType<typeof setTimeout> | undefined;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let controller: AbortController | undefined;
  // Bumped by dispose(), so that an answer to a request made before it is dropped.
  let generation = 0;
  let resolveReady: ((status: TokenStatus) => void) | undefined;
  const ready = new Promise<TokenStatus>((resolve) => {
    resolveReady = resolve;
  });

  const mark = (): Mark => ({ mono: performance.now(), wall: Date.now() });
  const elapsedMs = (since: Mark): number =>
    Math.max(performance.now() - since.mono, Date.now() - since.wall);
  const stopped = () => status === 'signed-out' || status === 'refused' || status === 'disposed';

  function setStatus(next: TokenStatus): void {
    if (next !== 'loading' && resolveReady !== undefined) {
      resolveReady(next);
      resolveReady = undefined;
    }
    if (next === status) return;
    status = next;
    const snapshot = provider.state;
    for (const listener of [...listeners]) {
      try {
        listener(snapshot);
      } catch (listenerError) {
        // A faulty listener must not stop the others or the provider; the page still hears about it.
        (globalThis as { reportError?: (e: unknown) => void }).reportError?.(listenerError);
      }
    }
  }

  function clearTimers(): void {
    if (nextTimer !== undefined) clearTimeout(nextTimer);
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    nextTimer = undefined;
    expiryTimer = undefined;
  }

  function forgetToken(): void {
    token = '';
    arrived = undefined;
  }

  function usable(): boolean {
    return token !== '' && arrived !== undefined && elapsedMs(arrived) < lifetimeMs;
  }

  function expire(): void {
    if (status !== 'active' || usable()) return;
    forgetToken();
    setStatus('retrying');
    if (inFlight === undefined && failures === 0) void load();
  }

  function scheduleExpiry(): void {
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    if (arrived === undefined) return;
    expiryTimer = setTimeout(
      () => {
        expiryTimer = undefined;
        if (usable()) scheduleExpiry();
        else expire();
      },
      Math.max(0, lifetimeMs - elapsedMs(arrived)),
    );
  }

  function scheduleNext(delayMs: number): void {
    if (nextTimer !== undefined) clearTimeout(nextTimer);
    nextTimer = setTimeout(
      () => {
        nextTimer = undefined;
        void load();
      },
      Math.max(0, delayMs),
    );
  }

  function apply(outcome: Outcome): void {
    if (outcome.kind === 'token') {
      token = outcome.token;
      arrived = outcome.arrived;
      lifetimeMs = outcome.lifetimeMs;
      renewAtMs = lifetimeMs - Math.min(refreshMarginMs, lifetimeMs / 2);
      failures = 0;
      error = undefined;
      scheduleNext(renewAtMs - elapsedMs(arrived));
      scheduleExpiry();
      setStatus('active');
      return;
    }
    error = { code: outcome.code, status: outcome.status };
    if (outcome.kind === 'retry') {
      let delay = backoffDelay(failures, { initialMs, maxMs });
      failures += 1;
      if (outcome.retryAfterMs !== undefined) {
        delay = Math.max(delay, Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS));
      }
      scheduleNext(delay);
      setStatus(usable() ? 'active' : 'retrying');
      return;
    }
    clearTimers();
    forgetToken();
    failures = 0;
    setStatus(outcome.kind);
  }

  async function requestToken(): Promise<Outcome> {
    let headers: Headers;
    try {
      headers = new Headers(
        typeof options.headers === 'function' ? await options.headers() : options.headers,
      );
    } catch {
      return { kind: 'retry', code: 'headers_failed', status: 0 };
    }
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    const abort = new AbortController();
    controller = abort;
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    // Raced as well as passed on: a fetch replacement that ignores its signal must not hang the provider.
    const aborted = new Promise<never>((_resolve, reject) => {
      abort.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    try {
      const response = await Promise.race([
        doFetch(endpoint as string | URL, {
          method,
          credentials,
          headers,
          cache: 'no-store',
          redirect: 'manual',
          signal: abort.signal,
        }),
        aborted,
      ]);
      return await Promise.race([interpret(response, mark()), aborted]);
    } catch {
      return { kind: 'retry', code: abort.signal.aborted ? 'timeout' : 'network_error', status: 0 };
    } finally {
      clearTimeout(timer);
      if (controller === abort) controller = undefined;
    }
  }

  function load(): Promise<void> {
    if (inFlight !== undefined) return inFlight;
    if (nextTimer !== undefined) clearTimeout(nextTimer);
    nextTimer = undefined;
    const gen = generation;
    const request: Promise<void> = requestToken().then((outcome) => {
      // Cleared before the outcome is applied, so a listener that calls refresh() starts a new request.
      if (inFlight === request) inFlight = undefined;
      if (gen === generation) apply(outcome);
    });
    inFlight = request;
    return request;
  }

  /** Tries now instead of waiting: the network is back, or the page is in view again. */
  function resume(): void {
    if (stopped() || inFlight !== undefined) return;
    if (status === 'active' && failures === 0 && arrived !== undefined && elapsedMs(arrived) < renewAtMs) {
      return;
    }
    failures = 0;
    void load();
  }

  const onOnline = () => resume();
  const onVisibility = () => {
    if (doc?.visibilityState === undefined || doc.visibilityState === 'visible') resume();
  };
  win?.addEventListener('online', onOnline);
  doc?.addEventListener('visibilitychange', onVisibility);

  const provider: TokenProvider = {
    ready,
    getDatasetAccessToken() {
      if (status !== 'active') return '';
      if (!usable()) {
        // Timers may have been held back (a sleeping laptop, a throttled background tab).
        expire();
        return '';
      }
      if (inFlight === undefined && failures === 0 && elapsedMs(arrived as Mark) >= renewAtMs) void load();
      return token;
    },
    get state(): TokenState {
      return error === undefined ? { status } : { status, error: { ...error } };
    },
    refresh() {
      if (status === 'disposed') return Promise.resolve(status);
      if (stopped()) {
        error = undefined;
        setStatus('loading');
      }
      failures = 0;
      return load().then(() => status);
    },
    subscribe(listener) {
      if (typeof listener !== 'function') return () => undefined;
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      if (status === 'disposed') return;
      generation += 1;
      controller?.abort();
      clearTimers();
      forgetToken();
      win?.removeEventListener('online', onOnline);
      doc?.removeEventListener('visibilitychange', onVisibility);
      setStatus('disposed');
      listeners.clear();
    },
  };

  void load();
  return provider;
}
