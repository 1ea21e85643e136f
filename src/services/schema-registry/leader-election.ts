/**
 * Elects the one schema registry instance that writes, among the workers of a distributed cluster,
 * the way Confluent's registry does (`KafkaGroupLeaderElector`, `SchemaRegistryProtocol`): every
 * instance joins a Kafka group (`schema.registry.group.id`, default `schema-registry`) with protocol
 * type `sr` and its identity as metadata; the group's leader picks the writer among the eligible
 * members and hands everyone the same assignment:
 *
 *   identity   {"version":1,"host":h,"port":p,"scheme":"http","leader_eligibility":true}
 *   assignment {"version":1,"error":0,"leader":<member id>,"leader_identity":<identity>}
 *
 * The writer stays the same while it is a member (no needless moves on a rebalance); otherwise the
 * eligible member with the lowest id. Followers forward writes to the writer's URL. The Kafka group
 * client is given by the command line (this layer does not import the Kafka client).
 */
import type { Logger } from '../../common/logger.ts'
import type { WriterElection, WriterState } from './schema-registry.ts'

export interface ElectionGeneration {
  readonly memberId: string
  readonly isLeader: boolean
  readonly assignment: Buffer
}

/** The part of log/kafka's `GroupMembership` the election uses. */
export interface ElectionMembership {
  join(
    protocols: readonly { name: string; metadata: Buffer }[],
    assign: (leader: { members: { memberId: string; metadata: Buffer }[] }) => Map<string, Buffer>,
    reason?: string | null,
  ): Promise<ElectionGeneration>
  leave(reason?: string): Promise<void>
  readonly generation: unknown
  readonly rejoinReason: string | undefined
}

export interface RegistryIdentity {
  version: 1
  host: string
  port: number
  scheme: string
  leader_eligibility: boolean
}

export const SR_PROTOCOL_TYPE = 'sr'
const SR_PROTOCOL = 'v0'

export function identityUrl(identity: RegistryIdentity): string {
  const host = identity.host.includes(':') ? `[${identity.host}]` : identity.host
  return `${identity.scheme}://${host}:${identity.port}`
}

export class GroupWriterElection implements WriterElection {
  readonly #membership: ElectionMembership
  #identity: RegistryIdentity | undefined
  readonly #logger: Logger
  #state: WriterState = { isLeader: false, leaderUrl: null }
  #leaderMemberId: string | undefined
  #loop: Promise<void> | undefined
  #stopped = false
  #wake: (() => void) | undefined
  /** Called when this instance becomes the writer, before it writes (e.g. to read the topic to its end). */
  onElected?: () => Promise<void>

  constructor(membership: ElectionMembership, logger: Logger) {
    this.#membership = membership
    this.#logger = logger
  }

  state(): WriterState {
    return this.#state
  }

  /**
   * Joins the group with this instance's identity (known once its listener is bound) and keeps
   * rejoining when asked; resolves after the first election.
   */
  async start(identity: RegistryIdentity): Promise<void> {
    this.#identity = identity
    await this.#join(null)
    this.#loop = this.#watch()
  }

  /** Asks for a rejoin soon (the membership signals it through `rejoinReason`). */
  wake(): void {
    this.#wake?.()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    await this.#loop?.catch(() => {})
    this.#state = { isLeader: false, leaderUrl: null }
    await this.#membership.leave('the schema registry is stopping').catch(() => {})
  }

  async #watch(): Promise<void> {
    while (!this.#stopped) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve
        setTimeout(resolve, 250).unref()
      })
      if (this.#stopped) return
      const reason = this.#membership.rejoinReason
      if (reason === undefined && this.#membership.generation !== undefined) continue
      this.#state = { isLeader: false, leaderUrl: this.#state.isLeader ? null : this.#state.leaderUrl }
      try {
        await this.#join(reason ?? 'membership lost')
      } catch (error) {
        this.#logger.warn({ err: (error as Error).message }, 'schema registry election failed; retrying')
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
  }

  async #join(reason: string | null): Promise<void> {
    const generation = await this.#membership.join(
      [{ name: SR_PROTOCOL, metadata: Buffer.from(JSON.stringify(this.#identity)) }],
      (leader) => this.#assign(leader.members),
      reason,
    )
    const assignment = JSON.parse(generation.assignment.toString('utf8')) as {
      error: number
      leader: string | null
      leader_identity: RegistryIdentity | null
    }
    this.#leaderMemberId = assignment.leader ?? undefined
    if (assignment.error !== 0 || !assignment.leader || !assignment.leader_identity) {
      this.#state = { isLeader: false, leaderUrl: null }
      this.#logger.warn('schema registry election: no eligible instance; writes are refused until one joins')
      return
    }
    if (assignment.leader === generation.memberId) {
      await this.onElected?.()
      this.#state = { isLeader: true }
      this.#logger.info('this worker writes the schema registry topic (elected leader)')
    } else {
      this.#state = { isLeader: false, leaderUrl: identityUrl(assignment.leader_identity) }
    }
  }

  #assign(members: readonly { memberId: string; metadata: Buffer }[]): Map<string, Buffer> {
    const identities = members.map((m) => ({
      memberId: m.memberId,
      identity: JSON.parse(m.metadata.toString('utf8')) as RegistryIdentity,
    }))
    const eligible = identities
      .filter((m) => m.identity.leader_eligibility)
      .sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
    const leader = eligible.find((m) => m.memberId === this.#leaderMemberId) ?? eligible[0]
    const assignment = Buffer.from(
      JSON.stringify({
        version: 1,
        error: leader ? 0 : 1,
        leader: leader?.memberId ?? null,
        leader_identity: leader?.identity ?? null,
      }),
    )
    return new Map(members.map((m) => [m.memberId, assignment]))
  }
}
