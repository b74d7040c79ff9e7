import { type KeySetHealth, LIMITS } from '@pp-embed/viz-api';
import { type Algorithm, isAlgorithm } from './algorithms.js';
import { VerifiedTokenCache } from './cache.js';
import { IssuerKeys, type IssuerKeysOptions } from './discovery.js';
import { TokenSetupError } from './errors.js';
import { type JwtRules, type VerifiedJwt, verifyJwt } from './jwt.js';
import { MAX_LEEWAY_SECONDS } from './verify.js';

/**
 * A trusted OpenID Provider whose access tokens a server accepts.
 *
 * @example
 * const options: IssuerVerifierOptions = {
 *   issuer: 'https://login.example.edu', audience: 'https://viz.example.org', algorithms: ['RS256'],
 * };
 */
export interface IssuerVerifierOptions {
  /** The issuer URL, exactly as its tokens' `iss` and its discovery document's `issuer` read it. */
  issuer: string;
  /** The audience this server is known by at the issuer: a token's `aud` must be or contain one. Required. */
  audience: string | readonly string[];
  /** Accepted algorithms. Default RS256 (OpenID Connect Core 1.0 §15.1). Never `none`. */
  algorithms?: readonly string[];
  /**
   * Accepted `typ` headers. Default `at+jwt` (RFC 9068 §2.1) and `JWT`, or none; an ID token or any other kind of
   * JWT with a `typ` of its own is refused (RFC 8725 §3.11).
   */
  types?: readonly string[];
  /** The longest lifetime accepted, in seconds. Default 86400. */
  maxTokenAgeSeconds?: number;
  leewaySeconds?: number;
  /** Verified tokens kept to skip repeated signature checks. Default 5000. */
  cacheSize?: number;
  /** How the discovery document and the key set are fetched. */
  keys?: IssuerKeysOptions;
  now?: () => number;
}

/** Verifies the access tokens of one trusted issuer; keys from its discovery document. */
export interface IssuerVerifier {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly algorithms: readonly Algorithm[];
  /**
   * Resolves to the verified token, or rejects with a {@link TokenError}. `at` (milliseconds) replaces the
   * clock for this check.
   */
  verify(token: string, at?: number): Promise<VerifiedJwt>;
  /** Reads the discovery document and key set ahead of the first request. */
  ready(): Promise<void>;
  /** The state of the issuer's keys, for a health check. */
  keySetHealth(): KeySetHealth;
  /** Stops background refreshes. */
  close(): void;
}

const DEFAULT_TYPES = ['at+jwt', 'JWT'] as const;

/**
 * Builds a verifier for one trusted OpenID Provider's access tokens (RFC 9068 profile, or any JWT access token
 * with `iss`, `aud`, `exp` and `sub`). The options are checked now; the keys come from the issuer's discovery
 * document and JWKS, fetched by {@link IssuerKeys} with its bounds. A token is refused unless its `iss` is exactly
 * the issuer, its `aud` names this server, its algorithm is one configured and fits the key, and it has not
 * expired.
 *
 * @example
 * const university = createIssuerVerifier({ issuer: 'https://login.example.edu', audience: 'https://viz.example.org' });
 * await university.ready().catch(() => undefined);
 * const { payload } = await university.verify(bearerToken);
 * payload.scope; // 'openid pp:dataset:TermdbTest'
 */
export function createIssuerVerifier(options: IssuerVerifierOptions): IssuerVerifier {
  const audience = Object.freeze(([] as string[]).concat(options.audience));
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) {
    throw new TokenSetupError('option_invalid', 'an issuer needs the audience this server is known by', {
      option: 'key',
    });
  }
  const algorithms = Object.freeze([...new Set(options.algorithms ?? ['RS256'])]);
  for (const alg of algorithms) {
    // A shared secret cannot come from a JWKS a provider publishes: HS algorithms would accept tokens signed
    // with a public key used as an HMAC secret (RFC 8725 §2.1).
    if (!isAlgorithm(alg) || alg.startsWith('HS')) {
      throw new TokenSetupError(
        'algorithm_not_allowed',
        `algorithm ${alg} cannot be used with an issuer's keys`,
      );
    }
  }
  const leeway = options.leewaySeconds ?? 5;
  if (!Number.isFinite(leeway) || leeway < 0 || leeway > MAX_LEEWAY_SECONDS) {
    throw new TokenSetupError('option_invalid', `leewaySeconds must be from 0 to ${MAX_LEEWAY_SECONDS}`, {
      option: 'leewaySeconds',
    });
  }
  const now = options.now ?? Date.now;
  const keys = new IssuerKeys(options.issuer, { now, ...options.keys });
  const rules: JwtRules = {
    issuer: options.issuer,
    audience,
    algorithms: algorithms as readonly Algorithm[],
    types: options.types ?? DEFAULT_TYPES,
    maxLifetimeSeconds: options.maxTokenAgeSeconds ?? 86_400,
    leewaySeconds: leeway,
    requireSubject: true,
    // A passport carries its visas: longer than a portal's token, within what fits in a request header.
    maxLength: LIMITS.maxPassportLength,
  };
  const cache = new VerifiedTokenCache<VerifiedJwt>(options.cacheSize ?? 5000);
  keys.onKeysRemoved((kids) => {
    const gone = new Set(kids);
    cache.deleteWhere((entry) => gone.has(entry.header.kid ?? ''));
  });
  return {
    issuer: options.issuer,
    audience,
    algorithms: rules.algorithms,
    ready: () => keys.refresh(),
    keySetHealth: () => keys.health(),
    close: () => keys.close(),
    async verify(token, at) {
      const nowMs = at ?? now();
      const cached = cache.get(token, nowMs / 1000 - leeway);
      if (cached !== undefined) return cached;
      const verified = await verifyJwt(token, (header) => keys.resolve(header.kid), rules, nowMs);
      cache.set(token, verified, verified.exp);
      return verified;
    },
  };
}
