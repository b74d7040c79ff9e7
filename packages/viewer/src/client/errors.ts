import type { ErrorCode, TokenInvalidReason } from '@pp-embed/viz-api';
import type { RouteName } from '../types.js';

/**
 * Codes the visualization server sends in `{"error":{"code":...}}`: those of the wire contract.
 *
 * @example
 * const expired: ServerErrorCode = 'token_expired';
 */
export type ServerErrorCode = ErrorCode;

/**
 * Codes the widget itself produces when no server code is available.
 * - `network_error`: the server could not be reached (DNS, refused connection, CORS refusal, offline).
 * - `unexpected_response`: the server answered something that is not the documented JSON.
 * - `host_missing` / `dslabel_missing`: the embedding page did not say what to show.
 *
 * @example
 * const unreachable: ClientErrorCode = 'network_error';
 */
export type ClientErrorCode = 'network_error' | 'unexpected_response' | 'host_missing' | 'dslabel_missing';

/**
 * Every code a `pp-error` event can carry. Unknown server codes pass through as strings so that a newer
 * server never breaks an older widget.
 *
 * @example
 * el.addEventListener('pp-error', (e) => {
 *   const code: PpErrorCode = e.detail.code;
 * });
 */
export type PpErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

/**
 * Codes after which signing in (again) is the remedy, which the researcher can do; these also fire
 * `pp-auth-required`.
 *
 * @example
 * if (isAuthCode(error.code)) portal.showLogin();
 */
export type AuthErrorCode =
  'token_missing' | 'token_expired' | 'token_revoked' | 'issuer_not_trusted' | 'ip_mismatch';

const AUTH_CODES: ReadonlySet<string> = new Set<AuthErrorCode>([
  'token_missing',
  'token_expired',
  // A token from an issuer this data does not trust: signing in with one it trusts is the remedy.
  'issuer_not_trusted',
  // The portal withdrew the token (sign-out, password or grant change, an administrator): a new sign-in decides.
  'token_revoked',
  // 403, but the token names another client address: a fresh sign-in from here is what fixes it.
  'ip_mismatch',
]);

/**
 * Whether signing in again is what the user needs to do about `code`.
 *
 * @example
 * isAuthCode('token_expired'); // true
 * isAuthCode('dataset_not_granted'); // false: a new token for the same account would be refused too
 * isAuthCode('token_invalid'); // false: the portal mints a bad token; signing in again would mint another
 */
export function isAuthCode(code: string): code is AuthErrorCode {
  return AUTH_CODES.has(code);
}

/**
 * Codes only the portal's developer can fix: the portal mints tokens the server refuses (a wrong secret or
 * key, algorithm or claims: `token_invalid` with its `reason`), or with a time in the future
 * (`token_not_yet_valid`: a clock off). The widget tells the developer in the console and does not ask the
 * researcher to sign in, which would only loop.
 *
 * @example
 * isDeveloperCode('token_invalid'); // true
 */
export function isDeveloperCode(code: string): code is 'token_invalid' | 'token_not_yet_valid' {
  return code === 'token_invalid' || code === 'token_not_yet_valid';
}

/**
 * A failed request, normalised to what the widget and the embedding page act on: a stable `code`,
 * the HTTP `status` (0 when no response arrived) and the `route` it came from. It never carries the
 * token, the URL's query, or the server's message.
 *
 * @example
 * try {
 *   await client.samples('sex', { page: 1, pageSize: 50 }, signal);
 * } catch (error) {
 *   if (error instanceof PpRequestError && error.code === 'token_missing') showSignIn();
 * }
 */
export class PpRequestError extends Error {
  override readonly name = 'PpRequestError';
  readonly code: PpErrorCode;
  readonly status: number;
  readonly route: RouteName;
  /** With `token_invalid`: the server's reason (`signature`, `claims`, …), for the portal's developer. */
  readonly reason: TokenInvalidReason | undefined;

  constructor(code: PpErrorCode, status: number, route: RouteName, reason?: TokenInvalidReason) {
    super(`The ${route} request failed with "${code}"${status ? ` (HTTP ${status})` : ''}.`);
    this.code = code;
    this.status = status;
    this.route = route;
    this.reason = reason;
  }

  /** The plain data of the error, as carried by the `pp-error` event. */
  toDetail(): { code: PpErrorCode; status: number; route: RouteName; reason?: TokenInvalidReason } {
    const detail = { code: this.code, status: this.status, route: this.route };
    return this.reason === undefined ? detail : { ...detail, reason: this.reason };
  }
}

/**
 * Whether `error` is the rejection of an aborted request (the caller moved on; nothing to show).
 *
 * @example
 * catch (error) { if (isAbortError(error)) return; }
 */
export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
