import type { Sql } from './sql.js';

/**
 * A sliding-window limit: at most `limit` failures per `windowMs`.
 *
 * @example
 * const perAccount: WindowLimit = { limit: 5, windowMs: 15 * 60_000 };
 */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

/**
 * The statement that finds when `key` reached its limit: the limit-th newest attempt in the window, if there are
 * that many (one row, read along the (key, at_ms) index, however large the limit). Its parameters come from
 * {@link windowParams}; other statements embed it as a scalar subquery, so that a limit is checked in the same
 * round trip as what it guards.
 *
 * @example
 * const row = await sql.get<{ at_ms: number }>(LIMIT_REACHED_AT, windowParams(key, limit, now));
 */
export const LIMIT_REACHED_AT =
  'SELECT at_ms FROM login_failures WHERE key = ? AND at_ms > ? ORDER BY at_ms DESC LIMIT 1 OFFSET ?';

/**
 * The parameters of {@link LIMIT_REACHED_AT}, in its order.
 *
 * @example
 * await sql.get(LIMIT_REACHED_AT, windowParams('account:ana@example.org', { limit: 5, windowMs: 900_000 }, now));
 */
export function windowParams(key: string, { limit, windowMs }: WindowLimit, now: number): unknown[] {
  return [key, now - windowMs, limit - 1];
}

/**
 * How long until `key` is under its limit again, from what {@link LIMIT_REACHED_AT} found (null or undefined: it
 * is under it now).
 *
 * @example
 * retryAfter(row?.at_ms, limits.perAddress, now); // 0, or milliseconds to wait
 */
export function retryAfter(
  reachedAt: number | null | undefined,
  { windowMs }: WindowLimit,
  now: number,
): number {
  if (reachedAt === null || reachedAt === undefined) return 0;
  return Math.max(0, Number(reachedAt) + windowMs - now);
}

/**
 * Attempts per key in sliding windows, in the store, so that every portal process counts the same attempts: N
 * replicas behind a load balancer allow the limit once, not N times. Failed sign-ins per account and per client
 * address; the token exchange's failures per address and exchanges per API token.
 *
 * @example
 * const failures = new LoginFailureStore(sql);
 * if ((await failures.retryAfterMs('account:ana@example.org', limits.perAccount, now)) > 0) throttle();
 */
export class LoginFailureStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Counts one failure for `key` at `now`. */
  async hit(key: string, now: number): Promise<void> {
    await this.#sql.run('INSERT INTO login_failures (key, at_ms) VALUES (?, ?)', [key, now]);
  }

  /**
   * 0 while `key` has fewer than `limit` failures in the window ending now; otherwise how long until the oldest
   * of the last `limit` leaves the window.
   */
  async retryAfterMs(key: string, limit: WindowLimit, now: number): Promise<number> {
    const row = await this.#sql.get<{ at_ms: number }>(LIMIT_REACHED_AT, windowParams(key, limit, now));
    return retryAfter(row?.at_ms, limit, now);
  }

  /** Forgets `key` (a successful sign-in clears the account's failures). */
  async reset(key: string): Promise<void> {
    await this.#sql.run('DELETE FROM login_failures WHERE key = ?', [key]);
  }

  /** Deletes failures older than `windowMs`. */
  async purge(now: number, windowMs: number): Promise<number> {
    return (await this.#sql.run('DELETE FROM login_failures WHERE at_ms <= ?', [now - windowMs])).changes;
  }
}
