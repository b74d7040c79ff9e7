/**
 * A bounded map of verified tokens to their claims. An entry never outlives the token's `exp`; when full, the
 * least recently used entry goes. A Map keeps insertion order, so re-inserting on a hit is the LRU bookkeeping.
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
    this.#entries.delete(token);
    if (now >= entry.expiresAt) return undefined;
    this.#entries.set(token, entry);
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
}
