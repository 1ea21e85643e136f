/**
 * Membership of the `connect` group (Kafka Connect's `WorkerCoordinator` and the rebalance half of
 * `DistributedHerder`): the worker offers `sessioned`/`compatible`/`default` with its URL, config
 * offset and current allocation; the coordinator's chosen leader assigns (incremental cooperative,
 * or eager under `default`). Assignments name only what moves: revoked items stop, assigned ones
 * start, everything else keeps running. A member with revocations rejoins at once; a `delay`
 * schedules a rejoin after it.
 *
 * Zombie safety: when the coordinator has not confirmed this member for a session timeout (or
 * dropped it), everything it runs is stopped before it rejoins, so work is never run twice longer
 * than the coordinator's own session timeout allows.
 */
import { errorMessage } from '../../api/errors.ts'
import type { TaskId } from '../../common/states.ts'
import type { Generation, LeaderContext } from '../../log/kafka/group-membership.ts'
import {
  type Allocation,
  CONFIG_MISMATCH,
  type ConnectAssignment,
  type ConnectProtocolName,
  decodeAssignment,
  decodeMetadata,
  emptyAllocation,
  encodeAssignment,
  encodeMetadata,
  NO_ERROR,
  offeredProtocols,
  taskKey,
} from './connect-protocol.ts'
import { type HerderContext, sleep } from './herder-state.ts'
import { eagerAssign, IncrementalCooperativeAssignor } from './incremental-assignor.ts'
import type { RunningWork } from './running-work.ts'
import type { TaskConfigPublisher } from './task-config-publisher.ts'

/** How often the watchdog checks the membership, independently of the herder loop. */
const WATCHDOG_INTERVAL_MS = 200

export class Rebalancer {
  readonly #c: HerderContext
  readonly #work: RunningWork
  readonly #publisher: TaskConfigPublisher
  readonly #assignor: IncrementalCooperativeAssignor
  readonly #offered: ConnectProtocolName[]
  #url = ''
  #loop: Promise<void> | undefined
  #scheduledRejoinAt = 0
  /** True while a JoinGroup/SyncGroup round is in flight. */
  #joining = false
  #watchdog: NodeJS.Timeout | undefined
  /** Leader only: member id → URL and the full allocation after the last round. */
  #memberUrls = new Map<string, string>()
  #fullAssignment = new Map<string, Allocation>()

  constructor(context: HerderContext, work: RunningWork, publisher: TaskConfigPublisher) {
    this.#c = context
    this.#work = work
    this.#publisher = publisher
    this.#assignor = new IncrementalCooperativeAssignor({
      maxDelayMs: context.config.getInt('scheduled.rebalance.max.delay.ms'),
    })
    this.#offered = offeredProtocols(
      context.config.getString('connect.protocol') as 'eager' | 'compatible' | 'sessioned',
    )
  }

  /** This worker's advertised REST URL (known once the REST server listens). */
  set url(url: string) {
    this.#url = url
  }

  /** Starts the herder loop: join, apply assignments, watch the membership. */
  start(): void {
    this.#loop = this.#run()
    this.#watchdog = setInterval(() => {
      if (this.#c.state.stopped || !this.#membershipLost()) return
      this.#fence().catch((error: unknown) => this.#c.logger.error(`fencing failed: ${errorMessage(error)}`))
    }, WATCHDOG_INTERVAL_MS)
    this.#watchdog.unref()
  }

  /** Ends the watchdog; the loop ends on its own once `state.stopped` is set. */
  stop(): void {
    clearInterval(this.#watchdog)
    this.#c.state.wake?.()
  }

  /** Resolves once the loop has ended (after `state.stopped` is set and the loop is woken). */
  get loop(): Promise<void> {
    return this.#loop ?? Promise.resolve()
  }

  /** The leader's knowledge of who runs what: the URL of the member whose allocation `owns` matches. */
  /** Every member's advertised URL, as the leader last saw them join (empty on other workers). */
  otherMemberUrls(): string[] {
    return [...new Set(this.#memberUrls.values())].filter((url) => url !== this.#url)
  }

  ownerUrl(owns: (a: Allocation) => boolean): string | null | undefined {
    for (const [member, allocation] of this.#fullAssignment) {
      if (owns(allocation)) return this.#memberUrls.get(member) ?? null
    }
    return undefined
  }

  async #run(): Promise<void> {
    let backoff = 100
    while (!this.#c.state.stopped) {
      try {
        await this.#checkMembership()
        if (this.#scheduledRejoinAt !== 0 && Date.now() >= this.#scheduledRejoinAt) {
          this.#scheduledRejoinAt = 0
          this.#c.state.requestRejoin('the scheduled rebalance delay ran out')
        }
        const reason = this.#c.membership.rejoinReason
        if (reason !== undefined) this.#c.state.requestRejoin(reason)
        if (this.#c.state.rejoinRequested !== undefined) {
          await this.#rebalance()
          backoff = 100
          continue
        }
        if (this.#c.state.current?.isLeader)
          await this.#c.queue.serial(() => this.#publisher.maybeRotateSessionKey())
      } catch (error) {
        if (this.#c.state.stopped) break
        this.#c.logger.warn(`herder loop: ${errorMessage(error)}; retrying in ${backoff} ms`)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 5000)
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250)
        this.#c.state.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#c.state.wake = undefined
    }
  }

  /**
   * Zombie safety: a member the coordinator no longer vouches for stops its work before rejoining.
   * Checked by the loop and by a watchdog of its own: the loop may be waiting for the queue (an
   * assignment behind a slow operation), and fencing waits for nothing (Kafka Connect's herder
   * thread likewise stops work on a lost membership without waiting for queued requests).
   */
  async #checkMembership(): Promise<void> {
    if (this.#membershipLost()) await this.#fence()
  }

  #membershipLost(): boolean {
    // While a join runs the member has no generation, yet keeps its work (incremental cooperative
    // rebalancing): the coordinator holds the session of a member in a join.
    if (this.#c.state.current === undefined || this.#joining) return false
    // The coordinator expires the session `session.timeout.ms` after the last heartbeat it got,
    // which is no earlier than the last one confirmed here: giving up one heartbeat interval
    // sooner stops the tasks before the coordinator can hand them to anyone else.
    const session = this.#c.membership.sessionTimeoutMs
    const margin = Math.min(this.#c.config.getInt('heartbeat.interval.ms'), session / 2)
    return (
      this.#c.membership.generation === undefined || this.#c.membership.msSinceConfirmed > session - margin
    )
  }

  async #fence(): Promise<void> {
    this.#c.logger.warn(
      `lost membership in group '${this.#c.config.groupId}' (no confirmation for ${Math.round(this.#c.membership.msSinceConfirmed)} ms): stopping all connectors and tasks`,
    )
    // From here on nothing starts (RunningWork refuses while there is no current generation).
    this.#c.state.current = undefined
    this.#c.state.rejoinRequested ??= 'membership lost'
    this.#c.state.wake?.()
    await this.#work.stopEverything('membership lost')
    this.#assignor.reset()
  }

  async #rebalance(): Promise<void> {
    const previousProtocol = this.#c.state.current?.protocol
    // Under the eager protocol everything is given up before joining.
    if (previousProtocol === 'default') await this.#work.stopEverything('eager rebalance')
    try {
      await this.#c.configs.readToEnd(this.#c.config.getInt('worker.sync.timeout.ms'))
    } catch {
      // Join with what we have; the leader answers CONFIG_MISMATCH if it matters.
    }
    // Work given up (fenced, eager) is stopped before this member asks for new work.
    await this.#work.settled
    if (this.#c.state.stopped) return
    const allocation = this.#allocation()
    const protocols = this.#offered.map((name) => ({
      name,
      metadata: encodeMetadata(name, { url: this.#url, configOffset: this.#c.configs.offset, allocation }),
    }))
    const reason = this.#c.state.rejoinRequested ?? null
    this.#c.state.rejoinRequested = undefined
    this.#c.state.inRebalance = true
    try {
      this.#joining = true
      let generation: Generation
      try {
        generation = await this.#c.membership.join(protocols, (ctx) => this.#assign(ctx), reason)
      } finally {
        this.#joining = false
      }
      await this.#c.queue.serial(() => this.#onAssigned(generation))
    } catch (error) {
      this.#c.state.rejoinRequested ??= `the last join failed: ${errorMessage(error)}`
      throw error
    } finally {
      this.#c.state.inRebalance = false
    }
  }

  #allocation(): Allocation {
    return { connectors: [...this.#c.state.ownedConnectors], tasks: [...this.#c.state.ownedTasks.values()] }
  }

  /** The leader's assignment of the generation. */
  async #assign(ctx: LeaderContext): Promise<Map<string, Buffer>> {
    const protocol = ctx.protocolName as ConnectProtocolName
    const members = ctx.members.map((m) => ({ memberId: m.memberId, ...decodeMetadata(m.metadata) }))
    const leaderUrl = members.find((m) => m.memberId === ctx.leaderId)?.url ?? this.#url
    const maxOffset = Math.max(...members.map((m) => m.configOffset))
    if (this.#c.configs.offset < maxOffset) {
      await this.#c.configs.readToEnd(this.#c.config.getInt('worker.sync.timeout.ms')).catch(() => {})
    }
    const offset = this.#c.configs.offset
    const out = new Map<string, Buffer>()
    const base = { leader: ctx.leaderId, leaderUrl, configOffset: offset, delay: 0 }
    if (offset < maxOffset) {
      this.#c.logger.warn(`leader is behind the config topic (${offset} < ${maxOffset}): CONFIG_MISMATCH`)
      for (const m of members) {
        out.set(
          m.memberId,
          encodeAssignment(protocol, {
            ...base,
            error: CONFIG_MISMATCH,
            assigned: emptyAllocation(),
            revoked: emptyAllocation(),
          }),
        )
      }
      return out
    }
    const configured = { connectors: this.#c.configs.connectors(), tasks: [] as TaskId[] }
    for (const name of configured.connectors) {
      for (let task = 0; task < this.#c.configs.taskCount(name); task++)
        configured.tasks.push({ connector: name, task })
    }
    this.#memberUrls = new Map(members.map((m) => [m.memberId, m.url]))
    if (protocol === 'default') {
      const full = eagerAssign(
        members.map((m) => m.memberId),
        configured,
      )
      this.#fullAssignment = full
      for (const [id, assigned] of full) {
        out.set(
          id,
          encodeAssignment(protocol, { ...base, error: NO_ERROR, assigned, revoked: emptyAllocation() }),
        )
      }
      return out
    }
    const result = this.#assignor.assign(ctx.generationId, members, configured)
    this.#fullAssignment = this.#assignor.current()
    for (const [id, a] of result) {
      out.set(
        id,
        encodeAssignment(protocol, {
          ...base,
          error: NO_ERROR,
          assigned: a.assigned,
          revoked: a.revoked,
          delay: a.delay,
        }),
      )
      if (
        a.revoked.connectors.length +
          a.revoked.tasks.length +
          a.assigned.connectors.length +
          a.assigned.tasks.length >
        0
      ) {
        this.#c.logger.debug(
          `generation ${ctx.generationId}: ${id} +${a.assigned.connectors.length}c/${a.assigned.tasks.length}t -${a.revoked.connectors.length}c/${a.revoked.tasks.length}t delay ${a.delay}`,
        )
      }
    }
    return out
  }

  async #onAssigned(generation: Generation): Promise<void> {
    // A late assignment: the worker began stopping, or lost the generation while this waited in the
    // queue; its work may already run elsewhere.
    if (this.#c.state.stopped) return
    if (this.#c.membership.generation?.generationId !== generation.generationId) {
      this.#c.state.rejoinRequested ??= `generation ${generation.generationId} ended before its assignment was applied`
      return
    }
    const protocol = generation.protocolName as ConnectProtocolName
    const assignment: ConnectAssignment = decodeAssignment(generation.assignment)
    if (!generation.isLeader) this.#assignor.reset()
    this.#c.state.current = {
      generationId: generation.generationId,
      memberId: generation.memberId,
      leaderId: assignment.leader,
      leaderUrl: assignment.leaderUrl,
      isLeader: generation.isLeader,
      protocol,
    }
    this.#c.state.counters.rebalances++
    this.#c.state.lastAssignedAt = Date.now()
    if (assignment.error === CONFIG_MISMATCH) {
      this.#c.state.rejoinRequested ??= 'config mismatch with the leader'
      await this.#c.configs.readToEnd().catch(() => {})
      return
    }
    if (this.#c.configs.offset < assignment.configOffset) {
      try {
        await this.#c.configs.readToEnd(this.#c.config.getInt('worker.sync.timeout.ms'))
      } catch {
        // Kafka Connect leaves the group when it cannot catch up; rejoining later is equivalent here.
      }
      if (this.#c.configs.offset < assignment.configOffset) {
        this.#c.logger.warn(
          `could not read the config topic up to the leader's offset ${assignment.configOffset} (at ${this.#c.configs.offset}); rejoining`,
        )
        this.#c.state.rejoinRequested ??= 'behind the leader on the config topic'
        return
      }
    }
    const revoked = assignment.revoked
    let assigned = assignment.assigned
    if (protocol === 'default') {
      await this.#work.stopEverything('eager assignment')
      assigned = assignment.assigned
    }
    // Revoked work stops first: tasks, then connectors.
    const revokedTasks = revoked.tasks.filter((t) => this.#c.state.ownedTasks.has(taskKey(t)))
    if (revokedTasks.length > 0) {
      await this.#c.worker.stopTasks(revokedTasks)
      this.#c.state.counters.taskStops += revokedTasks.length
      for (const t of revokedTasks) this.#c.state.ownedTasks.delete(taskKey(t))
    }
    for (const c of revoked.connectors) {
      if (!this.#c.state.ownedConnectors.delete(c)) continue
      await this.#c.worker.stopConnector(c)
    }
    for (const name of new Set([...revoked.connectors, ...revoked.tasks.map((t) => t.connector)])) {
      if (this.#c.configs.connectorConfig(name) === undefined) this.#c.status.onConnectorDestroyed(name)
    }
    // Then what is new here starts.
    const newConnectors = assigned.connectors.filter((c) => !this.#c.state.ownedConnectors.has(c))
    for (const c of newConnectors) this.#c.state.ownedConnectors.add(c)
    for (const t of assigned.tasks) {
      if (this.#c.state.ownedTasks.has(taskKey(t))) continue
      this.#c.state.ownedTasks.set(taskKey(t), t)
      this.#work.startTask(t)
    }
    for (const c of newConnectors) await this.#work.startConnector(c)
    // A revoking round is followed by another one at once, so revoked work gets its new owner.
    if (revoked.connectors.length + revoked.tasks.length > 0 && protocol !== 'default') {
      this.#c.state.rejoinRequested ??= 'revoked work must be reassigned'
    }
    this.#scheduledRejoinAt = assignment.delay > 0 ? Date.now() + assignment.delay : 0
    if (assignment.delay > 0) {
      this.#c.logger.info(
        `work of a departed worker is held for ${assignment.delay} ms before it is reassigned`,
      )
    }
    if (generation.isLeader) await this.#publisher.maybeRotateSessionKey()
    this.#c.logger.info(
      `generation ${generation.generationId} (${protocol}${generation.isLeader ? ', leader' : ''}): running ${this.#c.state.ownedConnectors.size} connectors, ${this.#c.state.ownedTasks.size} tasks`,
    )
    this.#c.state.ready = true
  }
}
