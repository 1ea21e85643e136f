/**
 * What the embedded log keeps in memory about a topic: its stored description plus the offsets that
 * bound each partition. `next` is the single source of new offsets, so it is only advanced inside the
 * transaction that writes the records (and restored if that transaction fails).
 */
import type { StoredTopic } from './record-store.ts'

export interface TopicState {
  readonly id: number
  readonly name: string
  readonly partitions: number
  readonly configs: Readonly<Record<string, string>>
  /** `message.timestamp.type=LogAppendTime`: records take the append time, not the producer's. */
  readonly logAppendTime: boolean
  /** Per partition: the offset the next appended record gets (Kafka's log end offset). */
  readonly next: number[]
  /** Per partition: the first offset still held (Kafka's log start offset). */
  readonly start: number[]
  /** Round-robin cursor choosing the partition of each send's unkeyed records. */
  stickyCursor: number
}

export function topicState(
  stored: StoredTopic,
  bounds: (partition: number) => { first: number; last: number } | undefined,
): TopicState {
  const next: number[] = []
  const start: number[] = []
  for (let p = 0; p < stored.partitions; p++) {
    const b = bounds(p)
    next.push(b === undefined ? 0 : b.last + 1)
    start.push(b === undefined ? 0 : b.first)
  }
  return {
    id: stored.id,
    name: stored.name,
    partitions: stored.partitions,
    configs: Object.freeze({ ...stored.configs }),
    logAppendTime: stored.configs['message.timestamp.type'] === 'LogAppendTime',
    next,
    start,
    stickyCursor: Math.floor(Math.random() * stored.partitions),
  }
}
