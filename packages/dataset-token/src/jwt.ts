/**
 * Verification of JWTs that other parties sign: access tokens of an OpenID Provider, GA4GH passports and visas.
 * The rules are the dataset token's (one algorithm family per key and the algorithm pinned by the configuration,
 * no `none`, canonical signatures, no duplicate members, no `crit`, `exp` required) plus what a token from
 * outside needs: an exact `iss`, the audience when one is configured, the expected `typ`.
 */
import jwt from 'jsonwebtoken';
import { type Algorithm, isAlgorithm } from './algorithms.js';
import { TokenError } from './errors.js';
import { decodeJsonSegment, hasDuplicateMember } from './json.js';
import type { ResolvedKey } from './jwks.js';
import { translate } from './verify.js';

/** The checked JOSE header of a JWT from another party. */
export interface JwtHeader {
  readonly alg: Algorithm;
  readonly kid: string | undefined;
  /** RFC 7515 §4.1.2: where the signer's key set is. Only ever fetched when the configuration lists it. */
  readonly jku: string | undefined;
  readonly typ: string | undefined;
}

/** A verified JWT: its header, its whole payload, and the registered claims every such token has. */
export interface VerifiedJwt {
  readonly header: JwtHeader;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly iss: string;
  readonly sub: string | undefined;
  readonly exp: number;
  readonly iat: number | undefined;
}

/**
 * What a JWT from another party must satisfy.
 *
 * @example
 * const rules: JwtRules = { issuer: 'https://login.example.edu', audience: ['https://viz.example.org'], algorithms: ['RS256'], maxLifetimeSeconds: 3600 };
 */
export interface JwtRules {
  /** The exact `iss`. */
  readonly issuer: string;
  /** When set, `aud` must be or contain one of these (RFC 7519 §4.1.3). */
  readonly audience?: readonly string[] | undefined;
  /** The algorithms accepted; the key's own algorithm must be one of them (RFC 8725 §3.1). */
  readonly algorithms: readonly Algorithm[];
  /**
   * Accepted `typ` values, compared case-insensitively without an `application/` prefix (RFC 7515 §4.1.9);
   * a token without `typ` is accepted unless `requireType`. Undefined: any `typ`.
   */
  readonly types?: readonly string[] | undefined;
  readonly requireType?: boolean | undefined;
  /** The longest `exp - iat` (or `exp - now` without `iat`) accepted, in seconds. */
  readonly maxLifetimeSeconds: number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`. Default 5. */
  readonly leewaySeconds?: number | undefined;
  /** Refuse a token without `sub`. */
  readonly requireSubject?: boolean | undefined;
  /** The longest token accepted, in characters. Default 64 KiB. */
  readonly maxLength?: number | undefined;
}

/** Finds the key that checks a token with this header, or rejects with a {@link TokenError}. */
export type KeyResolver = (header: JwtHeader) => ResolvedKey | Promise<ResolvedKey>;

const DEFAULT_MAX_LENGTH = 64 * 1024;

/** RFC 7515 §4.1.9: `typ` is a media type; `application/` may be left out and case does not matter. */
function normalType(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

/**
 * The header and payload of a compact JWS, decoded but NOT verified: only to decide which verifier a token goes to
 * (by its `iss`) or which registered key set a visa names (by its `jku`). Undefined when it is not a JWS whose
 * parts are JSON objects.
 *
 * @example
 * const iss = peekJwt(token)?.payload.iss; // then hand the token to that issuer's verifier
 */
export function peekJwt(
  token: string,
  maxLength = DEFAULT_MAX_LENGTH,
): { header: Readonly<Record<string, unknown>>; payload: Readonly<Record<string, unknown>> } | undefined {
  if (typeof token !== 'string' || token.length > maxLength) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const header = decodeJsonSegment(parts[0] as string);
  const payload = decodeJsonSegment(parts[1] as string);
  if ('problem' in header || 'problem' in payload) return undefined;
  return { header: header.value, payload: payload.value };
}

function checkHeader(segment: string, rules: JwtRules): JwtHeader {
  const decoded = decodeJsonSegment(segment);
  if ('problem' in decoded) throw new TokenError('token_invalid', `token header ${decoded.problem}`);
  const { alg, kid, jku, typ, crit } = decoded.value;
  if (!isAlgorithm(alg) || !rules.algorithms.includes(alg)) {
    throw new TokenError('token_invalid', 'token algorithm is not accepted', { claim: 'alg' });
  }
  // RFC 7515 §4.1.11: extensions we do not understand make the token invalid.
  if (crit !== undefined)
    throw new TokenError('token_invalid', 'token header lists critical extensions', { claim: 'crit' });
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) {
    throw new TokenError('token_invalid', 'token kid is not a short string', { claim: 'kid' });
  }
  if (jku !== undefined && (typeof jku !== 'string' || jku.length > 2048)) {
    throw new TokenError('token_invalid', 'token jku is not a URL', { claim: 'jku' });
  }
  if (typ !== undefined && typeof typ !== 'string') {
    throw new TokenError('token_invalid', 'token typ is not a string', { claim: 'typ' });
  }
  // RFC 8725 §3.11: a token of one kind is never accepted as another.
  if (rules.types !== undefined) {
    const accepted = rules.types.map(normalType);
    if (typ === undefined ? rules.requireType === true : !accepted.includes(normalType(typ))) {
      throw new TokenError('token_invalid', `token typ is not ${rules.types.join(' or ')}`, { claim: 'typ' });
    }
  }
  return { alg, kid, jku, typ } as JwtHeader;
}

function numericDate(payload: Record<string, unknown>, claim: string): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  // RFC 7519 §2: a NumericDate is a finite JSON number.
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TokenError('token_invalid', `claim ${claim} must be a finite number of seconds`, { claim });
  }
  return value;
}

/**
 * Verifies a JWT another party signed: its header against the rules, its key from `resolveKey` (which must agree
 * with the header's algorithm), its signature, then `iss`, `aud`, `exp` (required), `nbf`, `iat` and the lifetime.
 * Rejects with a {@link TokenError} naming the claim that failed; never with anything else.
 *
 * @example
 * const verified = await verifyJwt(token, (header) => issuerKeys.resolve(header.kid), {
 *   issuer: 'https://login.example.edu', audience: ['https://viz.example.org'], algorithms: ['RS256'], maxLifetimeSeconds: 3600,
 * });
 * verified.payload.scope; // 'openid pp:dataset:TermdbTest'
 */
export async function verifyJwt(
  token: string,
  resolveKey: KeyResolver,
  rules: JwtRules,
  nowMs: number = Date.now(),
): Promise<VerifiedJwt> {
  try {
    return await verifyChecked(token, resolveKey, rules, nowMs / 1000);
  } catch (error) {
    throw error instanceof TokenError
      ? error
      : new TokenError('token_invalid', 'token could not be verified', { cause: error });
  }
}

async function verifyChecked(
  token: string,
  resolveKey: KeyResolver,
  rules: JwtRules,
  now: number,
): Promise<VerifiedJwt> {
  if (typeof token !== 'string' || token === '') throw new TokenError('token_missing', 'no token was sent');
  const maxLength = rules.maxLength ?? DEFAULT_MAX_LENGTH;
  if (token.length > maxLength) {
    throw new TokenError('token_invalid', `token is longer than ${maxLength} characters`);
  }
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => part === '')) {
    throw new TokenError('token_invalid', 'token is not three base64url parts separated by dots');
  }
  const header = checkHeader(parts[0] as string, rules);
  const found = resolveKey(header);
  const resolved = found instanceof Promise ? await found : found;
  // RFC 8725 §3.1: the key decides the algorithm; the header only has to agree with it.
  if (resolved.alg !== header.alg) {
    throw new TokenError('token_invalid', 'token algorithm is not accepted', { claim: 'alg' });
  }
  if (!header.alg.startsWith('HS')) {
    // One signature, one spelling: unused bits in the last base64url character are refused.
    const signature = parts[2] as string;
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
      throw new TokenError('token_invalid', 'token signature is not canonical base64url');
    }
  }
  const leeway = rules.leewaySeconds ?? 5;
  let payload: unknown;
  try {
    payload = jwt.verify(token, resolved.key, {
      algorithms: [header.alg],
      clockTimestamp: now,
      clockTolerance: leeway,
      issuer: rules.issuer,
      ...(rules.audience !== undefined && { audience: rules.audience as [string, ...string[]] }),
    });
  } catch (cause) {
    throw translate(cause);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new TokenError('token_invalid', 'token payload is not a JSON object');
  }
  const record = payload as Record<string, unknown>;
  if (hasDuplicateMember(Buffer.from(parts[1] as string, 'base64url').toString('utf8'), record)) {
    throw new TokenError('token_invalid', 'token payload has a member named twice');
  }
  const exp = numericDate(record, 'exp');
  // RFC 8725 §3.10 asks for an expiry on every token: one without could be replayed for ever.
  if (exp === undefined) throw new TokenError('token_invalid', 'claim exp is required', { claim: 'exp' });
  const iat = numericDate(record, 'iat');
  if (iat !== undefined && iat > now + leeway) {
    throw new TokenError('token_invalid', 'claim iat is in the future', { claim: 'iat' });
  }
  if (exp - (iat ?? now) > rules.maxLifetimeSeconds) {
    throw new TokenError(
      'token_invalid',
      `claim exp gives a lifetime over the allowed ${rules.maxLifetimeSeconds} seconds`,
      { claim: 'exp' },
    );
  }
  const { sub } = record;
  if (sub !== undefined && (typeof sub !== 'string' || sub === '' || sub.length > 255)) {
    throw new TokenError('token_invalid', 'claim sub must be a short string', { claim: 'sub' });
  }
  if (sub === undefined && rules.requireSubject === true) {
    throw new TokenError('token_invalid', 'claim sub is required', { claim: 'sub' });
  }
  return Object.freeze({
    header,
    payload: Object.freeze(record),
    iss: rules.issuer,
    sub,
    exp,
    iat,
  });
}
