/**
 * A sliding-window counter of failed sign-in attempts per key (an account, a client address).
 *
 * The state lives in this process's memory: it is lost on restart and not shared between portal processes, so
 * N processes behind a load balancer allow up to N times the limit. That is acceptable for slowing down password
 * guessing; a deployment that needs a global limit puts it in a shared store (or in the proxy).
 *
 * @example
 * const perAccount = new SlidingWindowLimiter({ limit: 5, windowMs: 15 * 60_000 }, Date.now);
 * if (perAccount.retryAfterMs(email) > 0) return tooManyAttempts();
 * if (!ok) perAccount.hit(email);
 */
export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #clock: () => number;
  readonly #maxKeys: number;
  // Insertion order doubles as age order: a key is re-inserted on each hit, so the first key is the stalest.
  readonly #hits = new Map<string, number[]>();

  constructor(options: { limit: number; windowMs: number; maxKeys?: number }, clock: () => number) {
    if (!(Number.isInteger(options.limit) && options.limit >= 1 && options.windowMs > 0)) {
      throw new RangeError('limit must be a positive whole number and windowMs positive');
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#clock = clock;
  }

  #recent(key: string, now: number): number[] {
    const times = this.#hits.get(key);
    if (times === undefined) return [];
    const recent = times.filter((t) => now - t < this.windowMs);
    if (recent.length === 0) this.#hits.delete(key);
    else if (recent.length !== times.length) this.#hits.set(key, recent);
    return recent;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const now = this.#clock();
    const recent = this.#recent(key, now);
    if (recent.length < this.limit) return 0;
    // The window slides: the next attempt is allowed once enough of the oldest hits have left it.
    const oldest = recent[recent.length - this.limit] as number;
    return Math.max(1, oldest + this.windowMs - now);
  }

  /** Counts one failed attempt for `key`. */
  hit(key: string): void {
    const now = this.#clock();
    const recent = this.#recent(key, now);
    recent.push(now);
    // Only the last `limit` hits decide anything; older ones are dropped to bound memory per key.
    if (recent.length > this.limit) recent.splice(0, recent.length - this.limit);
    this.#hits.delete(key);
    this.#hits.set(key, recent);
    while (this.#hits.size > this.#maxKeys) {
      const stalest = this.#hits.keys().next().value as string;
      this.#hits.delete(stalest);
    }
  }

  /** Forgets `key`, e.g. after a successful sign-in to that account. */
  reset(key: string): void {
    this.#hits.delete(key);
  }

  /** How many keys are tracked (for tests and metrics). */
  get size(): number {
    return this.#hits.size;
  }
}
