/**
 * The group side of a subscribed `KafkaConsumer`: runs the classic group protocol through
 * `GroupMembership` (protocol type 'consumer', range assignor) and rejoins only inside `poll()`,
 * right after giving the partitions up through the listener — revoked while the member still has
 * its generation, lost once the coordinator dropped it (decision 0015). A pattern subscription and
 * the subscribed topics' partition counts are re-checked periodically; a change triggers a rejoin.
 */
import type { Consumer } from '@platformatic/kafka'
import type { RebalanceListener, TopicPartition } from '../log.ts'
import {
  decodeAssignment,
  encodeAssignment,
  encodeSubscription,
  RANGE_ASSIGNOR,
  rangeAssign,
  subscribedTopics,
} from './consumer-protocol.ts'
import { toConnectError } from './errors.ts'
import type { GroupMembership } from './group-membership.ts'
import type { GroupOffsets } from './group-offsets.ts'
import type { PartitionFetcher, Signal } from './partition-fetcher.ts'

export interface GroupDriverOptions {
  groupId: string
  client: Consumer
  bootstrap: readonly string[]
  listTopics(): Promise<string[]>
  membership: GroupMembership
  fetcher: PartitionFetcher
  offsets: GroupOffsets
  signal: Signal
  metadataRefreshMs: number
  /** Whether `wakeup()` was called and no poll returned for it yet. */
  woken(): boolean
  closed(): boolean
}

type RebalanceOutcome =
  | { ok: true; partitions: TopicPartition[]; positions: Map<string, number> }
  | { ok: false; error: unknown }

export class GroupDriver {
  readonly #o: GroupDriverOptions
  #subscription: readonly string[] | RegExp = []
  #listener: RebalanceListener = {}
  /** Topics and partition counts the current assignment was computed from; a change triggers a rejoin. */
  #joinedSnapshot = ''
  #rebalance: Promise<RebalanceOutcome> | undefined
  #rebalanceOutcome: RebalanceOutcome | undefined
  #rejoinBackoffUntil = 0
  #refreshTimer: NodeJS.Timeout | undefined

  constructor(options: GroupDriverOptions) {
    this.#o = options
  }

  subscribe(topics: readonly string[] | RegExp, listener: RebalanceListener): void {
    this.#subscription = topics instanceof RegExp ? topics : [...topics]
    this.#listener = listener
    // The next poll() joins (or rejoins with the new subscription).
    this.#o.membership.requestRejoin('subscription changed')
    clearInterval(this.#refreshTimer)
    this.#refreshTimer = setInterval(() => {
      this.#checkSubscription().catch(() => {})
    }, this.#o.metadataRefreshMs)
    this.#refreshTimer.unref()
  }

  stop(): void {
    clearInterval(this.#refreshTimer)
  }

  /**
   * Drives the group inside poll(): when a rejoin is due, revokes (listener first), then starts
   * the rejoin; when the rejoin completed, installs the assignment and calls `onPartitionsAssigned`.
   * Returns false when poll() should return empty (still rebalancing at the deadline, or woken up).
   */
  async maintain(deadline: number): Promise<boolean> {
    const { membership, fetcher, signal } = this.#o
    const needsJoin = membership.generation === undefined || membership.rejoinReason !== undefined
    if (this.#rebalance === undefined && needsJoin) {
      if (Date.now() < this.#rejoinBackoffUntil) {
        await signal.wait(Math.min(this.#rejoinBackoffUntil, deadline) - Date.now())
        return false
      }
      if (fetcher.size > 0) {
        await this.removeAll()
        for (const key of fetcher.keys()) fetcher.drop(key)
      }
      this.#rebalanceOutcome = undefined
      this.#rebalance = this.#rejoin().then(
        (outcome) => outcome,
        (error: unknown) => ({ ok: false as const, error }),
      )
      void this.#rebalance.then((outcome) => {
        this.#rebalanceOutcome = outcome
        signal.notify()
      })
    }
    if (this.#rebalance !== undefined) {
      while (this.#rebalanceOutcome === undefined) {
        const remaining = deadline - Date.now()
        if (remaining <= 0 || this.#o.woken()) return false
        await signal.wait(remaining)
      }
      const outcome = this.#rebalanceOutcome
      this.#rebalance = undefined
      this.#rebalanceOutcome = undefined
      if (!outcome.ok) {
        const error = toConnectError(outcome.error, {
          operation: `joining group '${this.#o.groupId}'`,
          bootstrap: this.#o.bootstrap,
        })
        if (!error.retriable) throw error
        membership.requestRejoin('the last join attempt failed')
        this.#rejoinBackoffUntil = Date.now() + 500
        return false
      }
      fetcher.install(outcome.partitions, outcome.positions)
      await this.#listener.onPartitionsAssigned?.(outcome.partitions)
      fetcher.schedulePump()
    }
    return true
  }

  /**
   * Gives up every partition through the listener: revoked while this member still has its
   * generation (the last chance to commit), lost when the generation is gone (commits would fail).
   */
  async removeAll(): Promise<void> {
    const partitions = this.#o.fetcher.assignment()
    if (this.#o.membership.generation !== undefined) {
      await this.#listener.onPartitionsRevoked?.(partitions)
    } else if (this.#listener.onPartitionsLost) {
      await this.#listener.onPartitionsLost(partitions)
    } else {
      await this.#listener.onPartitionsRevoked?.(partitions)
    }
  }

  async #rejoin(): Promise<RebalanceOutcome> {
    const topics = await this.#resolveSubscription()
    const generation = await this.#o.membership.join(
      [{ name: RANGE_ASSIGNOR, metadata: encodeSubscription(topics) }],
      async (leader) => {
        const all = [...subscribedTopics(leader.members)]
        const counts = await this.#partitionCounts(all)
        const assigned = rangeAssign(leader.members, counts)
        return new Map([...assigned].map(([member, tps]) => [member, encodeAssignment(tps)]))
      },
    )
    const partitions = decodeAssignment(generation.assignment)
    this.#joinedSnapshot = await this.#snapshot(topics)
    const positions = await this.#o.offsets.initialPositions(partitions)
    return { ok: true, partitions, positions }
  }

  async #resolveSubscription(): Promise<string[]> {
    const subscription = this.#subscription
    if (!(subscription instanceof RegExp)) return [...subscription]
    const all = await this.#o.listTopics()
    return all.filter((t) => {
      subscription.lastIndex = 0
      return subscription.test(t)
    })
  }

  async #partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    // Topics that do not exist (yet) get no partitions; a later metadata check triggers a rejoin.
    for (const topic of topics) {
      try {
        const metadata = await this.#o.client.metadata({ topics: [topic] })
        counts.set(topic, metadata.topics.get(topic)!.partitionsCount)
      } catch {
        // missing topic
      }
    }
    return counts
  }

  async #snapshot(topics: readonly string[]): Promise<string> {
    const counts = await this.#partitionCounts(topics)
    return [...topics]
      .sort()
      .map((t) => `${t}:${counts.get(t) ?? 0}`)
      .join(',')
  }

  /** Rejoins when the pattern matches other topics or a subscribed topic's partition count changed. */
  async #checkSubscription(): Promise<void> {
    const { membership } = this.#o
    if (this.#o.closed() || membership.generation === undefined) return
    if (this.#rebalance !== undefined) return
    const snapshot = await this.#snapshot(await this.#resolveSubscription())
    if (snapshot !== this.#joinedSnapshot && membership.generation !== undefined) {
      membership.requestRejoin('subscribed topics changed')
    }
  }
}
