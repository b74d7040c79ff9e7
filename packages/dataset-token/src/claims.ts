import { isIP } from 'node:net';
import { GRANTED_ROUTE_CLASSES, type GrantedRouteClass } from '@pp-embed/viz-api';
import { TokenError } from './errors.js';

/**
 * What the portal vouches for about the user's access to the datasets a token lists (the `access` claim):
 * - `granted`: the user is granted the datasets (what a ProteinPaint token means, so a token without the claim is
 *   read as granted);
 * - `signedIn`: the user is signed in to the portal but holds no grant for them. The visualization server answers
 *   aggregated routes by its signed-in disclosure rule and refuses sample-level routes (`grant_required`).
 *
 * @example
 * const access: AccessClaim = 'signedIn';
 */
export type AccessClaim = 'signedIn' | 'granted';

/** Every value of the `access` claim. @example ACCESS_CLAIMS.includes('granted'); // true */
export const ACCESS_CLAIMS: readonly AccessClaim[] = ['signedIn', 'granted'];

/**
 * Who a token was minted for: a browser (a portal page, the widget; the default when the claim is absent) or a
 * script (a program that exchanged a personal API token at the portal). The visualization server accepts a
 * script's token only from a client that sends no `Origin`, and a browser's only from a page that does.
 *
 * @example
 * const kind: TokenClient = 'script';
 */
export type TokenClient = 'browser' | 'script';

/** Every {@link TokenClient}. @example TOKEN_CLIENTS.includes('script'); // true */
export const TOKEN_CLIENTS: readonly TokenClient[] = Object.freeze(['browser', 'script']);

/**
 * The claims of a dataset access token: the ProteinPaint contract (`datasets`, `email`, `ip`, `iat`, `exp`,
 * `clientAuthResult`), the `access` claim, and the registered claims of RFC 7519 §4.1 that we check when they are
 * present.
 */
export interface DatasetTokenClaims {
  /** Exact labels of the datasets the user may see. Never empty. */
  readonly datasets: readonly string[];
  /** The portal's identifier for the user (usually an email address). */
  readonly email: string;
  /** The client address the token was minted for, when the portal pins it. */
  readonly ip?: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. Always present: tokens without one are refused. */
  readonly exp: number;
  readonly nbf?: number;
  readonly iss?: string;
  readonly aud?: string | readonly string[];
  readonly jti?: string;
  /** Role data from the portal, e.g. `{ role: 'analyst', cohorts: ['ABC'] }`. */
  readonly clientAuthResult?: Readonly<Record<string, unknown>>;
  /** What the portal vouches for: a grant (absent or `granted`), or a signed-in user without one. */
  readonly access?: AccessClaim;
  /** `script` for a token minted for a program (a personal API token's exchange); absent for a browser's. */
  readonly client?: TokenClient;
  /** The public id of the personal API token a script token was exchanged for (never its secret), for audits. */
  readonly apiTokenId?: string;
  /** The route classes the token opens; absent: every class its datasets' credentials allow. */
  readonly routeClasses?: readonly GrantedRouteClass[];
}

/** What a portal supplies when it mints a token; times and `jti` are added by the signer. */
export interface TokenSubject {
  datasets: readonly string[];
  email: string;
  ip?: string | undefined;
  clientAuthResult?: Readonly<Record<string, unknown>> | undefined;
  access?: AccessClaim | undefined;
  client?: TokenClient | undefined;
  apiTokenId?: string | undefined;
  routeClasses?: readonly GrantedRouteClass[] | undefined;
}

export const LIMITS = {
  datasets: 1000,
  label: 200,
  email: 320,
  jti: 256,
  apiTokenId: 64,
} as const;

// C0 controls, DEL and the Unicode line separators: never part of a label or a user id, and the usual way to
// forge a line in a log.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

type Fail = (claim: string, problem: string) => never;

function fail(claim: string, problem: string): never {
  throw new TokenError('token_invalid', `claim ${claim} ${problem}`, { claim });
}

/** Checks the fields a portal supplies (shared by signing and verifying so that we never mint what we refuse). */
export function checkSubject(payload: Record<string, unknown>, onFail: Fail = fail): void {
  const { datasets, email, ip, clientAuthResult, access } = payload;
  if (!Array.isArray(datasets)) onFail('datasets', 'must be an array of dataset labels');
  if (datasets.length === 0) onFail('datasets', 'must name at least one dataset');
  if (datasets.length > LIMITS.datasets) onFail('datasets', `names more than ${LIMITS.datasets} datasets`);
  for (const label of datasets) {
    if (typeof label !== 'string' || label === '') onFail('datasets', 'must hold non-empty strings');
    if (label.length > LIMITS.label || CONTROL.test(label))
      onFail('datasets', 'holds a label that is not valid');
  }
  if (typeof email !== 'string' || email === '') onFail('email', 'must be a non-empty string');
  if (email.length > LIMITS.email || CONTROL.test(email)) onFail('email', 'is not a valid user identifier');
  if (ip !== undefined && (typeof ip !== 'string' || isIP(ip) === 0))
    onFail('ip', 'must be an IPv4 or IPv6 address');
  if (clientAuthResult !== undefined && !isPlainObject(clientAuthResult)) {
    onFail('clientAuthResult', 'must be a JSON object');
  }
  // An access level the server does not know is refused rather than read as either: it decides what is shown.
  if (access !== undefined && !(ACCESS_CLAIMS as readonly unknown[]).includes(access)) {
    onFail('access', `must be ${ACCESS_CLAIMS.map((a) => `"${a}"`).join(' or ')}`);
  }
  const { client, apiTokenId, routeClasses } = payload;
  if (client !== undefined && !(TOKEN_CLIENTS as readonly unknown[]).includes(client)) {
    onFail('client', `must be ${TOKEN_CLIENTS.map((c) => `"${c}"`).join(' or ')}`);
  }
  if (
    apiTokenId !== undefined &&
    (typeof apiTokenId !== 'string' ||
      apiTokenId === '' ||
      apiTokenId.length > LIMITS.apiTokenId ||
      CONTROL.test(apiTokenId))
  ) {
    onFail('apiTokenId', 'must be a short string');
  }
  if (routeClasses !== undefined) {
    // A malformed restriction must not read as no restriction: it is refused, never widened.
    if (
      !Array.isArray(routeClasses) ||
      routeClasses.length === 0 ||
      new Set(routeClasses).size !== routeClasses.length ||
      !routeClasses.every((c) => (GRANTED_ROUTE_CLASSES as readonly unknown[]).includes(c))
    ) {
      onFail(
        'routeClasses',
        `must list one or more of ${GRANTED_ROUTE_CLASSES.map((c) => `"${c}"`).join(', ')}, each once`,
      );
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function numericDate(payload: Record<string, unknown>, claim: string, required: boolean): number | undefined {
  const value = payload[claim];
  if (value === undefined) {
    if (required) fail(claim, 'is required');
    return undefined;
  }
  // RFC 7519 §2: NumericDate is a JSON number; 1e999 parses to Infinity, which is no date.
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(claim, 'must be a finite number of seconds');
  return value;
}

export interface ClaimRules {
  /** Current time in seconds. */
  now: number;
  leewaySeconds: number;
  maxTokenAgeSeconds: number;
}

/**
 * Validates a decoded, signature-checked payload against the contract and returns typed claims holding only
 * the known members. Throws {@link TokenError} `token_invalid` naming the claim that failed.
 */
export function validateClaims(payload: Record<string, unknown>, rules: ClaimRules): DatasetTokenClaims {
  checkSubject(payload);
  const iat = numericDate(payload, 'iat', true) as number;
  const exp = numericDate(payload, 'exp', true) as number;
  const nbf = numericDate(payload, 'nbf', false);
  if (exp <= iat) fail('exp', 'must be later than iat');
  if (exp - iat > rules.maxTokenAgeSeconds) {
    fail('exp', `gives a lifetime over the allowed ${rules.maxTokenAgeSeconds} seconds`);
  }
  if (iat > rules.now + rules.leewaySeconds) fail('iat', 'is in the future');
  const { iss, aud, jti } = payload;
  if (iss !== undefined && typeof iss !== 'string') fail('iss', 'must be a string');
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
  ) {
    fail('aud', 'must be a string or an array of strings');
  }
  if (jti !== undefined && (typeof jti !== 'string' || jti.length > LIMITS.jti || CONTROL.test(jti))) {
    fail('jti', 'must be a short string');
  }
  const claims: {
    -readonly [K in keyof DatasetTokenClaims]: DatasetTokenClaims[K];
  } = {
    datasets: Object.freeze([...(payload.datasets as string[])]),
    email: payload.email as string,
    iat,
    exp,
  };
  if (payload.ip !== undefined) claims.ip = payload.ip as string;
  if (nbf !== undefined) claims.nbf = nbf;
  if (iss !== undefined) claims.iss = iss as string;
  if (aud !== undefined) claims.aud = aud as string | string[];
  if (jti !== undefined) claims.jti = jti as string;
  if (payload.clientAuthResult !== undefined) {
    claims.clientAuthResult = payload.clientAuthResult as Record<string, unknown>;
  }
  if (payload.access !== undefined) claims.access = payload.access as AccessClaim;
  if (payload.client !== undefined) claims.client = payload.client as TokenClient;
  if (payload.apiTokenId !== undefined) claims.apiTokenId = payload.apiTokenId as string;
  if (payload.routeClasses !== undefined) {
    claims.routeClasses = Object.freeze([...(payload.routeClasses as GrantedRouteClass[])]);
  }
  return Object.freeze(claims);
}
