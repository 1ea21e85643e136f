/**
 * The offsets side of `KafkaConsumer`: committing and reading a group's offsets at its coordinator
 * (OffsetCommit v8 / OffsetFetch v8), and where a partition starts (committed offset, else the
 * `auto.offset.reset` end of the log).
 */
import {
  type ConnectionPool,
  type Consumer,
  ListOffsetTimestamps,
  offsetCommitV8,
  offsetFetchV8,
} from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import { parseTpKey, type TopicPartition, tpKey } from '../log.ts'
import { hasProtocolError, toConnectError } from './errors.ts'
import type { GroupMembership } from './group-membership.ts'

type Connection = Awaited<ReturnType<ConnectionPool['get']>>

export interface GroupOffsetsOptions {
  client: Consumer
  groupId: string
  membership: GroupMembership
  coordinatorPool: ConnectionPool
  bootstrap: readonly string[]
  autoOffsetReset: 'earliest' | 'latest'
  isolationLevel: 0 | 1
}

export class GroupOffsets {
  readonly #o: GroupOffsetsOptions

  constructor(options: GroupOffsetsOptions) {
    this.#o = options
  }

  /**
   * Commits the offsets. A group member (`asMember`) commits with its generation, so the coordinator
   * refuses commits of a member whose partitions moved on; a manually assigned consumer commits as a
   * simple consumer.
   */
  async commit(offsets: ReadonlyMap<string, number>, asMember: boolean): Promise<void> {
    const { groupId, membership } = this.#o
    const byTopic = new Map<
      string,
      { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number }[]
    >()
    for (const [key, offset] of offsets) {
      const { topic, partition } = parseTpKey(key)
      const list = byTopic.get(topic) ?? []
      list.push({ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1 })
      byTopic.set(topic, list)
    }
    const generation = asMember ? membership.generation : undefined
    if (asMember && generation === undefined) {
      throw new ConnectError(
        'CONFLICT',
        `cannot commit offsets of group '${groupId}': the consumer is rebalancing; its partitions may have moved`,
      )
    }
    try {
      await this.withCoordinator(async (connection) =>
        offsetCommitV8.api.async(
          connection,
          groupId,
          generation?.generationId ?? -1,
          generation?.memberId ?? '',
          null,
          [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        ),
      )
    } catch (error) {
      // Fenced (session expired, removed from the group): the partitions are lost at the next poll.
      // Rebalancing: they are revoked at the next poll (Java's CommitFailedException and
      // RebalanceInProgressException).
      const fenced = membership.loseIfFenced(error)
      if (fenced || hasProtocolError(error, 'REBALANCE_IN_PROGRESS')) {
        if (!fenced) membership.requestRejoin('commit refused by the coordinator')
        throw new ConnectError(
          'CONFLICT',
          `cannot commit offsets of group '${groupId}': the group rebalanced and these partitions may now belong to another member`,
          { cause: error },
        )
      }
      throw toConnectError(error, {
        operation: `committing offsets of group '${groupId}'`,
        bootstrap: this.#o.bootstrap,
      })
    }
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    try {
      return await fetchCommitted(this.#o.groupId, partitions, (fn) => this.withCoordinator(fn))
    } catch (error) {
      throw toConnectError(error, {
        operation: `reading committed offsets of group '${this.#o.groupId}'`,
        bootstrap: this.#o.bootstrap,
      })
    }
  }

  /** Committed offsets, else the reset policy's offsets. */
  async initialPositions(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    if (partitions.length === 0) return new Map()
    const positions = await fetchCommitted(this.#o.groupId, partitions, (fn) => this.withCoordinator(fn))
    const missing = partitions.filter((tp) => !positions.has(tpKey(tp)))
    if (missing.length > 0) {
      const reset = await this.resetOffsets(missing)
      for (const [key, offset] of reset) positions.set(key, offset)
    }
    return positions
  }

  /** The offsets `auto.offset.reset` points at: the log start (earliest) or end (latest). */
  async resetOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
    const offsets = await this.#o.client.listOffsets({
      topics: [...byTopic.keys()],
      partitions: Object.fromEntries(byTopic),
      timestamp:
        this.#o.autoOffsetReset === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
      isolationLevel: this.#o.isolationLevel,
    })
    const result = new Map<string, number>()
    for (const tp of partitions) {
      const offset = offsets.get(tp.topic)?.[tp.partition]
      if (offset !== undefined) result.set(tpKey(tp), Number(offset))
    }
    return result
  }

  /** Runs a request at the group's coordinator, locating it again when it moved. */
  async withCoordinator<T>(fn: (connection: Connection) => Promise<T>): Promise<T> {
    const { membership, coordinatorPool } = this.#o
    for (let attempt = 0; ; attempt++) {
      try {
        const broker = await membership.coordinator()
        return await fn(await coordinatorPool.get(broker))
      } catch (error) {
        const moved = hasProtocolError(
          error,
          'NOT_COORDINATOR',
          'COORDINATOR_NOT_AVAILABLE',
          'COORDINATOR_LOAD_IN_PROGRESS',
        )
        if (!moved || attempt >= 20) throw error
        membership.invalidateCoordinator()
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)))
      }
    }
  }
}

/** Committed offsets of a group (OffsetFetch v8); partitions without one are absent. */
export async function fetchCommitted(
  groupId: string,
  partitions: readonly TopicPartition[] | null,
  withCoordinator: <T>(fn: (connection: Connection) => Promise<T>) => Promise<T>,
): Promise<Map<string, number>> {
  let topics: { name: string; partitionIndexes: number[] }[] | null = null
  if (partitions !== null) {
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
    topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
    if (topics.length === 0) return new Map()
  }
  const response = await withCoordinator((connection) =>
    offsetFetchV8.api.async(connection, [{ groupId, memberId: null, memberEpoch: -1, topics }], false),
  )
  const result = new Map<string, number>()
  for (const group of response.groups) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n)
          result.set(tpKey({ topic: topic.name, partition: p.partitionIndex }), Number(p.committedOffset))
      }
    }
  }
  return result
}
