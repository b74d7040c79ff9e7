import type { AuthErrorCode, PpErrorCode } from './client/errors.js';
import type { TokenInvalidReason } from '@pp-embed/viz-api';
import type { RouteName } from './types.js';

/**
 * Detail of `pp-ready`: the dataset's configuration has loaded.
 *
 * @example
 * viewer.addEventListener('pp-ready', (e) => console.log(e.detail.dslabel, e.detail.genome));
 */
export interface PpReadyDetail {
  dslabel: string;
  genome: string;
}

/**
 * Detail of `pp-error`: a request failed. `status` is 0 when no response arrived.
 *
 * @example
 * viewer.addEventListener('pp-error', (e) => metrics.count(`pp.${e.detail.route}.${e.detail.code}`));
 */
export interface PpErrorDetail {
  code: PpErrorCode;
  status: number;
  route: RouteName;
  /** With `token_invalid`: the server's reason (`signature`, `claims`, …), for the portal's developer. */
  reason?: TokenInvalidReason;
}

/**
 * Detail of `pp-auth-required`: signing in (again) would let the user see `route` of `dslabel`.
 *
 * @example
 * viewer.addEventListener('pp-auth-required', (e) => portal.offerSignIn(e.detail.dslabel));
 */
export interface PpAuthRequiredDetail {
  dslabel: string;
  route: RouteName;
  code: AuthErrorCode;
}

/**
 * `pp-ready`, fired once each time a dataset's configuration loads.
 *
 * @example
 * const onReady = (e: PpReadyEvent) => e.detail.genome;
 */
export type PpReadyEvent = CustomEvent<PpReadyDetail>;

/**
 * `pp-error`, fired when a route's outcome becomes a failure (a repeat of the same failure on the same route
 * is not fired again until that route succeeds or `refresh()` is called).
 *
 * @example
 * const onError = (e: PpErrorEvent) => e.detail.code;
 */
export type PpErrorEvent = CustomEvent<PpErrorDetail>;

/**
 * `pp-auth-required`, fired alongside `pp-error` for the codes that signing in fixes.
 *
 * @example
 * const onAuth = (e: PpAuthRequiredEvent) => e.detail.route === 'samples';
 */
export type PpAuthRequiredEvent = CustomEvent<PpAuthRequiredDetail>;

/**
 * The events `<pp-viewer>` fires at the embedding page. All bubble and cross shadow roots (`composed`).
 *
 * @example
 * const name: keyof PpViewerEventMap = 'pp-auth-required';
 */
export interface PpViewerEventMap {
  'pp-ready': PpReadyEvent;
  'pp-error': PpErrorEvent;
  'pp-auth-required': PpAuthRequiredEvent;
}

declare global {
  // Typed listeners on any element or the document: events bubble and are composed.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface HTMLElementEventMap extends PpViewerEventMap {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface DocumentEventMap extends PpViewerEventMap {}
}
