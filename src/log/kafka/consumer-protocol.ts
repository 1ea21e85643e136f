/**
 * The 'consumer' protocol type of Kafka's classic group protocol: member metadata is a
 * ConsumerProtocolSubscription and assignments are ConsumerProtocolAssignment (encoded by
 * @platformatic/kafka, same bytes as Java's ConsumerProtocol), with the 'range' assignor so Java
 * consumers configured with the default assignors can share a group with us.
 */
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '@platformatic/kafka'
import type { TopicPartition } from '../log.ts'
import type { GroupMemberMetadata } from './group-membership.ts'

export const CONSUMER_PROTOCOL_TYPE = 'consumer'
export const RANGE_ASSIGNOR = 'range'

export function encodeSubscription(topics: readonly string[]): Buffer {
  return encodeConsumerProtocolSubscription({ version: 0, topics: [...topics].sort() })
}

export function encodeAssignment(partitions: readonly TopicPartition[]): Buffer {
  const byTopic = new Map<string, number[]>()
  for (const tp of partitions) {
    const list = byTopic.get(tp.topic) ?? []
    list.push(tp.partition)
    byTopic.set(tp.topic, list)
  }
  return encodeConsumerProtocolAssignment({
    version: 0,
    assignedPartitions: [...byTopic].map(([topic, list]) => ({
      topic,
      partitions: list.sort((a, b) => a - b),
    })),
  })
}

export function decodeAssignment(buffer: Buffer): TopicPartition[] {
  if (buffer.length === 0) return []
  const decoded = decodeConsumerProtocolAssignment(buffer)
  return decoded.assignedPartitions.flatMap((a) =>
    a.partitions.map((partition) => ({ topic: a.topic, partition })),
  )
}

/**
 * Java's RangeAssignor: per topic, the subscribed members sorted (by group instance id when
 * static, else member id) take contiguous ranges; the first `partitions % members` take one more.
 */
export function rangeAssign(
  members: readonly GroupMemberMetadata[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const result = new Map<string, TopicPartition[]>()
  const subscribers = new Map<string, { id: string; sortKey: string }[]>()
  for (const member of members) {
    result.set(member.memberId, [])
    const { topics } = decodeConsumerProtocolSubscription(member.metadata)
    for (const topic of topics) {
      const list = subscribers.get(topic) ?? []
      list.push({ id: member.memberId, sortKey: member.groupInstanceId ?? member.memberId })
      subscribers.set(topic, list)
    }
  }
  for (const [topic, list] of subscribers) {
    const count = partitionCounts.get(topic)
    if (count === undefined) continue
    list.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    const per = Math.floor(count / list.length)
    const extra = count % list.length
    list.forEach((member, i) => {
      const start = per * i + Math.min(i, extra)
      const length = per + (i < extra ? 1 : 0)
      const assigned = result.get(member.id)!
      for (let p = start; p < start + length; p++) assigned.push({ topic, partition: p })
    })
  }
  return result
}

export function subscribedTopics(members: readonly GroupMemberMetadata[]): Set<string> {
  const topics = new Set<string>()
  for (const member of members)
    for (const t of decodeConsumerProtocolSubscription(member.metadata).topics) topics.add(t)
  return topics
}
