/** A small least-recently-used map: bounded caches for channel facts and recently seen event ids. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  /** The value, refreshed as recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** True when the key is present (does not refresh it). */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores a value, evicting the oldest beyond the bound. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  /** Number of entries. */
  get size(): number {
    return this.map.size;
  }
}
