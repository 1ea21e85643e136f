/**
 * Kafka's `RangeAssignor`, the default of Kafka Connect's sink consumers: for each topic, the members
 * subscribed to it are sorted by member id and each gets a contiguous range of its partitions; the
 * first `partitions % members` members get one extra.
 */
import type { TopicPartition } from '../log.ts'

export interface AssignorMember {
  readonly id: string
  /** The topics this member is subscribed to (a pattern already resolved against existing topics). */
  readonly topics: ReadonlySet<string>
}

/** Partitions per member id; every member appears, possibly with none. */
export function assignRange(
  members: readonly AssignorMember[],
  partitionsByTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const assignment = new Map<string, TopicPartition[]>(members.map((m) => [m.id, []]))
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const topics = [...new Set(members.flatMap((m) => [...m.topics]))].sort()
  for (const topic of topics) {
    const partitions = partitionsByTopic.get(topic)
    if (partitions === undefined) continue
    const subscribers = sorted.filter((m) => m.topics.has(topic))
    const each = Math.floor(partitions / subscribers.length)
    const extra = partitions % subscribers.length
    subscribers.forEach((m, i) => {
      const start = each * i + Math.min(i, extra)
      const length = each + (i < extra ? 1 : 0)
      for (let p = start; p < start + length; p++) assignment.get(m.id)!.push({ topic, partition: p })
    })
  }
  return assignment
}
