import type { KeySetHealth } from '@pp-embed/viz-api';
import { TokenError, TokenSetupError } from './errors.js';
import {
  describeFailure,
  type JwksEvent,
  keyServerUrl,
  fetchJson,
  RemoteJwks,
  type RemoteJwksOptions,
  type ResolvedKey,
} from './jwks.js';

/**
 * What an {@link IssuerKeys} reports, for the server's log: its key set's events (each with the issuer it belongs
 * to), a discovery document fetched (the first one, and whenever its `jwks_uri` changes), and every failed
 * discovery, with the issuer's name and the cause.
 *
 * @example
 * const onEvent = (e: IssuerEvent) => log.warn(`issuer_${e.type}`, e);
 */
export type IssuerEvent =
  | (JwksEvent & { readonly issuer: string })
  | { readonly type: 'discovered'; readonly issuer: string; readonly jwksUri: string }
  | {
      readonly type: 'discovery_failed';
      readonly issuer: string;
      readonly url: string;
      readonly cause: string;
      /** Keys still in use from the last good discovery; 0 when none ever succeeded. */
      readonly keys: number;
      readonly retryInSeconds: number;
    };

/**
 * How an {@link IssuerKeys} fetches: the options of its key set (timeouts, refresh, the unknown-`kid` rules), and
 * how often the discovery document itself is read again.
 *
 * @example
 * const options: IssuerKeysOptions = { timeoutMs: 3_000, discoveryMaxAgeMs: 3_600_000 };
 */
export interface IssuerKeysOptions extends Omit<RemoteJwksOptions, 'onEvent'> {
  /** How long a discovery document is used before it is read again. Default 1 hour. */
  discoveryMaxAgeMs?: number;
  /** Discovery failures, key set events and changes of `jwks_uri`, each naming the issuer. */
  onEvent?: (event: IssuerEvent) => void;
}

/** A discovery document is a few kilobytes; anything much larger is not one. */
const MAX_DISCOVERY_BYTES = 64 * 1024;

/**
 * The discovery URL of an issuer (OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, then
 * `/.well-known/openid-configuration`).
 *
 * @example
 * discoveryUrl('https://login.example.edu/realms/lab'); // 'https://login.example.edu/realms/lab/.well-known/openid-configuration'
 */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * An OpenID Provider's signing keys, found through its discovery document and kept fresh:
 *
 * - the document's `issuer` must be exactly the configured one (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3),
 *   so that a provider cannot speak for another; its `jwks_uri` must be https (http only on loopback);
 * - the keys are a {@link RemoteJwks} with all its rules (cached, refreshed after `max-age`, an unknown `kid`
 *   refetched under the cooldown, failures retried with backoff, stale keys dropped after `maxStaleMs`);
 * - a discovery document that cannot be fetched, is not JSON, names another issuer or no usable `jwks_uri` is
 *   reported with the issuer's name and never replaces the keys in use; a changed `jwks_uri` is used only once its
 *   key set has been fetched;
 * - every fetch is bounded by `timeoutMs` (default 5 s) and a byte cap, so a slow or hostile issuer never holds a
 *   request for longer than that, and cached keys keep working while it is away.
 *
 * @example
 * const keys = new IssuerKeys('https://login.example.edu', { onEvent: (e) => log.info(`issuer_${e.type}`, e) });
 * await keys.refresh().catch(() => undefined); // reported through onEvent
 * const { key, alg } = await keys.resolve(header.kid);
 */
export class IssuerKeys {
  readonly #issuer: string;
  readonly #url: URL;
  readonly #options: IssuerKeysOptions;
  readonly #onEvent: (event: IssuerEvent) => void;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #maxAgeMs: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #cooldownMs: number;
  #jwks: RemoteJwks | undefined;
  #nextDiscoveryAt = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #lastError: string | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #removedListeners: ((kids: readonly string[]) => void)[] = [];

  constructor(issuer: string, options: IssuerKeysOptions = {}) {
    this.#url = keyServerUrl(discoveryUrl(issuer), `issuer ${issuer}`);
    this.#issuer = issuer;
    this.#options = options;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxAgeMs = options.discoveryMaxAgeMs ?? 60 * 60_000;
    this.#retryMs = options.retryMs ?? 1_000;
    this.#maxRetryMs = Math.max(options.maxRetryMs ?? 30_000, this.#retryMs);
    this.#cooldownMs = options.cooldownMs ?? 5_000;
  }

  /** The issuer, exactly as configured and as its tokens' `iss` must read. */
  get issuer(): string {
    return this.#issuer;
  }

  /**
   * Reads the discovery document and fetches its key set now (at server start). Rejects when either fails; the
   * keys in use, if any, are kept.
   *
   * @example
   * await keys.refresh().catch((error) => log.warn('issuer_unavailable', { message: error.message }));
   */
  async refresh(): Promise<void> {
    await this.#discover();
    await this.#jwks?.refresh();
  }

  /**
   * The key for a token header. Without keys yet, the discovery document is read first (at most once per
   * `cooldownMs` for requests); then the key set's own rules apply. Rejects with a {@link TokenError}
   * `token_invalid` (claim `kid`, or `iss` when the issuer's keys could never be loaded).
   *
   * @example
   * const { key, alg } = await keys.resolve('2026-01');
   */
  async resolve(kid: string | undefined): Promise<ResolvedKey> {
    if (this.#jwks === undefined) {
      const now = this.#now();
      if (this.#inFlight !== undefined || now - this.#lastAttempt >= this.#cooldownMs) {
        await this.#discover().catch(() => undefined);
      }
    }
    const jwks = this.#jwks;
    if (jwks === undefined) {
      throw new TokenError('token_invalid', `the keys of issuer ${this.#issuer} could not be loaded`, {
        claim: 'iss',
        reason: 'key',
      });
    }
    return jwks.resolve(kid);
  }

  /**
   * Calls `listener` with the kids that left the issuer's key set, so tokens verified with them are forgotten.
   *
   * @example
   * keys.onKeysRemoved((kids) => cache.deleteWhere((entry) => kids.includes(entry.kid)));
   */
  onKeysRemoved(listener: (kids: readonly string[]) => void): void {
    this.#removedListeners.push(listener);
  }

  /**
   * The state of the issuer's keys for a health check: its key set's, or `unavailable` with the discovery
   * failure while no discovery has succeeded.
   *
   * @example
   * const { status, problem } = keys.health();
   */
  health(): KeySetHealth {
    const jwks = this.#jwks?.health();
    if (jwks !== undefined) {
      return this.#lastError === undefined || jwks.status !== 'ok'
        ? jwks
        : { ...jwks, status: 'stale', problem: `discovery: ${this.#lastError}` };
    }
    return {
      url: `${this.#url.origin}${this.#url.pathname}`,
      status: 'unavailable',
      keys: 0,
      ageSeconds: null,
      problem: this.#lastError ?? 'the discovery document has not been fetched yet',
    };
  }

  /** Stops the background refreshes. @example keys.close(); */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#jwks?.close();
  }

  async #discover(): Promise<void> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(): Promise<void> {
    this.#lastAttempt = this.#now();
    try {
      const jwksUri = await this.#fetchDocument();
      if (this.#jwks !== undefined && this.#jwks.url === `${jwksUri.origin}${jwksUri.pathname}`) {
        this.#succeeded();
        return;
      }
      const next = this.#keySet(jwksUri);
      if (this.#jwks !== undefined) {
        // A moved key set replaces the one in use only once it has keys: the last good keys stay until then.
        await next.refresh().catch((error: unknown) => {
          next.close();
          throw error;
        });
        this.#jwks.close();
      }
      this.#jwks = next;
      this.#onEvent({ type: 'discovered', issuer: this.#issuer, jwksUri: next.url });
      this.#succeeded();
    } catch (error) {
      this.#failures++;
      const retry = Math.min(this.#maxRetryMs, this.#retryMs * 2 ** (this.#failures - 1));
      this.#nextDiscoveryAt = this.#now() + retry;
      this.#lastError = describeFailure(error);
      this.#onEvent({
        type: 'discovery_failed',
        issuer: this.#issuer,
        url: `${this.#url.origin}${this.#url.pathname}`,
        cause: this.#lastError,
        keys: this.#jwks?.health().keys ?? 0,
        retryInSeconds: Math.round(retry / 1000),
      });
      throw error instanceof TokenSetupError
        ? error
        : new TokenSetupError('key_unavailable', `issuer ${this.#issuer}: ${this.#lastError}`, {
            cause: error,
          });
    } finally {
      this.#schedule();
    }
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#lastError = undefined;
    this.#nextDiscoveryAt = this.#now() + this.#maxAgeMs;
  }

  /** The document's `jwks_uri`, after the checks that keep one provider from speaking for another. */
  async #fetchDocument(): Promise<URL> {
    const { json: document } = await fetchJson(this.#fetch, this.#url, {
      timeoutMs: this.#timeoutMs,
      maxBytes: MAX_DISCOVERY_BYTES,
      accept: 'application/json',
      what: 'discovery document',
    });
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new TokenSetupError('key_invalid', 'discovery document is not a JSON object');
    }
    const { issuer, jwks_uri: jwksUri } = document as Record<string, unknown>;
    // OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be exactly the one asked about.
    if (issuer !== this.#issuer) {
      throw new TokenSetupError(
        'key_invalid',
        `discovery document names issuer ${JSON.stringify(issuer)}, not ${JSON.stringify(this.#issuer)}`,
      );
    }
    if (typeof jwksUri !== 'string') {
      throw new TokenSetupError('key_invalid', 'discovery document has no jwks_uri');
    }
    return keyServerUrl(jwksUri, 'discovery document jwks_uri');
  }

  #keySet(url: URL): RemoteJwks {
    const { discoveryMaxAgeMs: _ignored, onEvent: _own, ...options } = this.#options;
    const jwks = new RemoteJwks(url, {
      ...options,
      onEvent: (event) => this.#onEvent({ ...event, issuer: this.#issuer }),
    });
    jwks.onKeysRemoved((kids) => {
      if (this.#jwks === jwks) for (const listener of this.#removedListeners) listener(kids);
    });
    return jwks;
  }

  #schedule(): void {
    if (this.#options.background === false) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.refresh().catch(() => undefined);
      },
      Math.max(this.#nextDiscoveryAt - this.#now(), 100),
    ).unref();
  }
}
