/**
 * Kafka's keyed placement: `Utils.murmur2` and `Utils.toPositive` from
 * `org.apache.kafka.common.utils.Utils`, ported bit for bit, so that a keyed record lands in the
 * partition a Java producer with the default partitioner would choose.
 *
 * Arithmetic is on signed 32-bit ints as in Java: `Math.imul` for `*`, `>>>` for Java's `>>>`,
 * and `| 0` to wrap after additions.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** Kafka's `Utils.murmur2`: a signed 32-bit hash of the bytes. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  // Java's tail is a switch falling through from case 3 to case 1; the multiply runs once, and only
  // when there is a tail.
  const tail = length & ~3
  const rest = length & 3
  if (rest === 3) h ^= data[tail + 2] << 16
  if (rest >= 2) h ^= data[tail + 1] << 8
  if (rest >= 1) {
    h ^= data[tail]
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which differs for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition Kafka's default partitioner chooses for a non-null key. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return toPositive(murmur2(key)) % partitions
}
