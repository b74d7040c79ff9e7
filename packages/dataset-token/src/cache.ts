/**
 * A bounded map of verified tokens to their claims. An entry never outlives the token's `exp`; when full, the
 * oldest entry goes. A hit does no bookkeeping: it is the hot path of every request a widget sends, and a token
 * evicted while still in use costs one signature check when it comes back.
 */
export class VerifiedTokenCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value, if the token is cached and `now` (seconds) is before its expiry. */
  get(token: string, now: number): V | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (now >= entry.expiresAt) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, value: V, expiresAt: number): void {
    if (this.#max <= 0) return;
    this.#entries.delete(token);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { value, expiresAt });
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Drops every entry whose value matches. @example cache.deleteWhere((entry) => entry.kid === 'retired-1'); */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [token, entry] of this.#entries) if (match(entry.value)) this.#entries.delete(token);
  }
}
