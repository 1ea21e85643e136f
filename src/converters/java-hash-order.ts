/**
 * The iteration order of a `java.util.HashMap` with string keys, for texts that Java prints from
 * one (Confluent's JSON schemas go through everit's `HashMap`s and org.json's `JSONObject`).
 *
 * A HashMap iterates its table's buckets in index order, each bucket in insertion order (resizing
 * splits a bucket keeping the order). A key's bucket is `(h ^ (h >>> 16)) & (capacity - 1)` with
 * `h` Java's `String.hashCode()`. So the order is the insertion order stably sorted by bucket in the
 * final capacity. Not modelled: bins of eight or more colliding keys (treeified, or an early
 * resize) — a map that large and that unlucky is not what Connect schemas make.
 */

function stringHash(key: string): number {
  let h = 0
  for (let i = 0; i < key.length; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0
  return h
}

function bucket(key: string, capacity: number): number {
  const h = stringHash(key)
  return (h ^ (h >>> 16)) & (capacity - 1)
}

/** Java's `HashMap.tableSizeFor`: the smallest power of two ≥ n (at least 1). */
function tableSizeFor(n: number): number {
  let c = 1
  while (c < n) c *= 2
  return c
}

/** The capacity after `size` puts into a map created with `initial` capacity (load factor 0.75). */
function grown(initial: number, size: number): number {
  let capacity = initial
  while (size > capacity * 0.75) capacity *= 2
  return capacity
}

function inBucketOrder(keys: readonly string[], capacity: number): string[] {
  return keys
    .map((key, i) => ({ key, i, b: bucket(key, capacity) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.key)
}

/** Keys put one by one into `new HashMap<>()`. */
export function hashMapOrder(keys: readonly string[]): string[] {
  return inBucketOrder(keys, grown(16, keys.length))
}

/** `new HashMap<>(source)` of a map iterating `keys` (JDK 19+ pre-sizing: ⌈size / 0.75⌉). */
export function copiedHashMapOrder(keys: readonly string[]): string[] {
  return inBucketOrder(keys, grown(tableSizeFor(Math.ceil(keys.length / 0.75)), keys.length))
}

/** `new HashMap<>(initialCapacity)` then puts (org.json's `new JSONObject(map)`). */
export function presizedHashMapOrder(keys: readonly string[], initialCapacity: number): string[] {
  return inBucketOrder(keys, grown(tableSizeFor(initialCapacity), keys.length))
}

/** An object with the same members, its keys in the given order. */
export function reorder<T>(object: Readonly<Record<string, T>>, keys: readonly string[]): Record<string, T> {
  const out: Record<string, T> = {}
  for (const key of keys) out[key] = object[key] as T
  return out
}
