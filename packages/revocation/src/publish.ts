import type { Signer } from '@pp-embed/dataset-token';
import { feedEtag } from './client.js';
import { signFeed } from './feed.js';
import type { Revocation } from './revocation.js';

/**
 * The live revocations of a portal's store, and their version.
 *
 * @example
 * const snapshot: FeedSnapshot = { epoch: 'k3xxxxxx', seq: 0, revocations: [] };
 */
export interface FeedSnapshot {
  readonly epoch: string;
  readonly seq: number;
  readonly revocations: readonly Revocation[];
}

/**
 * Options of {@link FeedPublisher}.
 *
 * @example
 * const options: FeedPublisherOptions = { version: () => store.revocations.version(), snapshot: () => store.revocations.snapshot(Date.now()), signer: () => keys.signer() };
 */
export interface FeedPublisherOptions {
  /** The store's current epoch and sequence number: a cheap read. */
  version(): Promise<{ epoch: string; seq: number }>;
  /** Every revocation that can still match a live token. */
  snapshot(): Promise<FeedSnapshot>;
  /** The key that signs the portal's tokens signs its feed. */
  signer(): Signer | Promise<Signer>;
  /** The longest a request is held open. Default 25 s, under the usual proxy idle timeouts. */
  maxWaitSeconds?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** What the feed endpoint answers. */
export type FeedAnswer =
  | { readonly status: 304; readonly etag: string }
  | { readonly status: 200; readonly etag: string; readonly body: string };

// A signed feed is reused for this long for every replica asking for the same version: N replicas woken by one
// revocation cost one signature, not N.
const REUSE_MS = 30_000;

/**
 * The portal's side of the feed, independent of the HTTP framework: answers a conditional GET with the signed list
 * or "304 unchanged", and holds a request carrying `Prefer: wait=N` (RFC 7240 §4.3) until the store's version
 * moves past the one the replica has, or N seconds pass. The store's watcher calls {@link notify} when a
 * revocation is recorded by this process or another one on the same store.
 *
 * @example
 * const feed = new FeedPublisher({ version, snapshot, signer: () => keys.signer() });
 * app.get('/.well-known/pp-revocations', async (c) => {
 *   const answer = await feed.answer({ ifNoneMatch: c.req.header('if-none-match'), prefer: c.req.header('prefer'), signal: c.req.raw.signal });
 *   …
 * });
 */
export class FeedPublisher {
  readonly #options: FeedPublisherOptions;
  readonly #maxWait: number;
  readonly #now: () => number;
  #changed: Promise<void>;
  #signal!: () => void;
  #signed: { etag: string; body: string; at: number } | undefined;
  #closed = false;

  constructor(options: FeedPublisherOptions) {
    this.#options = options;
    this.#maxWait = options.maxWaitSeconds ?? 25;
    this.#now = options.now ?? Date.now;
    this.#changed = this.#next();
  }

  #next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#signal = resolve;
    });
  }

  /** Something may have changed: wakes every held request to look again. @example publisher.notify(); */
  notify(): void {
    const signal = this.#signal;
    this.#changed = this.#next();
    signal();
  }

  /**
   * Stops holding requests, for a portal that shuts down: held ones answer at once (304 when nothing changed), and
   * later ones are not held, so that no request keeps the shutdown waiting and each replica asks again elsewhere.
   *
   * @example
   * lifecycle.drainSignal.addEventListener('abort', () => publisher.close(), { once: true });
   */
  close(): void {
    this.#closed = true;
    this.notify();
  }

  /**
   * The answer to one feed request.
   *
   * @example
   * const answer = await feed.answer({ ifNoneMatch: '"k3xxxxxx.4"', prefer: 'wait=25' });
   */
  async answer(request: {
    ifNoneMatch?: string | undefined;
    prefer?: string | undefined;
    signal?: AbortSignal;
  }): Promise<FeedAnswer> {
    const wait = Math.min(this.#maxWait, preferredWait(request.prefer));
    const deadline = this.#now() + wait * 1000;
    let version = await this.#options.version();
    let etag = feedEtag(version);
    while (
      request.ifNoneMatch === etag &&
      this.#now() < deadline &&
      request.signal?.aborted !== true &&
      !this.#closed
    ) {
      const changed = this.#changed;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - this.#now()));
        const done = () => {
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', done);
          resolve();
        };
        void changed.then(done);
        request.signal?.addEventListener('abort', done, { once: true });
      });
      version = await this.#options.version();
      etag = feedEtag(version);
    }
    if (request.ifNoneMatch === etag) return { status: 304, etag };
    const now = this.#now();
    const cached = this.#signed;
    if (cached !== undefined && cached.etag === etag && now - cached.at < REUSE_MS) {
      return { status: 200, etag, body: cached.body };
    }
    const snapshot = await this.#options.snapshot();
    const body = signFeed(await this.#options.signer(), snapshot);
    const signedEtag = feedEtag(snapshot);
    this.#signed = { etag: signedEtag, body, at: now };
    return { status: 200, etag: signedEtag, body };
  }
}

/** The `wait` preference of a `Prefer` header, in whole seconds; 0 without one. */
function preferredWait(prefer: string | undefined): number {
  const match = prefer === undefined ? null : /(?:^|[,;\s])wait=(\d{1,4})(?:$|[,;\s])/i.exec(prefer);
  return match === null ? 0 : Number(match[1]);
}
