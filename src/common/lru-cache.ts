/**
 * A bounded map that forgets the least recently used entry first (Kafka's `LRUCache`, which
 * `schemas.cache.size` sizes). A size of zero or less caches nothing.
 */
export class LruCache<K, V> {
  readonly maxSize: number
  readonly #map = new Map<K, V>()
  #newest: K | undefined

  constructor(maxSize: number) {
    this.maxSize = maxSize
  }

  get size(): number {
    return this.#map.size
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key)
    if (value !== undefined && key !== this.#newest) {
      this.#map.delete(key)
      this.#map.set(key, value)
      this.#newest = key
    }
    return value
  }

  set(key: K, value: V): void {
    if (this.maxSize <= 0) return
    this.#map.delete(key)
    this.#map.set(key, value)
    this.#newest = key
    if (this.#map.size > this.maxSize) this.#map.delete(this.#map.keys().next().value as K)
  }
}
