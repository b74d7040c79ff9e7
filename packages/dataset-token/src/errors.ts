/**
 * The error family of the token package. Every failure that reaches a caller is one of two classes, each with
 * a stable `code` that servers, widgets and portal developers can act on:
 *
 * - {@link TokenError}: a token was refused at verification (`token_missing`, `token_invalid`,
 *   `token_expired`, `token_not_yet_valid`). Its message describes the rule that failed in plain words and
 *   never contains the token; the underlying library error, if any, is kept as `cause` for server logs only.
 * - {@link TokenSetupError}: the caller's own setup is wrong (a weak secret, a key of the wrong type, an option
 *   out of range, claims that cannot be signed). Thrown when a signer or verifier is constructed, or by `sign`.
 */

import { codesOf, type TokenErrorCode, type TokenInvalidReason } from '@pp-embed/viz-api';

/** Stable codes for a refused token, from the wire contract. 401 for all of them. */
export type { TokenErrorCode };

/** Stable codes for a setup mistake made by the developer or operator. */
export type TokenSetupErrorCode =
  | 'secret_too_short'
  | 'secret_weak'
  | 'key_invalid'
  | 'key_unsupported'
  | 'key_unavailable'
  | 'algorithm_not_allowed'
  | 'option_invalid'
  | 'claims_invalid';

/** Every token code, for exhaustive checks and property tests. */
export const TOKEN_ERROR_CODES: readonly TokenErrorCode[] = codesOf('token');

/**
 * The option a setup mistake concerns: `key` (the secret, public key, JWKS or private key, and where it comes
 * from), `algorithms`, a numeric option by its name, or `claims` for claims given to `sign`.
 */
export type TokenSetupOption =
  | 'key'
  | 'algorithms'
  | 'leewaySeconds'
  | 'maxTokenAgeSeconds'
  | 'cacheSize'
  | 'ttlSeconds'
  | 'maxTtlSeconds'
  | 'claims';

const OPTION_BY_CODE: Record<TokenSetupErrorCode, TokenSetupOption | undefined> = {
  secret_too_short: 'key',
  secret_weak: 'key',
  key_invalid: 'key',
  key_unsupported: 'key',
  key_unavailable: 'key',
  algorithm_not_allowed: 'algorithms',
  option_invalid: undefined,
  claims_invalid: 'claims',
};

/**
 * A token was refused. `claim` names the claim or header member that failed, when one did. A `token_invalid`
 * also has a `reason` (the wire contract's `TOKEN_INVALID_REASONS`), which the server sends so that the widget
 * can tell the portal's developer what to fix; unless given, it follows from `claim`: `alg` is `algorithm`,
 * `kid` is `key`, `crit` or no claim is `malformed`, any other claim is `claims`.
 *
 * @example
 * try { await verifier.verify(token) } catch (e) {
 *   if (e instanceof TokenError && e.code === 'token_expired') askForANewToken();
 *   if (e instanceof TokenError && e.reason === 'signature') console.error('the portal signs with another key');
 * }
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly code: TokenErrorCode;
  readonly claim: string | undefined;
  readonly reason: TokenInvalidReason | undefined;

  constructor(
    code: TokenErrorCode,
    message: string,
    options: { claim?: string; cause?: unknown; reason?: TokenInvalidReason } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.claim = options.claim;
    this.reason = code === 'token_invalid' ? (options.reason ?? reasonOfClaim(options.claim)) : undefined;
  }
}

function reasonOfClaim(claim: string | undefined): TokenInvalidReason {
  if (claim === 'alg') return 'algorithm';
  if (claim === 'kid') return 'key';
  if (claim === undefined || claim === 'crit') return 'malformed';
  return 'claims';
}

/**
 * A signer, verifier or key could not be set up as asked, or claims given to `sign` are not valid. `option`
 * names the option the mistake concerns, so that a config loader can point at the field without reading the
 * message.
 *
 * @example
 * createVerifier({ key: { secret: 'short' } }); // throws TokenSetupError, code 'secret_too_short', option 'key'
 */
export class TokenSetupError extends Error {
  override readonly name = 'TokenSetupError';
  readonly code: TokenSetupErrorCode;
  readonly option: TokenSetupOption;

  constructor(
    code: TokenSetupErrorCode,
    message: string,
    options: { cause?: unknown; option?: TokenSetupOption } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.option = options.option ?? OPTION_BY_CODE[code] ?? 'key';
  }
}

/** True for any error this package throws on purpose. */
export function isDatasetTokenError(error: unknown): error is TokenError | TokenSetupError {
  return error instanceof TokenError || error instanceof TokenSetupError;
}
