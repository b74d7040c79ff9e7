/**
 * Every error code the visualization server answers with, its HTTP status, what it means, and the sentence sent
 * in the body's `message` (for developers; the widget has its own sentences for researchers). Every error body
 * is `{"error": {"code", "message"}}`.
 *
 * Families: `request` (the request itself is wrong), `token` (401: no usable token; the widget may ask for a new
 * one), `refusal` (403: a valid token, or none, that does not open this door), `login` (the dataset-password
 * exchange), `server` (5xx). A `token_invalid` body also carries a `reason` ({@link TOKEN_INVALID_REASONS}).
 *
 * Adding a code here makes the compiler point at every place that must handle it: the server's answers, the
 * widget's sentences and the documentation's table.
 *
 * @example
 * ERROR_CODES.token_expired.status; // 401
 */
export const ERROR_CODES = {
  bad_request: {
    status: 400,
    family: 'request',
    meaning: 'a query parameter is missing or malformed, or a token came in the URL',
    message: 'The request is malformed.',
  },
  dataset_not_found: {
    status: 404,
    family: 'request',
    meaning: 'no dataset with that label',
    message: 'There is no such dataset.',
  },
  term_not_found: {
    status: 404,
    family: 'request',
    meaning: 'no term with that id in the dataset',
    message: 'No term with this id exists in the dataset.',
  },
  not_found: { status: 404, family: 'request', meaning: 'no such route', message: 'There is no such route.' },
  method_not_allowed: {
    status: 405,
    family: 'request',
    meaning: 'a route asked with a method other than GET or HEAD (with `Allow`)',
    message: 'This route answers GET only.',
  },
  term_not_supported: {
    status: 422,
    family: 'request',
    meaning: "the term's type cannot be charted yet",
    message: 'This term cannot be charted yet.',
  },
  term_wrong_type: {
    status: 400,
    family: 'request',
    meaning:
      "a term's type does not fit the chart or the parameter (a summary of a categorical term, a survival term as an overlay, the same term twice)",
    message: 'This term does not fit this chart.',
  },
  too_many_values: {
    status: 400,
    family: 'request',
    meaning: 'an overlay, divide-by or split term has more categories or bins than `LIMITS` allow',
    message: 'This term has too many values to overlay or split by.',
  },
  filter_invalid: {
    status: 400,
    family: 'request',
    meaning:
      'the `filter` parameter is malformed or over its limits, or names a term or a category the caller cannot chart',
    message: 'The filter cannot be applied to this dataset.',
  },
  token_missing: {
    status: 401,
    family: 'token',
    meaning: 'the route needs a token and none came in the header',
    message: 'This data needs an access token, and the request carried none.',
  },
  token_invalid: {
    status: 401,
    family: 'token',
    meaning: 'the token is malformed, badly signed, or has bad claims',
    message: 'The access token is not valid.',
  },
  token_expired: {
    status: 401,
    family: 'token',
    meaning: "the token's `exp` has passed",
    message: 'The access token has expired.',
  },
  token_not_yet_valid: {
    status: 401,
    family: 'token',
    meaning: "the token's `nbf` is in the future",
    message: 'The access token is not valid yet.',
  },
  issuer_not_trusted: {
    status: 401,
    family: 'token',
    meaning:
      "the token's `iss` is an OpenID issuer that the credential entry for this dataset, route and origin does not trust",
    message: 'The service that issued this access token is not trusted for this data.',
  },
  token_revoked: {
    status: 401,
    family: 'token',
    meaning: 'the token was revoked by its portal (by `jti`, user, grant or embedder) before its `exp`',
    message: 'The access token has been revoked.',
  },
  embedder_not_allowed: {
    status: 403,
    family: 'refusal',
    meaning: 'the embedding origin has no credential for this dataset and route',
    message: 'This site is not allowed to embed this dataset.',
  },
  embedder_retired: {
    status: 403,
    family: 'refusal',
    meaning:
      "the portal's entry in the server's embedder registry was retired: every token its keys sign is refused",
    message: 'This site is no longer registered to embed this dataset.',
  },
  dataset_not_granted: {
    status: 403,
    family: 'refusal',
    meaning: 'the token does not list this dataset',
    message: 'The access token does not grant this dataset.',
  },
  ip_mismatch: {
    status: 403,
    family: 'refusal',
    meaning: 'the token was minted for another client address',
    message: 'The access token was issued for another network address.',
  },
  scripts_not_allowed: {
    status: 403,
    family: 'refusal',
    meaning:
      'the request has no `Origin` (a script, not a web page) and no credential entry for this dataset and route accepts scripts (`"scripts": true`)',
    message: 'This dataset does not accept requests from scripts.',
  },
  token_not_for_scripts: {
    status: 403,
    family: 'refusal',
    meaning:
      "a browser's token came without an `Origin` (from a script); a script exchanges a personal API token at the portal for a token of its own",
    message: 'This access token was issued to a web page, not to a script.',
  },
  token_not_for_browsers: {
    status: 403,
    family: 'refusal',
    meaning: 'a script\'s token (`client: "script"`) came from a web page (with an `Origin`)',
    message: 'This access token was issued to a script, not to a web page.',
  },
  route_forbidden: {
    status: 403,
    family: 'refusal',
    meaning:
      'the route is closed for this dataset (a `forbidden` entry, or sample-level data of a dataset no credential protects, which is served only to callers who see exact counts unless serverconfig.json publishes it)',
    message: 'This data is not available for this dataset.',
  },
  grant_required: {
    status: 403,
    family: 'refusal',
    meaning:
      'a valid token of a signed-in user without a grant (`access: "signedIn"`): aggregated answers follow the signed-in rule, sample-level data needs a grant',
    message: 'Sample-level data of this dataset needs a grant.',
  },
  insufficient_scope: {
    status: 403,
    family: 'refusal',
    meaning:
      "a valid token that grants this dataset for other kinds of route only, or not at all: a trusted issuer's scopes, groups or visas, or the `routeClasses` of a portal's token for a script (aggregated data only, asking for sample rows) (RFC 6750 §3.1)",
    message: "The access token's scopes do not cover this data.",
  },
  password_invalid: {
    status: 401,
    family: 'login',
    meaning: 'the dataset password sent to the login route is wrong',
    message: 'The password is not correct.',
  },
  too_many_attempts: {
    status: 429,
    family: 'login',
    meaning: 'too many wrong passwords from this address for this dataset (with `Retry-After`)',
    message: 'Too many attempts. Try again later.',
  },
  login_not_available: {
    status: 400,
    family: 'login',
    meaning: 'no dataset password guards this dataset and route for the calling origin',
    message: 'This data is not protected by a dataset password.',
  },
  internal_error: {
    status: 500,
    family: 'server',
    meaning: 'a server fault (logged on the server; no detail is sent)',
    message: 'The server could not answer this request.',
  },
  dataset_unavailable: {
    status: 503,
    family: 'server',
    meaning:
      'the dataset file cannot be read right now (changed in place, or unreadable); it is answered again once a good file is back (with `Retry-After`)',
    message: 'This dataset cannot be read right now. Try again shortly.',
  },
  server_draining: {
    status: 503,
    family: 'server',
    meaning:
      'the server is shutting down: it finishes the requests it has and takes no new ones (with `Retry-After` and `Connection: close`; send the request again)',
    message: 'The server is shutting down. Send the request again.',
  },
  revocation_unavailable: {
    status: 503,
    family: 'server',
    meaning:
      "the portal's revocation feed has not been reached within the configured staleness limit, so tokens it covers are not accepted",
    message: 'Access cannot be checked right now. Try again shortly.',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

/** One row of {@link ERROR_CODES}. @example const spec: ErrorCodeSpec = ERROR_CODES.bad_request; */
export interface ErrorCodeSpec {
  readonly status: 400 | 401 | 403 | 404 | 405 | 422 | 429 | 500 | 503;
  readonly family: 'request' | 'token' | 'refusal' | 'login' | 'server';
  readonly meaning: string;
  readonly message: string;
}

type Codes = typeof ERROR_CODES;

/** Every code an error body can carry. @example const code: ErrorCode = 'token_expired'; */
export type ErrorCode = keyof Codes;

/** The codes of one family. @example type Refusal = CodeOf<'refusal'>; */
export type CodeOf<F extends ErrorCodeSpec['family']> = {
  [C in ErrorCode]: Codes[C]['family'] extends F ? C : never;
}[ErrorCode];

/** 401: no usable token. @example const code: TokenErrorCode = 'token_missing'; */
export type TokenErrorCode = CodeOf<'token'>;

/** 403: the token (if any) is fine but does not open this door. @example const code: RefusalCode = 'ip_mismatch'; */
export type RefusalCode = CodeOf<'refusal'>;

/** The dataset-password exchange. @example const code: LoginErrorCode = 'password_invalid'; */
export type LoginErrorCode = CodeOf<'login'>;

/** The codes of one family, in table order. @example codesOf('token'); // ['token_missing', …] */
export function codesOf<F extends ErrorCodeSpec['family']>(family: F): readonly CodeOf<F>[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
    (code) => ERROR_CODES[code].family === family,
  ) as CodeOf<F>[];
}

/** True when `code` is one of {@link ERROR_CODES}. @example isErrorCode('token_expired'); // true */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * Why a token was `token_invalid`, in the body's `reason`: each is a mistake of the portal that minted it (or of
 * the server's key configuration), never something the researcher can fix by signing in again. The widget tells
 * the developer in the console and does not ask the researcher to sign in.
 *
 * @example
 * TOKEN_INVALID_REASONS.signature.meaning; // 'the signature does not match the key the server holds for this portal'
 */
export const TOKEN_INVALID_REASONS = {
  malformed: { meaning: 'not a compact JWS: parts, base64url, JSON, length or header are wrong' },
  algorithm: { meaning: "the header's `alg` is not one the server accepts for this portal's key" },
  key: { meaning: "no key of the portal's JWKS matches the token's `kid`, or the JWKS cannot be fetched" },
  signature: { meaning: 'the signature does not match the key the server holds for this portal' },
  claims: {
    meaning:
      'a claim is missing or wrong: `datasets`, `email`, `iat`, `exp` (or a lifetime over the limit), `iss`, `aud`',
  },
} as const satisfies Record<string, { meaning: string }>;

/** One of {@link TOKEN_INVALID_REASONS}. @example const reason: TokenInvalidReason = 'signature'; */
export type TokenInvalidReason = keyof typeof TOKEN_INVALID_REASONS;

/** True when `reason` is one of {@link TOKEN_INVALID_REASONS}. @example isTokenInvalidReason('claims'); // true */
export function isTokenInvalidReason(reason: unknown): reason is TokenInvalidReason {
  return typeof reason === 'string' && Object.hasOwn(TOKEN_INVALID_REASONS, reason);
}

/**
 * The one shape of every error response. `reason` comes with `token_invalid` only.
 *
 * @example
 * const body: ErrorBody = { error: { code: 'token_expired', message: ERROR_CODES.token_expired.message } };
 */
export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly reason?: TokenInvalidReason;
  };
}
