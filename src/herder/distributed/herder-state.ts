/**
 * What the parts of the distributed herder share: the worker's place in the group, the work it
 * owns, and the queue its state-changing operations run in (Kafka Connect's herder thread).
 */
import { ConnectError } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import type { TaskId } from '../../common/states.ts'
import type { DistributedConfig } from '../../config/distributed-config.ts'
import type { GroupMembership } from '../../log/kafka/group-membership.ts'
import type { Worker } from '../../runtime/worker.ts'
import type { KafkaConfigStore } from '../../storage/kafka/kafka-config-store.ts'
import type { KafkaStatusStore } from '../../storage/kafka/kafka-status-store.ts'
import type { ConnectProtocolName } from './connect-protocol.ts'
import type { InterWorkerTls } from './inter-worker-client.ts'

/** What the group knows of this worker now. */
export interface Membership {
  generationId: number
  memberId: string
  leaderId: string
  leaderUrl: string
  isLeader: boolean
  protocol: ConnectProtocolName
}

export interface RebalanceCounters {
  /** Rebalances this worker completed (assignments received). */
  rebalances: number
  /** Tasks this worker started (first starts and restarts alike). */
  taskStarts: number
  /** Tasks this worker stopped because they were revoked or it lost its membership. */
  taskStops: number
}

export class HerderState {
  readonly #logger: Logger
  current: Membership | undefined
  ready = false
  stopped = false
  /** Why this worker must (re)join the group; undefined when nothing asks for it. */
  rejoinRequested: string | undefined = 'joining the group'
  /** True from the start of a join until its assignment is applied. */
  inRebalance = false
  readonly ownedConnectors = new Set<string>()
  readonly ownedTasks = new Map<string, TaskId>()
  readonly counters: RebalanceCounters = { rebalances: 0, taskStarts: 0, taskStops: 0 }
  /** When the last assignment was received (epoch ms), 0 before the first. */
  lastAssignedAt = 0
  /** Wakes the herder loop (set while it waits). */
  wake: (() => void) | undefined

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** The generation (for status records), -1 while not a member. */
  get generationId(): number {
    return this.current?.generationId ?? -1
  }

  /** The worker's view may be outdated: a rebalance is pending or running. */
  get stale(): boolean {
    return this.inRebalance || this.rejoinRequested !== undefined
  }

  requestRejoin(reason: string): void {
    if (this.rejoinRequested === undefined) this.#logger.info(`rebalance needed: ${reason}`)
    this.rejoinRequested ??= reason
    this.wake?.()
  }
}

/** Kafka Connect's `RestServer.DEFAULT_REST_REQUEST_TIMEOUT_MS`. */
const REQUEST_TIMEOUT_MS = 90_000

/** State-changing operations, one at a time in order of arrival. */
export class OperationQueue {
  #queue: Promise<unknown> = Promise.resolve()

  serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation)
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * A REST request's operation: queued like the others, but the caller gets Kafka Connect's 500
   * "Request timed out" after 90 s (the operation itself still runs when its turn comes).
   */
  request<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.serial(operation)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectError('TIMEOUT', 'Request timed out')), REQUEST_TIMEOUT_MS)
    })
    return Promise.race([run, timeout]).finally(() => clearTimeout(timer))
  }
}

/** The collaborators every part of the distributed herder works with. */
export interface HerderContext {
  config: DistributedConfig
  worker: Worker
  configs: KafkaConfigStore
  status: KafkaStatusStore
  membership: GroupMembership
  logger: Logger
  state: HerderState
  queue: OperationQueue
  /** The listener's TLS settings, used as a client towards other workers. */
  tls?: InterWorkerTls
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
