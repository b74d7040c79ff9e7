import type { KeyObject } from 'node:crypto';
import { type KeySetHealth, LIMITS } from '@pp-embed/viz-api';
import jwt from 'jsonwebtoken';
import { type Algorithm, isAlgorithm, pinAlgorithms } from './algorithms.js';
import { VerifiedTokenCache } from './cache.js';
import { type DatasetTokenClaims, validateClaims } from './claims.js';
import { TokenError, TokenSetupError } from './errors.js';
import { decodeJsonSegment, hasDuplicateMember } from './json.js';
import {
  type JsonWebKeySet,
  parseJwks,
  readJwksFile,
  RemoteJwks,
  type RemoteJwksOptions,
  type ResolvedKey,
  selectKey,
} from './jwks.js';
import {
  type JsonWebKey,
  publicKeyFrom,
  readPemFile,
  readSecret,
  type SecretSource,
  secretKey,
} from './keys.js';

/**
 * One of several keys a credential holds, named by its `kid`: a shared secret or a public key. During a rotation
 * the old key has a `notAfter`, after which tokens naming it are refused.
 *
 * @example
 * const key: NamedKey = { kid: 'k2', secret: newSecret };
 * const old: NamedKey = { kid: 'k1', secret: oldSecret, notAfter: Date.parse('2026-06-01T12:00:00Z') };
 */
export type NamedKey = {
  readonly kid: string;
  /** Milliseconds since the epoch after which this key checks no token. */
  readonly notAfter?: number | undefined;
} & ({ readonly secret: SecretSource } | { readonly publicKey: string | KeyObject | JsonWebKey });

/** Where a verifier gets its key. Exactly one source. */
export type VerificationKey =
  | { secret: SecretSource }
  | { publicKey: string | KeyObject }
  | { publicKeyFile: string }
  | { jwks: JsonWebKeySet }
  | { jwksFile: string }
  | { jwksUrl: string | URL; options?: RemoteJwksOptions }
  | { keys: readonly NamedKey[] };

export interface VerifierOptions {
  key: VerificationKey;
  /** Algorithms to accept; each must fit the key. Default: the key's one default algorithm. */
  algorithms?: readonly string[];
  /** Accepted `iss` values. When set, the claim is required. */
  issuer?: string | readonly string[];
  /** Accepted `aud` values. When set, the claim is required. */
  audience?: string | readonly string[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 5, at most 60. */
  leewaySeconds?: number;
  /** Longest lifetime (`exp - iat`) accepted, in seconds. Default 86400. */
  maxTokenAgeSeconds?: number;
  /** Verified tokens kept to skip repeated signature checks. Default 5000; 0 turns the cache off. */
  cacheSize?: number;
  /** Clock in milliseconds since the epoch. */
  now?: () => number;
  /** Environment for `{ secret: { env } }`. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A token longer than this is refused before any decoding (the wire contract's limit). */
export const MAX_TOKEN_LENGTH = LIMITS.maxTokenLength;

export const MAX_LEEWAY_SECONDS = 60;

/** Verifies dataset tokens with keys and rules fixed at construction. */
export interface Verifier {
  /**
   * Resolves to the token's claims, or rejects with a {@link TokenError}. Never rejects with anything else.
   * `undefined`, `null` and `''` are `token_missing`. `at` (milliseconds) replaces the verifier's clock for this
   * one check.
   */
  verify(token: string | null | undefined, at?: number): Promise<DatasetTokenClaims>;
  /**
   * As {@link verify}, and which key checked the token: its `kid`, or undefined for a key without one. A server
   * records it to tell when a rotated-out key is no longer used.
   */
  verifyKey(token: string | null | undefined, at?: number): Promise<VerifiedToken>;
  /** The algorithms this verifier accepts. */
  readonly algorithms: readonly Algorithm[];
  /** Loads remote keys ahead of the first request; a no-op for local keys. */
  ready(): Promise<void>;
  /** The state of a key set fetched from a JWKS URL, for a health check; undefined for local keys. */
  keySetHealth(): KeySetHealth | undefined;
}

/**
 * A verified token's claims and the key that checked it.
 *
 * @example
 * const { claims, kid } = await verifier.verifyKey(token);
 */
export interface VerifiedToken {
  readonly claims: DatasetTokenClaims;
  readonly kid: string | undefined;
}

/** A resolved key that stops checking tokens after `notAfter` (milliseconds), when it has one. */
type TimedKey = ResolvedKey & { readonly notAfter?: number | undefined };

interface KeySet {
  /** The key that checks a token with this header at `nowMs`, or a TokenError when none may. */
  resolve(kid: string | undefined, alg: Algorithm, nowMs: number): TimedKey | Promise<TimedKey>;
  algorithms: readonly Algorithm[];
  ready(): Promise<void>;
  /** The remote key set, when the keys come from a URL. */
  remote?: RemoteJwks;
}

const ALG_REFUSED = 'token algorithm is not accepted';

// RFC 8725 §3.1: the key decides the algorithm; the token header only has to agree with it.
function agree(found: ResolvedKey, alg: Algorithm): ResolvedKey {
  if (found.alg !== alg) throw new TokenError('token_invalid', ALG_REFUSED, { claim: 'alg' });
  return found;
}

function localKeys(keys: readonly ResolvedKey[]): KeySet {
  return {
    algorithms: [...new Set(keys.map((k) => k.alg))],
    resolve(kid, alg) {
      const found = selectKey(keys, kid);
      if (found === undefined)
        throw new TokenError('token_invalid', 'no key matches the token kid', { claim: 'kid' });
      return agree(found, alg);
    },
    ready: () => Promise.resolve(),
  };
}

function singleKey(key: KeyObject, algorithms: readonly Algorithm[]): KeySet {
  const byAlg = new Map(algorithms.map((alg) => [alg, { kid: undefined, alg, key }]));
  return {
    algorithms,
    // One key: a kid in the token is irrelevant and must not change which key checks it.
    resolve(_kid, alg) {
      const found = byAlg.get(alg);
      if (found === undefined) throw new TokenError('token_invalid', ALG_REFUSED, { claim: 'alg' });
      return found;
    },
    ready: () => Promise.resolve(),
  };
}

const MAX_KID_LENGTH = 256;

/**
 * Several kid-named keys, each pinned to its algorithms (RFC 8725 §3.1). A token names its key by `kid`; without
 * one it is checked only when the set holds a single key. A key past its `notAfter` checks nothing.
 */
function namedKeys(items: readonly NamedKey[], options: VerifierOptions): KeySet {
  if (items.length === 0) throw new TokenSetupError('key_invalid', 'the credential holds no keys');
  const resolved: TimedKey[] = [];
  const kids = new Set<string>();
  for (const item of items) {
    if (typeof item.kid !== 'string' || item.kid === '' || item.kid.length > MAX_KID_LENGTH) {
      throw new TokenSetupError(
        'key_invalid',
        `a key's kid must be a string of 1 to ${MAX_KID_LENGTH} characters`,
      );
    }
    if (kids.has(item.kid)) throw new TokenSetupError('key_invalid', `kid ${item.kid} is named twice`);
    kids.add(item.kid);
    let key: KeyObject;
    let algorithms: readonly Algorithm[];
    if ('secret' in item) {
      algorithms = hmacAlgorithms(options.algorithms);
      key = secretKey(readSecret(item.secret, options.env), algorithms);
    } else {
      key = publicKeyFrom(item.publicKey);
      algorithms = pinAlgorithms(key, options.algorithms);
    }
    for (const alg of algorithms) resolved.push({ kid: item.kid, alg, key, notAfter: item.notAfter });
  }
  return {
    algorithms: [...new Set(resolved.map((k) => k.alg))],
    resolve(kid, alg, nowMs) {
      const named =
        kid === undefined ? (kids.size === 1 ? resolved : []) : resolved.filter((k) => k.kid === kid);
      if (named.length === 0) {
        throw new TokenError(
          'token_invalid',
          kid === undefined
            ? 'token has no kid, and the credential holds several keys'
            : 'no key matches the token kid',
          { claim: 'kid' },
        );
      }
      const found = named.find((k) => k.alg === alg);
      if (found === undefined) throw new TokenError('token_invalid', ALG_REFUSED, { claim: 'alg' });
      if (found.notAfter !== undefined && nowMs > found.notAfter) {
        throw new TokenError('token_invalid', 'the key the token names was rotated out', { claim: 'kid' });
      }
      return found;
    },
    ready: () => Promise.resolve(),
  };
}

/** The algorithms a shared secret is used with: HS256 unless told, and only HS algorithms. */
function hmacAlgorithms(requested: readonly string[] | undefined): Algorithm[] {
  const algorithms = requested ?? ['HS256'];
  for (const alg of algorithms) {
    if (!isAlgorithm(alg) || !alg.startsWith('HS')) {
      throw new TokenSetupError('algorithm_not_allowed', `algorithm ${alg} does not fit a shared secret`);
    }
  }
  return [...new Set(algorithms)] as Algorithm[];
}

function buildKeySet(options: VerifierOptions): KeySet {
  const source = options.key as Partial<Record<string, unknown>>;
  const given = ['secret', 'publicKey', 'publicKeyFile', 'jwks', 'jwksFile', 'jwksUrl', 'keys'].filter(
    (k) => source[k] !== undefined,
  );
  if (given.length !== 1) {
    throw new TokenSetupError(
      'option_invalid',
      'give exactly one key source: secret, publicKey, publicKeyFile, jwks, jwksFile, jwksUrl or keys',
      { option: 'key' },
    );
  }
  const key = options.key;
  if ('keys' in key) return namedKeys(key.keys, options);
  if ('secret' in key) {
    const pinned = hmacAlgorithms(options.algorithms);
    return singleKey(secretKey(readSecret(key.secret, options.env), pinned), pinned);
  }
  if ('publicKey' in key || 'publicKeyFile' in key) {
    const publicKey = publicKeyFrom('publicKey' in key ? key.publicKey : readPemFile(key.publicKeyFile));
    return singleKey(publicKey, pinAlgorithms(publicKey, options.algorithms));
  }
  if ('jwksUrl' in key) {
    const remote = new RemoteJwks(key.jwksUrl, { now: options.now, ...key.options });
    const allowed = options.algorithms?.filter(isAlgorithm);
    return {
      algorithms: allowed ?? [],
      async resolve(kid, alg) {
        if (allowed !== undefined && !allowed.includes(alg)) {
          throw new TokenError('token_invalid', ALG_REFUSED, { claim: 'alg' });
        }
        return agree(await remote.resolve(kid), alg);
      },
      ready: () => remote.refresh(),
      remote,
    };
  }
  const keys = 'jwks' in key ? parseJwks(key.jwks) : readJwksFile(key.jwksFile);
  if (keys.length === 0) throw new TokenSetupError('key_invalid', 'the JWKS holds no keys');
  if (options.algorithms !== undefined) {
    for (const k of keys) {
      if (!options.algorithms.includes(k.alg)) {
        throw new TokenSetupError(
          'algorithm_not_allowed',
          `JWKS key ${k.kid ?? '(no kid)'} uses ${k.alg}, which is not in algorithms`,
        );
      }
    }
  }
  return localKeys(keys);
}

function checkNumber(
  name: 'leewaySeconds' | 'maxTokenAgeSeconds' | 'cacheSize',
  value: number,
  min: number,
  max: number,
): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new TokenSetupError('option_invalid', `${name} must be a number from ${min} to ${max}`, {
      option: name,
    });
  }
  return value;
}

/**
 * The signed-document type a dataset token must never be mistaken for (RFC 8725 §3.11: explicit typing). A portal
 * signs its revocation feed with the key it signs tokens with; the feed carries this `typ`, and a token verifier
 * refuses it, so a feed can never be replayed as a token, nor a token as a feed.
 */
export const REVOCATION_FEED_TYP = 'pp-revocations+jwt';

interface JwsCore {
  /** The key for a compact JWS after the checks that need no key; a Promise only when keys must be fetched. */
  keyFor(token: string, typ: string | undefined, nowMs: number): TimedKey | Promise<TimedKey>;
  /** The signature-checked payload, with jsonwebtoken's time rules at `nowSeconds`; refuses duplicate members. */
  payload(token: string, resolved: ResolvedKey, nowSeconds: number): Record<string, unknown>;
  keySet: KeySet;
  leeway: number;
  now: () => number;
}

/** What token and document verification share: the key set, the header checks and the signature check. */
function jwsCore(options: VerifierOptions): JwsCore {
  const leeway = checkNumber('leewaySeconds', options.leewaySeconds ?? 5, 0, MAX_LEEWAY_SECONDS);
  const now = options.now ?? Date.now;
  const keySet = buildKeySet(options);
  const issuer = options.issuer === undefined ? undefined : ([] as string[]).concat(options.issuer);
  const audience = options.audience === undefined ? undefined : ([] as string[]).concat(options.audience);

  // Every token from one portal carries the same header segment, so its checked decoding is kept (bounded).
  const headers = new Map<string, { alg: Algorithm; kid: string | undefined; typ: unknown }>();

  function checkedHeader(segment: string): { alg: Algorithm; kid: string | undefined; typ: unknown } {
    const known = headers.get(segment);
    if (known !== undefined) return known;
    const header = decodeJsonSegment(segment);
    if ('problem' in header) throw new TokenError('token_invalid', `token header ${header.problem}`);
    const { alg, kid, crit, typ } = header.value;
    if (!isAlgorithm(alg)) throw new TokenError('token_invalid', ALG_REFUSED, { claim: 'alg' });
    // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
    if (crit !== undefined)
      throw new TokenError('token_invalid', 'token header lists critical extensions', { claim: 'crit' });
    if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) {
      throw new TokenError('token_invalid', 'token kid is not a short string', { claim: 'kid' });
    }
    const checked = { alg, kid: kid as string | undefined, typ };
    if (headers.size < 64) headers.set(segment, checked);
    return checked;
  }

  return {
    keySet,
    leeway,
    now,
    keyFor(token, typ, nowMs) {
      if (token.length > MAX_TOKEN_LENGTH && typ === undefined) {
        throw new TokenError('token_invalid', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
      }
      // Three non-empty parts. The header's alphabet is checked as it is decoded, the others' by jsonwebtoken.
      const first = token.indexOf('.');
      const last = token.lastIndexOf('.');
      if (
        first < 1 ||
        last <= first + 1 ||
        last === token.length - 1 ||
        token.indexOf('.', first + 1) !== last
      ) {
        throw new TokenError('token_invalid', 'token is not three base64url parts separated by dots');
      }
      const header = checkedHeader(token.slice(0, first));
      // RFC 8725 §3.11: a document of one type is never accepted as another.
      if (typ === undefined ? header.typ === REVOCATION_FEED_TYP : header.typ !== typ) {
        throw new TokenError('token_invalid', `token typ is not ${typ ?? 'a dataset token'}`, {
          claim: 'typ',
        });
      }
      return keySet.resolve(header.kid, header.alg, nowMs);
    },
    payload(token, resolved, nowSeconds) {
      const alg = resolved.alg;
      const dot = token.indexOf('.');
      if (!alg.startsWith('HS')) {
        // The last base64url character may carry unused bits; RSA and ECDSA checks ignore them, so one token
        // could be spelled several ways. Only the canonical spelling is accepted (an HMAC is compared as text).
        const signature = token.slice(token.lastIndexOf('.') + 1);
        if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
          throw new TokenError('token_invalid', 'token signature is not canonical base64url', {
            reason: 'signature',
          });
        }
      }
      let payload: unknown;
      try {
        payload = (
          jwt.verify(token, resolved.key, {
            algorithms: [alg],
            complete: true,
            clockTimestamp: nowSeconds,
            clockTolerance: leeway,
            ...(issuer !== undefined && { issuer: issuer as [string, ...string[]] }),
            ...(audience !== undefined && { audience: audience as [string, ...string[]] }),
          }) as { payload: unknown }
        ).payload;
      } catch (cause) {
        throw translate(cause);
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw new TokenError('token_invalid', 'token payload is not a JSON object');
      }
      const text = Buffer.from(token.slice(dot + 1, token.lastIndexOf('.')), 'base64url').toString('utf8');
      if (hasDuplicateMember(text, payload))
        throw new TokenError('token_invalid', 'token payload has a member named twice');
      return payload as Record<string, unknown>;
    },
  };
}

/**
 * Builds a verifier. Keys are read and turned into KeyObjects here, once; a weak secret, a key that does not fit
 * the algorithms, or an option out of range throws a {@link TokenSetupError} now rather than on a request.
 *
 * @example
 * const verifier = createVerifier({ key: { secret: { env: 'PP_DS_SECRET' } }, leewaySeconds: 5 });
 * const claims = await verifier.verify(request.headers.get('x-ds-access-token'));
 * claims.datasets; // ['TermdbTest']
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const maxAge = checkNumber('maxTokenAgeSeconds', options.maxTokenAgeSeconds ?? 86_400, 1, 366 * 86_400);
  const cacheSize = checkNumber('cacheSize', options.cacheSize ?? 5000, 0, 1_000_000);
  const core = jwsCore(options);
  const { keySet, leeway, now } = core;
  const cache = new VerifiedTokenCache<{ verified: VerifiedToken; notAfter: number | undefined }>(cacheSize);
  // A token verified with a key that has left the JWKS is not served from the cache any more: removing a key
  // is how a portal revokes it.
  keySet.remote?.onKeysRemoved((kids) => {
    const gone = new Set(kids);
    cache.deleteWhere((entry) => gone.has(entry.verified.kid ?? ''));
  });

  async function verifyKey(token: string | null | undefined, at?: number): Promise<VerifiedToken> {
    if (token === undefined || token === null || token === '') {
      throw new TokenError('token_missing', 'no token was sent');
    }
    if (typeof token !== 'string') throw new TokenError('token_invalid', 'token is not a string');
    const nowMs = at ?? now();
    const nowSeconds = nowMs / 1000;
    const cached = cache.get(token, nowSeconds - leeway);
    // A key rotated out since the token was cached checks it again, and refuses it.
    if (cached !== undefined && (cached.notAfter === undefined || nowMs <= cached.notAfter)) {
      return cached.verified;
    }
    try {
      const found = core.keyFor(token, undefined, nowMs);
      // Local keys resolve synchronously; only a remote key set costs an extra turn of the event loop.
      const key = found instanceof Promise ? await found : found;
      const claims = validateClaims(core.payload(token, key, nowSeconds), {
        now: nowSeconds,
        leewaySeconds: leeway,
        maxTokenAgeSeconds: maxAge,
      });
      const verified: VerifiedToken = Object.freeze({ claims, kid: key.kid });
      cache.set(token, { verified, notAfter: key.notAfter }, claims.exp);
      return verified;
    } catch (error) {
      throw error instanceof TokenError
        ? error
        : new TokenError('token_invalid', 'token could not be verified', { cause: error });
    }
  }

  return {
    algorithms: keySet.algorithms,
    ready: () => keySet.ready(),
    keySetHealth: () => keySet.remote?.health(),
    verifyKey,
    async verify(token, at) {
      return (await verifyKey(token, at)).claims;
    },
  };
}

/**
 * A signed document other than a dataset token (a portal's revocation feed), once verified: its payload, and the
 * times every such document must carry.
 *
 * @example
 * const doc: SignedDocument = { payload: { seq: 7 }, iat: 1763899200, exp: 1763899500 };
 */
export interface SignedDocument {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly iat: number;
  readonly exp: number;
}

/** Options of {@link createDocumentVerifier}: a key as for tokens, and the one `typ` accepted. */
export interface DocumentVerifierOptions extends Omit<VerifierOptions, 'maxTokenAgeSeconds' | 'cacheSize'> {
  /** The `typ` header the document must carry, e.g. {@link REVOCATION_FEED_TYP}. */
  typ: string;
  /** The longest document accepted, in bytes. Default 8 MiB. */
  maxBytes?: number;
}

/** Verifies signed documents of one `typ`. */
export interface DocumentVerifier {
  /** Resolves to the document, or rejects with a {@link TokenError} whose message says which rule failed. */
  verify(jws: string, at?: number): Promise<SignedDocument>;
  ready(): Promise<void>;
}

/**
 * Builds a verifier for signed documents of one type, with the key rules of {@link createVerifier} (one
 * algorithm family per key, no `none`, canonical signatures, no duplicate members) and RFC 8725's rules for a
 * JWT that is not an access token: its `typ` must be the one expected (§3.11), and `iat` and `exp` are required.
 *
 * @example
 * const feeds = createDocumentVerifier({ key: { jwksUrl: 'https://portal.example.org/.well-known/jwks.json' },
 *   typ: REVOCATION_FEED_TYP });
 * const { payload } = await feeds.verify(await (await fetch(feedUrl)).text());
 */
export function createDocumentVerifier(options: DocumentVerifierOptions): DocumentVerifier {
  const core = jwsCore(options);
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  return {
    ready: () => core.keySet.ready(),
    async verify(jws, at) {
      if (typeof jws !== 'string' || jws === '') throw new TokenError('token_invalid', 'no document');
      if (jws.length > maxBytes) throw new TokenError('token_invalid', `document is over ${maxBytes} bytes`);
      const nowSeconds = (at ?? core.now()) / 1000;
      try {
        const found = core.keyFor(jws.trim(), options.typ, nowSeconds * 1000);
        const key = found instanceof Promise ? await found : found;
        const payload = core.payload(jws.trim(), key, nowSeconds);
        const { iat, exp } = payload;
        if (typeof iat !== 'number' || !Number.isFinite(iat))
          throw new TokenError('token_invalid', 'claim iat is required', { claim: 'iat' });
        // RFC 8725 §3.10 asks for an expiry on every JWT: an old copy must stop counting.
        if (typeof exp !== 'number' || !Number.isFinite(exp))
          throw new TokenError('token_invalid', 'claim exp is required', { claim: 'exp' });
        if (iat > nowSeconds + core.leeway)
          throw new TokenError('token_invalid', 'claim iat is in the future', { claim: 'iat' });
        return { payload: Object.freeze(payload), iat, exp };
      } catch (error) {
        throw error instanceof TokenError
          ? error
          : new TokenError('token_invalid', 'document could not be verified', { cause: error });
      }
    },
  };
}

/**
 * Maps jsonwebtoken's errors onto our codes; its own messages stay in `cause`, for logs only.
 *
 * @example
 * try { jwt.verify(token, key, options) } catch (error) { throw translate(error) }
 */
export function translate(error: unknown): TokenError {
  if (error instanceof jwt.TokenExpiredError)
    return new TokenError('token_expired', 'token has expired', { claim: 'exp', cause: error });
  if (error instanceof jwt.NotBeforeError) {
    return new TokenError('token_not_yet_valid', 'token is not valid yet', { claim: 'nbf', cause: error });
  }
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt issuer invalid'))
    return new TokenError('token_invalid', 'token issuer is not accepted', { claim: 'iss', cause: error });
  if (message.startsWith('jwt audience invalid')) {
    return new TokenError('token_invalid', 'token audience is not accepted', { claim: 'aud', cause: error });
  }
  if (message === 'invalid signature')
    return new TokenError('token_invalid', 'token signature does not match', {
      cause: error,
      reason: 'signature',
    });
  if (message === 'invalid exp value' || message === 'invalid nbf value') {
    const claim = message.slice(8, 11);
    return new TokenError('token_invalid', `claim ${claim} must be a finite number of seconds`, {
      claim,
      cause: error,
    });
  }
  return new TokenError('token_invalid', 'token could not be verified', { cause: error });
}
