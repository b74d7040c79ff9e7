/**
 * Limits dataset-password tries: failed tries per client address and dataset within a window, and how many
 * password hashes are computed at once (each costs tens of milliseconds and tens of MiB). State is per process:
 * behind N replicas an address gets up to N times the tries, which the documentation says.
 */
export interface LoginThrottleOptions {
  /** Failed tries allowed per address and dataset within `windowSeconds`. Default 5. */
  maxFailures?: number;
  /** Default 900 (15 minutes). */
  windowSeconds?: number;
  /** Password checks computed at once; the others wait. Default 2. */
  concurrency?: number;
  /** Checks allowed to wait; beyond that a try is refused as throttled. Default 32. */
  maxWaiting?: number;
  /** Addresses remembered; the oldest are forgotten beyond it, so that junk addresses cost no memory. */
  maxKeys?: number;
}

/** @internal */
export class LoginThrottle {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #concurrency: number;
  readonly #maxWaiting: number;
  readonly #maxKeys: number;
  // Insertion order is age order, so the first key is the one to forget.
  readonly #failures = new Map<string, number[]>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: LoginThrottleOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 5;
    this.#windowMs = (options.windowSeconds ?? 900) * 1000;
    this.#concurrency = options.concurrency ?? 2;
    this.#maxWaiting = options.maxWaiting ?? 32;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string, now: number): number {
    const recent = this.#recent(key, now);
    if (recent.length < this.#maxFailures) return 0;
    return Math.max(1, Math.ceil(((recent[0] as number) + this.#windowMs - now) / 1000));
  }

  failed(key: string, now: number): void {
    const recent = this.#recent(key, now);
    recent.push(now);
    this.#failures.delete(key);
    this.#failures.set(key, recent);
    if (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }

  /** Runs `task` when a slot is free; undefined, without running it, when too many already wait. */
  async run<T>(task: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxWaiting) return undefined;
      // The slot of a finishing check is handed over as it is, so a newcomer cannot take it in between.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((t) => now - t < this.#windowMs);
  }
}
