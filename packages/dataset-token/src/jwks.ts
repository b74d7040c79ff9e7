import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Algorithm, defaultAlgorithm, isAlgorithm, pinAlgorithms } from './algorithms.js';
import { TokenError, TokenSetupError } from './errors.js';
import { type JsonWebKey, publicKeyFrom } from './keys.js';
import type { KeySetHealth } from '@pp-embed/viz-api';

/** A JSON Web Key Set (RFC 7517 §5). */
export interface JsonWebKeySet {
  keys: readonly (JsonWebKey & { kid?: string; alg?: string; use?: string })[];
}

/** A verification key with the one algorithm it may be used with. */
export interface ResolvedKey {
  kid: string | undefined;
  alg: Algorithm;
  key: KeyObject;
}

/**
 * A key of a JWKS that is not used, and why (RFC 7517 §5: keys that are not understood are ignored).
 *
 * @example
 * const ignored: IgnoredKey = { index: 1, kid: 'enc-1', reason: 'use "enc": only signature keys ("sig") are used' };
 */
export interface IgnoredKey {
  index: number;
  kid: string | undefined;
  reason: string;
}

/**
 * The verification keys of a JWKS, and the keys it holds that cannot be used. RFC 7517 §5: keys whose `kty` is
 * not understood, that miss required members, or whose values are out of range are ignored, not fatal, so that
 * one key a portal added for another purpose (`use: "enc"`, an `oct` secret, a curve we do not support) does not
 * lock every user out. A `kid` that appears twice is ambiguous: neither key is used. Throws only when the
 * document is not a key set at all.
 *
 * @example
 * const { keys, ignored } = readJwks(await (await fetch(url)).json());
 * for (const key of ignored) log.warn('jwks_key_ignored', key);
 */
export function readJwks(jwks: unknown): { keys: ResolvedKey[]; ignored: IgnoredKey[] } {
  const { keys, problems } = readKeys(jwks);
  return {
    keys,
    ignored: problems.map(({ index, kid, error }) => ({ index, kid, reason: error.message })),
  };
}

/**
 * Turns a JWKS the operator wrote (a file, or inline in the configuration) into verification keys, refusing
 * the whole set for any key that cannot be used, so that a mistake stops the server at start. Secret (`oct`)
 * keys, private keys, encryption keys and keys of unsupported types are refused: a key set must only ever hold
 * public signature keys. A JWKS fetched from a URL is read by {@link readJwks}, which ignores such keys.
 *
 * @example
 * const keys = parseJwks(JSON.parse(readFileSync('jwks.json', 'utf8')));
 */
export function parseJwks(jwks: unknown): ResolvedKey[] {
  const { keys, problems } = readKeys(jwks);
  if (problems[0] !== undefined) throw problems[0].error;
  return keys;
}

interface KeyProblem {
  index: number;
  kid: string | undefined;
  error: TokenSetupError;
}

function readKeys(jwks: unknown): { keys: ResolvedKey[]; problems: KeyProblem[] } {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JsonWebKeySet).keys)) {
    throw new TokenSetupError('key_invalid', 'a JWKS must be an object with a "keys" array');
  }
  const problems: KeyProblem[] = [];
  const found: { index: number; key: ResolvedKey }[] = [];
  (jwks as JsonWebKeySet).keys.forEach((jwk, index) => {
    const kid = typeof jwk === 'object' && jwk !== null && typeof jwk.kid === 'string' ? jwk.kid : undefined;
    try {
      found.push({ index, key: verificationKeyOf(jwk, `keys[${index}]`) });
    } catch (error) {
      const setup =
        error instanceof TokenSetupError
          ? error
          : new TokenSetupError('key_invalid', `keys[${index}] cannot be used`, { cause: error });
      problems.push({ index, kid, error: setup });
    }
  });
  // A kid named twice is ambiguous: which key checks a token would depend on the order. Neither is used.
  const twice = new Set<string>();
  const seen = new Set<string>();
  for (const { index, key } of found) {
    if (key.kid === undefined) continue;
    if (seen.has(key.kid)) {
      twice.add(key.kid);
      problems.push({
        index,
        kid: key.kid,
        error: new TokenSetupError('key_invalid', `keys[${index}].kid "${key.kid}" is used twice`),
      });
    }
    seen.add(key.kid);
  }
  const keys = found.map((f) => f.key).filter((key) => key.kid === undefined || !twice.has(key.kid));
  return { keys, problems: problems.sort((a, b) => a.index - b.index) };
}

function verificationKeyOf(jwk: JsonWebKeySet['keys'][number], where: string): ResolvedKey {
  if (typeof jwk !== 'object' || jwk === null)
    throw new TokenSetupError('key_invalid', `${where} is not an object`);
  if (jwk.kty === 'oct')
    throw new TokenSetupError('key_invalid', `${where} is a secret key; a JWKS must be public`);
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new TokenSetupError('key_invalid', `${where} has use "${String(jwk.use)}"; "sig" is needed`);
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') {
    throw new TokenSetupError('key_invalid', `${where}.kid must be a string`);
  }
  if ('d' in jwk)
    throw new TokenSetupError('key_invalid', `${where} holds a private key; publish the public half`);
  let key: KeyObject;
  try {
    key = publicKeyFrom(jwk);
  } catch (cause) {
    throw new TokenSetupError('key_invalid', `${where}: ${(cause as Error).message}`, { cause });
  }
  let alg: Algorithm;
  if (jwk.alg === undefined) alg = defaultAlgorithm(key);
  else if (isAlgorithm(jwk.alg)) alg = pinAlgorithms(key, [jwk.alg])[0] as Algorithm;
  else throw new TokenSetupError('algorithm_not_allowed', `${where}.alg ${String(jwk.alg)} is not supported`);
  return { kid: jwk.kid, alg, key };
}

/** Reads and parses a JWKS file. */
export function readJwksFile(file: string): ResolvedKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new TokenSetupError('key_unavailable', `cannot read JWKS file ${file}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TokenSetupError('key_invalid', `JWKS file ${file} is not JSON`, { cause });
  }
  return parseJwks(json);
}

/** Picks the key for a token header: by `kid`, or the only key when the set has one and the token names none. */
export function selectKey(keys: readonly ResolvedKey[], kid: string | undefined): ResolvedKey | undefined {
  if (kid === undefined) return keys.length === 1 ? keys[0] : undefined;
  return keys.find((k) => k.kid === kid);
}

/**
 * What a {@link RemoteJwks} reports, for the server's log: a key set fetched with a change in its keys (and the
 * first one), a failed fetch (every one, with the age of the keys still in use), a key of the set that is
 * ignored (when the set changes).
 *
 * @example
 * const onEvent = (e: JwksEvent) => (e.type === 'fetch_failed' ? log.warn('jwks_fetch_failed', e) : log.info(`jwks_${e.type}`, e));
 */
export type JwksEvent =
  | {
      type: 'fetched';
      url: string;
      keys: number;
      /** Key ids new in this fetch, and gone since the previous one (`""` for a key without a kid). */
      added: string[];
      removed: string[];
      refreshInSeconds: number;
    }
  | {
      type: 'fetch_failed';
      url: string;
      cause: string;
      /** Keys still in use, and how old they are (null: none was ever fetched). */
      keys: number;
      keysAgeSeconds: number | null;
      retryInSeconds: number;
    }
  | { type: 'key_ignored'; url: string; index: number; kid: string | null; reason: string };

/**
 * How a {@link RemoteJwks} fetches. The defaults suit a portal that follows the rotation rule (publish a new key
 * at least `maxAgeMs` + one minute before signing with it): a verifier then has the key before any token needs it.
 *
 * @example
 * const options: RemoteJwksOptions = { maxAgeMs: 600_000, cooldownMs: 5_000, onEvent: (e) => log.info(e.type, e) };
 */
export interface RemoteJwksOptions {
  /** The longest a fetched key set is used before it is fetched again, whatever its Cache-Control says. Default 10 minutes. */
  maxAgeMs?: number;
  /** The shortest, whatever its Cache-Control says (`no-cache`, `max-age=0`). Default 30 s. */
  minAgeMs?: number;
  /** The shortest time between two fetches caused by tokens with an unknown `kid`. Default 5 s. */
  cooldownMs?: number;
  /** The most fetches caused by unknown `kid`s in any minute. Default 12. */
  unknownKidFetchesPerMinute?: number;
  /** The first retry after a failed fetch, doubled after each further failure up to `maxRetryMs`. Default 1 s. */
  retryMs?: number;
  /** Default 30 s. */
  maxRetryMs?: number;
  /** Keys this old are no longer trusted when no fetch has succeeded since: fail closed. Default 1 hour. */
  maxStaleMs?: number;
  /** Fetch timeout, body included. Default 5 s. */
  timeoutMs?: number;
  /** The largest JWKS accepted; the body is read as it arrives and dropped past this. Default 512 KiB. */
  maxBytes?: number;
  /** Refresh on a timer, ahead of requests (started by the first fetch). Default true. */
  background?: boolean;
  /** Fetches, failures and ignored keys, for the log. */
  onEvent?: (event: JwksEvent) => void;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injected clock in milliseconds. */
  now?: () => number;
}

const MAX_JWKS_BYTES = 512 * 1024;

/**
 * The rule for every URL a server fetches keys or signed key material from (a JWKS, a revocation feed): https, or
 * http on the loopback address only, and no credentials in it. Throws {@link TokenSetupError} naming `what`.
 *
 * @example
 * keyServerUrl('https://portal.example.org/.well-known/pp-revocations', 'revocation feed URL');
 */
export function keyServerUrl(url: string | URL, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TokenSetupError('option_invalid', `${what} is not a valid URL`, { cause, option: 'key' });
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new TokenSetupError(
      'option_invalid',
      `${what} must use https (http only on the loopback address)`,
      {
        option: 'key',
      },
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TokenSetupError('option_invalid', `${what} must not carry credentials`, { option: 'key' });
  }
  return parsed;
}

/**
 * `max-age` of a Cache-Control header, less `Age` (the time a shared cache already kept it), in milliseconds;
 * undefined when there is none. `no-cache` and `no-store` are a max-age of 0 (RFC 9111 §5.2.2).
 */
function freshFor(headers: Headers): number | undefined {
  const control = headers.get('cache-control')?.toLowerCase() ?? '';
  if (/(^|,)\s*(no-cache|no-store)\s*(,|$)/.test(control)) return 0;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/.exec(control)?.[1];
  if (maxAge === undefined) return undefined;
  const age = Number(/^\d{1,10}$/.exec(headers.get('age')?.trim() ?? '')?.[0] ?? 0);
  return Math.max(0, Number(maxAge) - age) * 1000;
}

/**
 * Reads a body as it arrives and stops past `max` bytes, so that a huge answer never sits in memory. `what` names
 * the document in errors.
 *
 * @example
 * const text = await readCapped(await fetch(url), 512 * 1024, 'JWKS response');
 */
async function readCapped(response: Response, max: number, what = 'JWKS response'): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw new TokenSetupError('key_invalid', `${what} is larger than ${max} bytes`);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new TokenSetupError('key_invalid', `${what} is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (cause) {
    throw new TokenSetupError('key_invalid', `${what} is not UTF-8`, { cause });
  }
}

/**
 * Fetches a JSON document keys depend on, within bounds: `timeoutMs` for the whole exchange, no redirects (the
 * configured URL is the one trusted), the body read up to `maxBytes`. `what` names the document in errors.
 *
 * @example
 * const { json } = await fetchJson(fetch, url, { timeoutMs: 5000, maxBytes: 65536, accept: 'application/json', what: 'discovery document' });
 */
export async function fetchJson(
  fetchFn: typeof fetch,
  url: URL,
  options: { timeoutMs: number; maxBytes: number; accept: string; what: string },
): Promise<{ json: unknown; text: string; headers: Headers }> {
  const response = await fetchFn(url, {
    signal: AbortSignal.timeout(options.timeoutMs),
    redirect: 'error',
    headers: { accept: options.accept },
  });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new TokenSetupError('key_unavailable', `${options.what} request answered ${response.status}`);
  }
  const text = await readCapped(response, options.maxBytes, `${options.what} response`);
  try {
    return { json: JSON.parse(text) as unknown, text, headers: response.headers };
  } catch (cause) {
    throw new TokenSetupError('key_invalid', `${options.what} response is not JSON`, { cause });
  }
}

/** What identifies each key of a set: its kid (`""` without one) and its public material. */
function fingerprints(keys: readonly ResolvedKey[]): Map<string, string> {
  return new Map(
    keys.map((k) => [k.kid ?? '', `${k.alg}:${JSON.stringify(k.key.export({ format: 'jwk' }))}`]),
  );
}

/**
 * A key set fetched from a URL and kept fresh, built to survive key rotation and hostile traffic:
 *
 * - refreshed in the background before it goes stale, after the JWKS's Cache-Control `max-age` (within
 *   `minAgeMs`..`maxAgeMs`), so a key published ahead of use is known before the first token signed with it;
 * - a token whose `kid` is unknown causes a fetch at most once per `cooldownMs` and `unknownKidFetchesPerMinute`
 *   times a minute, so a flood of made-up kids costs a few requests and delays a real rotation by `cooldownMs`
 *   at most;
 * - a failed fetch keeps the keys in use and is retried soon (`retryMs`, doubling to `maxRetryMs`), each failure
 *   reported with the URL, its cause and the age of the keys; keys older than `maxStaleMs` without a successful
 *   fetch are dropped (fail closed);
 * - the body is read with a hard byte cap as it arrives; keys that cannot be used are ignored and reported
 *   (RFC 7517 §5);
 * - subscribers hear which kids left the set, so tokens verified with them are forgotten.
 *
 * The URL comes from the server's configuration only: header members such as `jku` and `x5u` are never
 * followed (RFC 8725 §3.10).
 *
 * @example
 * const jwks = new RemoteJwks('https://portal.example.org/.well-known/jwks.json', { onEvent: (e) => log.info(e.type, e) });
 * await jwks.refresh();
 * const { key, alg } = await jwks.resolve(header.kid);
 */
export class RemoteJwks {
  readonly #url: URL;
  readonly #maxAgeMs: number;
  readonly #minAgeMs: number;
  readonly #cooldownMs: number;
  readonly #perMinute: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #maxStaleMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #background: boolean;
  readonly #onEvent: (event: JwksEvent) => void;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #keys: readonly ResolvedKey[] = [];
  #fingerprints = new Map<string, string>();
  #body: string | undefined;
  #fetchedAt: number | undefined;
  #nextRefreshAt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #lastError: string | undefined;
  /** When fetches caused by unknown kids happened, within the last minute. */
  #unknownKidFetches: number[] = [];
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #removedListeners: ((kids: readonly string[]) => void)[] = [];

  constructor(url: string | URL, options: RemoteJwksOptions = {}) {
    this.#url = keyServerUrl(url, 'jwks URL');
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.#minAgeMs = Math.min(options.minAgeMs ?? 30_000, this.#maxAgeMs);
    this.#cooldownMs = options.cooldownMs ?? 5_000;
    this.#perMinute = options.unknownKidFetchesPerMinute ?? 12;
    this.#retryMs = options.retryMs ?? 1_000;
    this.#maxRetryMs = Math.max(options.maxRetryMs ?? 30_000, this.#retryMs);
    this.#maxStaleMs = options.maxStaleMs ?? 60 * 60_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxBytes = options.maxBytes ?? MAX_JWKS_BYTES;
    this.#background = options.background ?? true;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#now = options.now ?? Date.now;
  }

  /** The URL as it may be shown: scheme, host and path, without the query. */
  get url(): string {
    return `${this.#url.origin}${this.#url.pathname}`;
  }

  /**
   * Fetches the key set now (e.g. at server start), and starts the background refresh. Rejects when the fetch
   * fails; the keys in use, if any, are kept.
   *
   * @example
   * await jwks.refresh().catch((error) => log.warn('jwks_unavailable', { message: error.message }));
   */
  async refresh(): Promise<void> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /**
   * The key for a token header, fetching under the rules above.
   *
   * @example
   * const { key, alg } = await jwks.resolve('2024-05'); // or rejects with a TokenError 'token_invalid'
   */
  async resolve(kid: string | undefined): Promise<ResolvedKey> {
    const now = this.#now();
    this.#dropStale(now);
    // Whether this request already waited for a fetch: then an unknown kid is simply unknown.
    let fetched = false;
    if (this.#inFlight !== undefined && this.#keys.length === 0) {
      await this.#settled();
      fetched = true;
    } else if (now >= this.#nextRefreshAt && this.#inFlight === undefined) {
      // Stale (or the timer is off): refresh without holding this request, unless there are no keys at all.
      const refreshing = this.refresh().catch(() => undefined);
      if (this.#keys.length === 0) {
        await refreshing;
        fetched = true;
      }
    }
    let found = selectKey(this.#keys, kid);
    if (found === undefined && !fetched) {
      if (this.#inFlight !== undefined) await this.#settled();
      else if (this.#mayFetchForUnknownKid(this.#now())) await this.refresh().catch(() => undefined);
      found = selectKey(this.#keys, kid);
    }
    if (found === undefined) {
      throw new TokenError(
        'token_invalid',
        this.#keys.length === 0
          ? 'no key set could be loaded to check the token'
          : 'no key matches the token kid',
        { claim: 'kid' },
      );
    }
    return found;
  }

  /**
   * Calls `listener` with the kids (`""` for a key without one) that a fetch found gone or changed.
   *
   * @example
   * jwks.onKeysRemoved((kids) => cache.deleteWhere((entry) => kids.includes(entry.kid ?? '')));
   */
  onKeysRemoved(listener: (kids: readonly string[]) => void): void {
    this.#removedListeners.push(listener);
  }

  /**
   * The state of the key set, for a health check.
   *
   * @example
   * const { status, ageSeconds } = jwks.health(); // 'ok', 42
   */
  health(): KeySetHealth {
    const now = this.#now();
    this.#dropStale(now);
    const ageSeconds =
      this.#fetchedAt === undefined ? null : Math.max(0, Math.round((now - this.#fetchedAt) / 1000));
    const status = this.#keys.length === 0 ? 'unavailable' : this.#lastError === undefined ? 'ok' : 'stale';
    return { url: this.url, status, keys: this.#keys.length, ageSeconds, problem: this.#lastError ?? null };
  }

  /** Stops the background refresh. @example jwks.close(); */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #settled(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
  }

  #mayFetchForUnknownKid(now: number): boolean {
    this.#unknownKidFetches = this.#unknownKidFetches.filter((t) => now - t < 60_000);
    const last = this.#unknownKidFetches.at(-1);
    if (last !== undefined && now - last < this.#cooldownMs) return false;
    if (this.#unknownKidFetches.length >= this.#perMinute) return false;
    this.#unknownKidFetches.push(now);
    return true;
  }

  /** RFC 8725 §3.1 spirit: keys nobody could confirm for `maxStaleMs` are not trusted any more. */
  #dropStale(now: number): void {
    if (
      this.#lastError !== undefined &&
      this.#fetchedAt !== undefined &&
      this.#keys.length > 0 &&
      now - this.#fetchedAt > this.#maxStaleMs
    ) {
      this.#setKeys([]);
    }
  }

  #setKeys(keys: readonly ResolvedKey[]): { added: string[]; removed: string[] } {
    const next = fingerprints(keys);
    const removed = [...this.#fingerprints].filter(([kid, print]) => next.get(kid) !== print).map(([k]) => k);
    const added = [...next].filter(([kid, print]) => this.#fingerprints.get(kid) !== print).map(([k]) => k);
    this.#keys = keys;
    this.#fingerprints = next;
    if (removed.length > 0) for (const listener of this.#removedListeners) listener(removed);
    return { added, removed };
  }

  async #load(): Promise<void> {
    const started = this.#now();
    try {
      const { json, text, headers } = await fetchJson(this.#fetch, this.#url, {
        timeoutMs: this.#timeoutMs,
        maxBytes: this.#maxBytes,
        accept: 'application/jwk-set+json, application/json',
        what: 'JWKS',
      });
      const { keys, ignored } = readJwks(json);
      const now = this.#now();
      const changed = text !== this.#body;
      this.#body = text;
      const { added, removed } = this.#setKeys(keys);
      this.#fetchedAt = now;
      this.#failures = 0;
      this.#lastError = undefined;
      const ttl = Math.min(this.#maxAgeMs, Math.max(this.#minAgeMs, freshFor(headers) ?? this.#maxAgeMs));
      this.#nextRefreshAt = now + ttl;
      if (changed) {
        for (const key of ignored) {
          this.#onEvent({
            type: 'key_ignored',
            url: this.url,
            index: key.index,
            kid: key.kid ?? null,
            reason: key.reason,
          });
        }
      }
      if (added.length > 0 || removed.length > 0) {
        this.#onEvent({
          type: 'fetched',
          url: this.url,
          keys: keys.length,
          added,
          removed,
          refreshInSeconds: Math.round(ttl / 1000),
        });
      }
    } catch (error) {
      const now = this.#now();
      this.#failures++;
      const retry = Math.min(this.#maxRetryMs, this.#retryMs * 2 ** (this.#failures - 1));
      this.#nextRefreshAt = now + retry;
      this.#lastError = describeFailure(error);
      this.#dropStale(now);
      this.#onEvent({
        type: 'fetch_failed',
        url: this.url,
        cause: this.#lastError,
        keys: this.#keys.length,
        keysAgeSeconds: this.#fetchedAt === undefined ? null : Math.round((now - this.#fetchedAt) / 1000),
        retryInSeconds: Math.round(retry / 1000),
      });
      throw error instanceof TokenSetupError
        ? error
        : new TokenSetupError('key_unavailable', `JWKS request failed: ${this.#lastError}`, { cause: error });
    } finally {
      this.#schedule(Math.max(0, this.#nextRefreshAt - started));
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#background) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.refresh().catch(() => undefined);
      },
      Math.max(delayMs, 100),
    ).unref();
  }
}

/**
 * A fetch failure in a few words: the answer's status, a timeout, a refused connection.
 *
 * @example
 * describeFailure(new DOMException('x', 'TimeoutError')); // 'the request timed out'
 */
export function describeFailure(error: unknown): string {
  if (error instanceof TokenSetupError) return error.message;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'the request timed out';
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
