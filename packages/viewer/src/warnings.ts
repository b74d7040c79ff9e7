/**
 * Warnings for the developer of the embedding page. Each has a stable code that can be searched for in
 * the README, and each is shown once per page so that a misconfigured widget does not flood the console.
 * A warning never contains a token or anything the token callback returned or threw.
 * @module
 */

/**
 * The stable codes of developer warnings.
 *
 * @example
 * const code: WarningCode = 'PP_HOST_MISSING';
 */
export type WarningCode =
  | 'PP_HOST_MISSING'
  | 'PP_HOST_INVALID'
  | 'PP_DSLABEL_MISSING'
  | 'PP_HOLDER_MISSING'
  | 'PP_TOKEN_CALLBACK_THREW'
  | 'PP_TOKEN_UNUSABLE';

const shown = new Set<WarningCode>();

/**
 * Prints `[pp-embed CODE] message` with `console.warn` the first time `code` is seen on this page.
 *
 * @example
 * warnOnce('PP_HOST_MISSING', '<pp-viewer> has no host attribute.');
 */
export function warnOnce(code: WarningCode, message: string): void {
  if (shown.has(code)) return;
  shown.add(code);
  console.warn(`[pp-embed ${code}] ${message}`);
}
