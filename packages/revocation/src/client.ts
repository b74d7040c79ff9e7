import type { DatasetTokenClaims, DocumentVerifier } from '@pp-embed/dataset-token';
import { type Logger, silentLogger } from '@pp-embed/server-runtime';
import type { RevocationFeedHealth } from '@pp-embed/viz-api';
import { parseFeed, type RevocationFeed } from './feed.js';
import { RevocationList } from './list.js';
import type { Revocation } from './revocation.js';

/**
 * What a replica can say about one token, by the feed that covers its embedder (or the registry of the entry that
 * verified it):
 * - `clear`: the list in force does not withdraw it;
 * - `retired`: the entry that verified it was retired: every token of its keys is refused;
 * - `revoked`: this revocation withdraws it;
 * - `unavailable`: the feed has not answered within its staleness limit (or never did since start), so the
 *   replica cannot tell: the token is refused (fail closed).
 *
 * @example
 * if (verdict.state === 'revoked') refuse(401, 'token_revoked');
 */
export type RevocationVerdict =
  | { readonly state: 'clear'; readonly feed: string; readonly seq: number }
  | {
      /**
       * The credential entry that verified the token was retired by the server's operator (the embedder
       * registry): every token its keys check is refused, whatever its `iat`, since the retired portal may still
       * hold the key and mint.
       */
      readonly state: 'retired';
      /** The registry entry's id. */
      readonly entry: string;
      /** When it was retired (ISO 8601), and by whom. */
      readonly at: string;
      readonly by: string;
    }
  | { readonly state: 'revoked'; readonly feed: string; readonly revocation: Revocation }
  | {
      readonly state: 'unavailable';
      readonly feed: string;
      /** When the feed last answered, in milliseconds; undefined when it never did. */
      readonly lastSyncAt: number | undefined;
      readonly maxStaleSeconds: number;
    };

/** One feed's state for `/healthcheck`: the wire contract's row. */
export type FeedHealth = RevocationFeedHealth;

/**
 * Options of {@link RevocationFeedClient}.
 *
 * @example
 * const options: FeedClientOptions = { name: 'portal', url, verifier, maxStaleSeconds: 60 };
 */
export interface FeedClientOptions {
  /** The feed's name in serverconfig.json, for logs and the health check. */
  name: string;
  /** Checked by the configuration loader: https, or http on loopback. */
  url: URL;
  /** Verifies the signed feed with the portal's key (`createDocumentVerifier` of @pp-embed/dataset-token). */
  verifier: DocumentVerifier;
  /** How long the last list stays in force without an answer from the feed; past it, tokens are refused. */
  maxStaleSeconds: number;
  /** How long the portal may hold a request open until something changes (`Prefer: wait`). Default: a third of the staleness limit, at most 25 s. */
  waitSeconds?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  logger?: Logger;
}

const MAX_FEED_BYTES = 8 * 1024 * 1024;
/** The shortest time between two requests, so that a feed which does not hold requests open is not hammered. */
const MIN_INTERVAL_MS = 250;
const MAX_BACKOFF_MS = 5_000;

/**
 * Keeps one portal's revocation list in memory, current within seconds: a long-poll loop of conditional GETs
 * (`If-None-Match` with the list's ETag, `Prefer: wait=N` so that the portal answers as soon as a revocation is
 * recorded, or "304 unchanged" after N seconds). Every list is a signed feed, verified with the portal's key
 * before it is used; a forged, malformed, rolled-back or old feed is refused with a logged reason and the last
 * good list stays in force. When the feed cannot be reached the last list stays in force for `maxStaleSeconds`;
 * after that {@link check} answers `unavailable` until it is reached again.
 *
 * @example
 * const client = new RevocationFeedClient({ name: 'portal', url, verifier, maxStaleSeconds: 60, logger });
 * client.start();
 * client.check(claims, ['PPDemo'], Date.now()); // { state: 'clear', … }
 */
export class RevocationFeedClient {
  readonly name: string;
  readonly maxStaleSeconds: number;
  readonly #options: FeedClientOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #waitSeconds: number;
  #feed: RevocationFeed | undefined;
  #list: RevocationList | undefined;
  #lastSyncAt: number | undefined;
  #lastError: string | null = null;
  #failedClosed = false;
  #running = false;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: FeedClientOptions) {
    this.name = options.name;
    this.maxStaleSeconds = options.maxStaleSeconds;
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger;
    this.#waitSeconds =
      options.waitSeconds ?? Math.min(25, Math.max(1, Math.floor(options.maxStaleSeconds / 3)));
  }

  /**
   * The verdict for a verified token used for `datasets`. An in-memory lookup: never a network call.
   *
   * @example
   * client.check(claims, ['PPDemo'], Date.now());
   */
  check(claims: DatasetTokenClaims, datasets: readonly string[], now: number): RevocationVerdict {
    const list = this.#list;
    const synced = this.#lastSyncAt;
    if (list === undefined || synced === undefined || now - synced > this.maxStaleSeconds * 1000) {
      return {
        state: 'unavailable',
        feed: this.name,
        lastSyncAt: synced,
        maxStaleSeconds: this.maxStaleSeconds,
      };
    }
    const revocation = list.match(claims, datasets);
    return revocation === undefined
      ? { state: 'clear', feed: this.name, seq: (this.#feed as RevocationFeed).seq }
      : { state: 'revoked', feed: this.name, revocation };
  }

  /** What `/healthcheck` says about this feed. @example client.health(Date.now()).state; // 'fresh' */
  health(now: number): FeedHealth {
    const synced = this.#lastSyncAt;
    const state =
      this.#list === undefined || synced === undefined
        ? 'never-synced'
        : now - synced > this.maxStaleSeconds * 1000
          ? 'failed-closed'
          : this.#lastError === null
            ? 'fresh'
            : 'stale';
    return {
      feed: this.name,
      state,
      seq: this.#feed?.seq ?? null,
      entries: this.#list?.size ?? 0,
      lastSyncAt: synced === undefined ? null : new Date(synced).toISOString(),
      maxStaleSeconds: this.maxStaleSeconds,
      lastError: this.#lastError,
    };
  }

  /**
   * One request without waiting: loads the current list (at start, and for `pp-token explain`). Resolves true
   * when the feed answered with a list it accepted (or "unchanged"); never rejects.
   *
   * @example
   * if (!(await client.syncOnce())) console.warn('the revocation feed cannot be read');
   */
  async syncOnce(): Promise<boolean> {
    return this.#request(0, AbortSignal.timeout(10_000));
  }

  /** Starts the long-poll loop (idempotent). @example client.start(); */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops the loop and aborts a request in flight. @example await client.stop(); */
  async stop(): Promise<void> {
    this.#running = false;
    this.#abort?.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      const started = this.#now();
      this.#abort = new AbortController();
      const timeout = AbortSignal.timeout((this.#waitSeconds + 5) * 1000);
      const ok = await this.#request(this.#waitSeconds, AbortSignal.any([this.#abort.signal, timeout]));
      if (!this.#running) break;
      failures = ok ? 0 : failures + 1;
      this.#noteStaleness();
      const pause = ok
        ? Math.max(0, MIN_INTERVAL_MS - (this.#now() - started))
        : Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 5));
      if (pause > 0) await this.#sleep(pause);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #noteStaleness(): void {
    const state = this.health(this.#now()).state;
    if (
      (state === 'failed-closed' || state === 'never-synced') &&
      this.#lastError !== null &&
      !this.#failedClosed
    ) {
      this.#failedClosed = true;
      this.#log.error('revocation_feed_failed_closed', {
        feed: this.name,
        maxStaleSeconds: this.maxStaleSeconds,
        lastSyncAt: this.health(this.#now()).lastSyncAt,
        reason: this.#lastError,
      });
    }
  }

  async #request(waitSeconds: number, signal: AbortSignal): Promise<boolean> {
    const headers: Record<string, string> = { accept: 'application/jwt', 'cache-control': 'no-cache' };
    if (this.#feed !== undefined) headers['if-none-match'] = feedEtag(this.#feed);
    // RFC 7240 §4.3: the portal may hold the request until the list changes, at most this long.
    if (waitSeconds > 0) headers.prefer = `wait=${waitSeconds}`;
    let response: Response;
    try {
      response = await this.#fetch(this.#options.url, { headers, signal, redirect: 'error' });
    } catch {
      if (!this.#running && signal.aborted && waitSeconds > 0) return false;
      return this.#failed('the feed could not be reached');
    }
    const at = this.#now();
    if (response.status === 304 && this.#feed !== undefined) {
      await response.body?.cancel();
      this.#confirmed(at);
      return true;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      return this.#failed(`the feed answered HTTP ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_FEED_BYTES) {
      await response.body?.cancel();
      return this.#refused(`the feed is over ${MAX_FEED_BYTES} bytes`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      return this.#failed('the feed could not be read');
    }
    return this.#accept(text, at);
  }

  async #accept(jws: string, at: number): Promise<boolean> {
    let read: ReturnType<typeof parseFeed>;
    try {
      read = parseFeed(await this.#options.verifier.verify(jws, at));
    } catch (error) {
      return this.#refused(`the feed did not verify: ${(error as Error).message}`);
    }
    if (!read.ok) return this.#refused(`the feed is malformed: ${read.problem}`);
    const feed = read.feed;
    const current = this.#feed;
    if (at / 1000 - feed.iat > this.maxStaleSeconds) {
      return this.#refused(`the feed was signed ${Math.round(at / 1000 - feed.iat)} s ago: an old copy`);
    }
    if (current !== undefined && current.epoch === feed.epoch && feed.seq < current.seq) {
      return this.#refused(`the feed went back from seq ${current.seq} to ${feed.seq}: an old copy`);
    }
    if (current !== undefined && current.epoch !== feed.epoch) {
      this.#log.warn('revocation_feed_new_epoch', { feed: this.name, seq: feed.seq });
    }
    if (current === undefined || current.epoch !== feed.epoch || current.seq !== feed.seq) {
      this.#list = new RevocationList(feed.revocations);
      this.#log.info('revocation_feed_loaded', {
        feed: this.name,
        seq: feed.seq,
        entries: feed.revocations.length,
      });
    }
    this.#feed = feed;
    this.#confirmed(at);
    return true;
  }

  #confirmed(at: number): void {
    if (this.#lastError !== null && this.#list !== undefined) {
      this.#log.info('revocation_feed_recovered', { feed: this.name, seq: this.#feed?.seq ?? null });
    }
    this.#lastSyncAt = at;
    this.#lastError = null;
    this.#failedClosed = false;
  }

  /** The feed could not be read: the last list stays in force until the staleness limit. */
  #failed(reason: string): false {
    if (this.#lastError === null) this.#log.warn('revocation_feed_unreachable', { feed: this.name, reason });
    this.#lastError = reason;
    return false;
  }

  /** The feed answered with a list that must not be used: logged every time, never applied. */
  #refused(reason: string): false {
    this.#log.warn('revocation_feed_refused', { feed: this.name, reason });
    this.#lastError = reason;
    return false;
  }
}

/**
 * The ETag of a feed: its epoch and sequence number, so that two portal replicas on one store answer alike.
 *
 * @example
 * feedEtag({ epoch: 'k3xx', seq: 12 }); // '"k3xx.12"'
 */
export function feedEtag(feed: { epoch: string; seq: number }): string {
  return `"${feed.epoch}.${feed.seq}"`;
}
