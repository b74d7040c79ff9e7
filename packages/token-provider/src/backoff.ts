/**
 * Retry delays for a token endpoint that cannot be reached.
 * @module
 */

/**
 * How long to wait before retry number `attempt` (0 for the first retry): exponential growth from `initialMs`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so that the pages of a portal that lost its
 * network together do not all come back in the same millisecond, yet no delay collapses to zero.
 *
 * @example
 * backoffDelay(0, { initialMs: 1000, maxMs: 60_000 }, () => 0.5); // 750
 * backoffDelay(10, { initialMs: 1000, maxMs: 60_000 }, () => 1); // 60000
 */
export function backoffDelay(
  attempt: number,
  limits: { initialMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceiling = Math.min(limits.maxMs, limits.initialMs * 2 ** exponent);
  const share = Math.min(1, Math.max(0, random()));
  return ceiling / 2 + (ceiling / 2) * share;
}

/**
 * Reads a `Retry-After` header given in seconds (RFC 9110 §10.2.3) and returns milliseconds, or undefined when
 * the header is absent, an HTTP date (a date needs the wall clock, which this package does not trust) or not a
 * number.
 *
 * @example
 * retryAfterMs('30'); // 30000
 * retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT'); // undefined
 */
export function retryAfterMs(value: string | null | undefined): number | undefined {
  if (value == null || !/^\s*\d{1,7}\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}
