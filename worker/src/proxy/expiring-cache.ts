interface Entry<V> {
  value: Promise<V>;
  expiresAt: number;
}

/**
 * A per-isolate cache of lookups. An entry is served for `ttlMs` after its
 * load started, concurrent misses share one load, a failed load is not kept,
 * and once `maxEntries` is reached the oldest entry makes room, so requests
 * for random names cannot grow it without limit.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, Entry<V>>();

  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value of `key`, or a fresh `load()`; `ttlMs` 0 always loads and keeps nothing. */
  get(key: string, ttlMs: number, load: () => Promise<V>): Promise<V> {
    if (ttlMs <= 0) return load();
    const now = this.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    if (hit) {
      this.#entries.delete(key);
    } else if (this.#entries.size >= this.maxEntries) {
      // Maps iterate in insertion order, so the first key is the oldest entry.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    const entry: Entry<V> = { value: load(), expiresAt: now + ttlMs };
    this.#entries.set(key, entry);
    entry.value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return entry.value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
