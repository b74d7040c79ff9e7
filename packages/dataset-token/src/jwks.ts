import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Algorithm, defaultAlgorithm, isAlgorithm, pinAlgorithms } from './algorithms.js';
import { TokenError, TokenSetupError } from './errors.js';
import { type JsonWebKey, publicKeyFrom } from './keys.js';

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
 * Turns a JWKS into verification keys. Secret (`oct`) keys, encryption keys and keys of unsupported types are
 * refused: a published key set must only ever hold public signature keys.
 */
export function parseJwks(jwks: unknown): ResolvedKey[] {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JsonWebKeySet).keys)) {
    throw new TokenSetupError('key_invalid', 'a JWKS must be an object with a "keys" array');
  }
  const seen = new Set<string>();
  const keys = (jwks as JsonWebKeySet).keys.map((jwk, i): ResolvedKey => {
    const where = `keys[${i}]`;
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
    else
      throw new TokenSetupError('algorithm_not_allowed', `${where}.alg ${String(jwk.alg)} is not supported`);
    if (jwk.kid !== undefined) {
      if (seen.has(jwk.kid))
        throw new TokenSetupError('key_invalid', `${where}.kid "${jwk.kid}" is used twice`);
      seen.add(jwk.kid);
    }
    return { kid: jwk.kid, alg, key };
  });
  return keys;
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

export interface RemoteJwksOptions {
  /** How long a fetched key set is used before it is fetched again. Default 10 minutes. */
  maxAgeMs?: number;
  /** The shortest time between two fetches caused by unknown `kid`s. Default 60 s. */
  cooldownMs?: number;
  /** Fetch timeout. Default 5 s. */
  timeoutMs?: number;
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
 * A key set fetched from a URL, cached, refreshed when stale, and fetched again on an unknown `kid` at most once
 * per cooldown (so a flood of tokens with made-up `kid`s costs one request a minute). The URL comes from the
 * server's configuration only: header members such as `jku` and `x5u` are never followed (RFC 8725 §3.10).
 */
export class RemoteJwks {
  readonly #url: URL;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #keys: readonly ResolvedKey[] = [];
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;

  constructor(url: string | URL, options: RemoteJwksOptions = {}) {
    const parsed = keyServerUrl(url, 'jwks URL');
    this.#url = parsed;
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.#cooldownMs = options.cooldownMs ?? 60_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#now = options.now ?? Date.now;
  }

  /** Fetches the key set now (e.g. at server start); failures are reported, previous keys are kept. */
  async refresh(): Promise<void> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** The key for a token header, fetching or refetching under the rules above. */
  async resolve(kid: string | undefined): Promise<ResolvedKey> {
    const now = this.#now();
    if (now - this.#fetchedAt > this.#maxAgeMs && now - this.#lastAttempt >= this.#cooldownMs) {
      await this.refresh().catch(() => undefined);
    }
    let found = selectKey(this.#keys, kid);
    if (found === undefined && this.#now() - this.#lastAttempt >= this.#cooldownMs) {
      await this.refresh().catch(() => undefined);
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

  async #load(): Promise<void> {
    this.#lastAttempt = this.#now();
    const response = await this.#fetch(this.#url, {
      signal: AbortSignal.timeout(this.#timeoutMs),
      redirect: 'error',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (!response.ok)
      throw new TokenSetupError('key_unavailable', `JWKS request answered ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_JWKS_BYTES) throw new TokenSetupError('key_invalid', 'JWKS response is too large');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new TokenSetupError('key_invalid', 'JWKS response is not JSON', { cause });
    }
    this.#keys = parseJwks(json);
    this.#fetchedAt = this.#now();
  }
}
