/**
 * Membership of a Kafka group under the classic rebalance protocol (KIP-62 / KIP-345 / KIP-394),
 * on the raw JoinGroup v9, SyncGroup v5, Heartbeat v4 and LeaveGroup v5 APIs (Kafka 3.3+).
 *
 * Protocol-type agnostic: the caller brings the protocol type ('consumer' for sink consumers,
 * 'connect' for Kafka Connect's distributed herder), the sub-protocols with their metadata, and the
 * leader's assignment function; this module only runs the state machine:
 *
 *   join()  ──JoinGroup──▶ (MEMBER_ID_REQUIRED: retry with the given id)
 *           ──leader assigns──▶ SyncGroup ──▶ generation + this member's assignment, heartbeats start
 *   heartbeats ──REBALANCE_IN_PROGRESS──▶ `rejoinNeeded`; heartbeats go on (they keep the session
 *               alive) until the owner calls join() again, so the owner decides *when* to give up
 *               its assignment (e.g. after committing offsets). The coordinator does not complete the
 *               rebalance before every member rejoined or the rebalance timeout passed, which is what
 *               makes "revoke before another member gets the partition" hold under the eager protocol.
 *   heartbeats (or the owner's commits, `loseIfFenced`) ──UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION /
 *               FENCED_INSTANCE_ID──▶ membership lost: `generation` is undefined until the next join,
 *               and the owner's partitions are lost rather than revoked (another member may own them).
 *   leave() ──LeaveGroup──▶ the coordinator rebalances the others at once.
 *
 * JoinGroup blocks on the broker until the rebalance completes, so the connection pool given here
 * should serve group requests only, with a request timeout above the rebalance timeout.
 */
import {
  type Broker,
  type ClusterMetadata,
  type Connection,
  type ConnectionPool,
  findCoordinatorV4,
  heartbeatV4,
  joinGroupV9,
  leaveGroupV5,
  syncGroupV5,
} from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import { hasProtocolError, protocolErrorId } from './errors.ts'

export interface GroupSubProtocol {
  name: string
  metadata: Buffer
}

export interface GroupMemberMetadata {
  memberId: string
  groupInstanceId: string | null
  metadata: Buffer
}

/** What the leader learns from JoinGroup, to compute every member's assignment. */
export interface LeaderContext {
  generationId: number
  protocolName: string
  leaderId: string
  members: GroupMemberMetadata[]
}

export interface Generation {
  generationId: number
  memberId: string
  protocolName: string
  leaderId: string
  isLeader: boolean
  /** This member's assignment, encoded by the sub-protocol. */
  assignment: Buffer
}

export interface GroupMembershipOptions {
  groupId: string
  /** 'consumer', 'connect', … — fixed for the group's lifetime. */
  protocolType: string
  /** Static membership (KIP-345). @default null */
  groupInstanceId?: string | null
  /** @default 45000 (Java's session.timeout.ms) */
  sessionTimeoutMs?: number
  /** How long the coordinator waits for members to rejoin. @default 300000 (Java's max.poll.interval.ms) */
  rebalanceTimeoutMs?: number
  /** @default 3000 */
  heartbeatIntervalMs?: number
  /** Connections for group requests only (see the module comment). */
  pool: ConnectionPool
  /** Current cluster metadata (brokers), e.g. from the owning client. */
  metadata(): Promise<ClusterMetadata>
  /** Told when a heartbeat learns the member must rejoin (or lost its membership). */
  onRejoinNeeded?(reason: string): void
}

const COORDINATOR_ERRORS = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS']
const GROUP_KEY_TYPE = 0

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code
  return (
    code === 'PLT_KFK_NETWORK' ||
    code === 'PLT_KFK_TIMEOUT' ||
    (protocolErrorId(error) === undefined && /connection|closed|timed out/i.test(String(error)))
  )
}

export class GroupMembership {
  readonly groupId: string
  readonly protocolType: string
  readonly #instanceId: string | null
  readonly #sessionTimeoutMs: number
  readonly #rebalanceTimeoutMs: number
  readonly #heartbeatIntervalMs: number
  readonly #pool: ConnectionPool
  readonly #metadata: () => Promise<ClusterMetadata>
  readonly #onRejoinNeeded: ((reason: string) => void) | undefined

  #coordinator: Broker | undefined
  #memberId = ''
  #generation: Generation | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #rejoinReason: string | undefined
  #closed = false
  /** When the coordinator last confirmed this member (join or heartbeat), `performance.now()` ms. */
  #lastConfirmed = 0

  constructor(options: GroupMembershipOptions) {
    this.groupId = options.groupId
    this.protocolType = options.protocolType
    this.#instanceId = options.groupInstanceId ?? null
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000
    this.#rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 300_000
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000
    this.#pool = options.pool
    this.#metadata = options.metadata
    this.#onRejoinNeeded = options.onRejoinNeeded
  }

  /** The current generation, or undefined while not a member (before join, after a loss). */
  get generation(): Generation | undefined {
    return this.#generation
  }

  /**
   * How long since the coordinator last confirmed this member. Beyond the session timeout the
   * coordinator has dropped it, whatever the member believes: its work may run elsewhere already.
   */
  get msSinceConfirmed(): number {
    return this.#lastConfirmed === 0 ? Number.POSITIVE_INFINITY : performance.now() - this.#lastConfirmed
  }

  get sessionTimeoutMs(): number {
    return this.#sessionTimeoutMs
  }

  /** Why the member must rejoin, or undefined while its generation is current. */
  get rejoinReason(): string | undefined {
    return this.#rejoinReason
  }

  /** The coordinator broker, located on first use. */
  async coordinator(): Promise<Broker> {
    if (this.#coordinator !== undefined) return this.#coordinator
    const metadata = await this.#metadata()
    const brokers = [...metadata.brokers.values()]
    const connection = await this.#pool.getFirstAvailable(brokers)
    const response = await findCoordinatorV4.api.async(connection, GROUP_KEY_TYPE, [this.groupId])
    const found = response.coordinators[0]
    this.#coordinator = { host: found.host, port: found.port }
    return this.#coordinator
  }

  /** Forgets the coordinator so the next request locates it again (after NOT_COORDINATOR, a lost connection…). */
  invalidateCoordinator(): void {
    this.#coordinator = undefined
  }

  async connection(): Promise<Connection> {
    return this.#pool.get(await this.coordinator())
  }

  /**
   * Joins (or rejoins) the group and returns the new generation. When this member is elected
   * leader, `assign` computes every member's assignment (keyed by member id).
   * Retries coordinator moves and the member-id handshake; rejects on other errors.
   */
  async join(
    protocols: readonly GroupSubProtocol[],
    assign: (leader: LeaderContext) => Promise<Map<string, Buffer>> | Map<string, Buffer>,
    reason: string | null = null,
  ): Promise<Generation> {
    this.#stopHeartbeats()
    this.#generation = undefined
    let backoff = 50
    for (;;) {
      if (this.#closed) throw new ConnectError('CONNECT', `the member of group '${this.groupId}' is closed`)
      try {
        const generation = await this.#joinOnce(protocols, assign, reason)
        this.#generation = generation
        this.#rejoinReason = undefined
        this.#lastConfirmed = performance.now()
        this.#scheduleHeartbeat()
        return generation
      } catch (error) {
        const id = protocolErrorId(error)
        if (id === 'MEMBER_ID_REQUIRED') {
          // The normal first-join handshake (KIP-394): the response carries our member id.
          this.#memberId = this.#memberIdFrom(error) ?? this.#memberId
          continue
        }
        if (id === 'UNKNOWN_MEMBER_ID' || id === 'FENCED_INSTANCE_ID') {
          this.#memberId = ''
          continue
        }
        if (id === 'REBALANCE_IN_PROGRESS' || id === 'ILLEGAL_GENERATION') continue
        if ((id !== undefined && COORDINATOR_ERRORS.includes(id)) || isConnectionError(error)) {
          this.invalidateCoordinator()
          await new Promise((resolve) => setTimeout(resolve, backoff))
          backoff = Math.min(backoff * 2, 1000)
          continue
        }
        throw error
      }
    }
  }

  #memberIdFrom(error: unknown): string | undefined {
    const response = (error as { response?: { memberId?: string } }).response
    if (response?.memberId) return response.memberId
    for (const inner of (error as { errors?: unknown[] }).errors ?? []) {
      const id = (inner as { memberId?: string }).memberId
      if (id) return id
    }
    return undefined
  }

  async #joinOnce(
    protocols: readonly GroupSubProtocol[],
    assign: (leader: LeaderContext) => Promise<Map<string, Buffer>> | Map<string, Buffer>,
    reason: string | null,
  ): Promise<Generation> {
    const connection = await this.connection()
    const joined = await joinGroupV9.api.async(
      connection,
      this.groupId,
      this.#sessionTimeoutMs,
      this.#rebalanceTimeoutMs,
      this.#memberId,
      this.#instanceId,
      this.protocolType,
      protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      reason,
    )
    this.#memberId = joined.memberId
    const protocolName = joined.protocolName ?? ''
    const isLeader = joined.leader === joined.memberId && !joined.skipAssignment
    let assignments: { memberId: string; assignment: Buffer }[] = []
    if (isLeader) {
      const computed = await assign({
        generationId: joined.generationId,
        protocolName,
        leaderId: joined.leader,
        members: joined.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId ?? null,
          metadata: m.metadata,
        })),
      })
      assignments = [...computed].map(([memberId, assignment]) => ({ memberId, assignment }))
    }
    const synced = await syncGroupV5.api.async(
      connection,
      this.groupId,
      joined.generationId,
      joined.memberId,
      this.#instanceId,
      this.protocolType,
      protocolName,
      assignments,
    )
    return {
      generationId: joined.generationId,
      memberId: joined.memberId,
      protocolName,
      leaderId: joined.leader,
      isLeader: joined.leader === joined.memberId,
      assignment: synced.assignment,
    }
  }

  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeat().catch(() => {})
    }, this.#heartbeatIntervalMs)
    this.#heartbeatTimer.unref()
  }

  #stopHeartbeats(): void {
    clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = undefined
  }

  async #heartbeat(): Promise<void> {
    const generation = this.#generation
    if (generation === undefined || this.#closed) return
    try {
      const connection = await this.connection()
      await heartbeatV4.api.async(
        connection,
        this.groupId,
        generation.generationId,
        generation.memberId,
        this.#instanceId,
      )
      if (this.#generation === generation) this.#lastConfirmed = performance.now()
    } catch (error) {
      if (this.#generation !== generation) return // a rejoin started meanwhile
      if (hasProtocolError(error, 'REBALANCE_IN_PROGRESS')) {
        this.#needRejoin('the group is rebalancing')
      } else if (this.loseIfFenced(error)) {
        return // no more heartbeats for a generation that is gone
      } else {
        this.invalidateCoordinator()
      }
    }
    if (this.#generation === generation && this.#heartbeatTimer !== undefined) this.#scheduleHeartbeat()
  }

  /**
   * When the coordinator answered a request of this member with UNKNOWN_MEMBER_ID,
   * ILLEGAL_GENERATION or FENCED_INSTANCE_ID, the generation is gone (session expired, fenced,
   * removed): forgets it, so the owner treats what it held as lost, and asks for a rejoin. Returns
   * whether it was such an error.
   */
  loseIfFenced(error: unknown): boolean {
    if (!hasProtocolError(error, 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'))
      return false
    if (this.#generation === undefined) return true
    if (hasProtocolError(error, 'UNKNOWN_MEMBER_ID')) this.#memberId = ''
    this.#stopHeartbeats()
    this.#generation = undefined
    this.#lastConfirmed = 0
    this.#needRejoin(`membership lost (${protocolErrorId(error)})`)
    return true
  }

  #needRejoin(reason: string): void {
    const first = this.#rejoinReason === undefined
    this.#rejoinReason = reason
    if (first) this.#onRejoinNeeded?.(reason)
  }

  /** Asks for a rejoin from the owner's side (e.g. its subscription changed). */
  requestRejoin(reason: string): void {
    this.#needRejoin(reason)
  }

  /**
   * Leaves the group (so the others rebalance at once) and stops heartbeats. Idempotent. With
   * `rejoinLater` the member may join again afterwards (as a new member).
   */
  async leave(reason = 'the member is closing', rejoinLater = false): Promise<void> {
    this.#stopHeartbeats()
    const memberId = this.#memberId
    this.#generation = undefined
    this.#memberId = ''
    this.#lastConfirmed = 0
    if (!rejoinLater) this.#closed = true
    if (memberId === '') return
    try {
      const connection = await this.connection()
      await leaveGroupV5.api.async(connection, this.groupId, [
        { memberId, groupInstanceId: this.#instanceId, reason },
      ])
    } catch (error) {
      // A member the coordinator already dropped has nothing to leave.
      if (!hasProtocolError(error, 'UNKNOWN_MEMBER_ID')) throw error
    }
  }
}
