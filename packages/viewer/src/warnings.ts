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
  | 'PP_TOKEN_CALLBACK_MISSING'
  | 'PP_TOKEN_CALLBACK_INVALID'
  | 'PP_TOKEN_CALLBACK_THREW'
  | 'PP_TOKEN_UNUSABLE'
  | 'PP_TOKEN_REJECTED';

const shown = new Set<string>();

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

/**
 * Prints `[pp-embed CODE] message` with `console.error` the first time `code` is seen on this page with this
 * `variant` (a server reason, say): a mistake of the embedding site that breaks what the researcher sees.
 *
 * @example
 * errorOnce('PP_TOKEN_REJECTED', 'token_invalid/signature', 'The visualization server refused the portal\'s token …');
 */
export function errorOnce(code: WarningCode, variant: string, message: string): void {
  const key = `${code}\n${variant}`;
  if (shown.has(key)) return;
  shown.add(key);
  console.error(`[pp-embed ${code}] ${message}`);
}
