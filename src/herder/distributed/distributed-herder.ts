/**
 * The herder of a distributed worker (Kafka Connect's `DistributedHerder`): workers sharing a
 * `group.id` divide connectors and tasks among themselves through a `connect` group on Kafka's
 * coordinator, and share configs, offsets and status through the three internal topics.
 *
 * - Membership: the worker offers `sessioned`/`compatible`/`default` with its URL, config offset and
 *   current allocation; the coordinator's chosen leader assigns (incremental cooperative, or eager
 *   under `default`). Assignments name only what moves: revoked items stop, assigned ones start,
 *   everything else keeps running. A member with revocations rejoins at once; a `delay` schedules
 *   a rejoin after it.
 * - Configs: the leader is the only writer of connector and task configs (other workers' REST
 *   requests are forwarded to it by the REST layer, see `RequestTargetError`); target states are
 *   written by whichever worker gets pause/resume. Every worker tails the config topic and reacts:
 *   new/removed connectors and new task configs trigger a rebalance, changed configs restart in place.
 * - A connector's owner generates its task configs; the leader writes them, others post them to
 *   the leader's internal endpoint, signed with the session key under `sessioned`.
 * - Zombie safety: when the coordinator has not confirmed this member for a session timeout (or
 *   dropped it), everything it runs is stopped before it rejoins, so work is never run twice
 *   longer than the coordinator's own session timeout allows.
 *
 * Operations that change state run one at a time (`#serial`), like Kafka Connect's herder thread;
 * the group join itself runs outside it so REST calls answer 409 during a rebalance instead of waiting.
 */
import type { Props, SinkConnector, SourceConnector } from '../../api/connector.ts'
import {
  AlreadyExistsError,
  ConfigError,
  ConnectError,
  errorMessage,
  errorTrace,
  NotFoundError,
} from '../../api/errors.ts'
import type { PluginDescriptor } from '../../api/plugin.ts'
import type { OffsetMap } from '../../api/records.ts'
import type { Logger } from '../../common/logger.ts'
import type { TargetState, TaskId } from '../../common/states.ts'
import type { DistributedConfig } from '../../config/distributed-config.ts'
import type { Generation, GroupMembership, LeaderContext } from '../../log/kafka/group-membership.ts'
import { parseTpKey } from '../../log/log.ts'
import {
  type ConfigInfos,
  invalidConfigMessage,
  validateConnectorConfig,
} from '../../runtime/config-validation.ts'
import type { ErrorMetrics } from '../../runtime/errors/error-handler.ts'
import type { Worker } from '../../runtime/worker.ts'
import type { KafkaConfigStore, RestartRequest } from '../../storage/kafka/kafka-config-store.ts'
import type { KafkaOffsetStore } from '../../storage/kafka/kafka-offset-store.ts'
import type { KafkaStatusStore } from '../../storage/kafka/kafka-status-store.ts'
import { offsetKey, parseOffsetKey } from '../../storage/offset-store.ts'
import type {
  ConnectorInfo,
  ConnectorOffset,
  ConnectorStateInfo,
  Herder,
  TaskInfo,
  TaskStateInfo,
} from '../herder.ts'
import {
  modifiedMessage,
  parseSinkOffsets,
  parseSourceOffsets,
  sameConfigs,
} from '../standalone/standalone-herder.ts'
import {
  type ConnectorType,
  connectorOffsets,
  connectorStateInfo,
  connectorTypeOf,
  taskStateInfo,
} from '../views.ts'
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
import { eagerAssign, IncrementalCooperativeAssignor } from './incremental-assignor.ts'
import { RebalanceNeededError, RequestTargetError, rebalanceExpected } from './request-target.ts'
import { newSessionKey, sign, verify } from './session-key.ts'

export interface DistributedHerderOptions {
  config: DistributedConfig
  worker: Worker
  configStore: KafkaConfigStore
  statusStore: KafkaStatusStore
  offsetStore: KafkaOffsetStore
  membership: GroupMembership
  logger: Logger
}

/** What the group knows of this worker now. */
interface Membership {
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

export class DistributedHerder implements Herder {
  readonly #config: DistributedConfig
  readonly #worker: Worker
  readonly #configs: KafkaConfigStore
  readonly #status: KafkaStatusStore
  readonly #offsets: KafkaOffsetStore
  readonly #membership: GroupMembership
  readonly #logger: Logger
  readonly #assignor: IncrementalCooperativeAssignor
  readonly #offered: ConnectProtocolName[]
  #url = ''
  #queue: Promise<unknown> = Promise.resolve()
  #ready = false
  #stopped = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #current: Membership | undefined
  /** Why this worker must (re)join the group; undefined when nothing asks for it. */
  #rejoinRequested: string | undefined = 'joining the group'
  /** True from the start of a join until its assignment is applied. */
  #inRebalance = false
  #scheduledRejoinAt = 0
  readonly #ownedConnectors = new Set<string>()
  readonly #ownedTasks = new Map<string, TaskId>()
  /** Leader only: member id → URL and the full allocation after the last round. */
  #memberUrls = new Map<string, string>()
  #fullAssignment = new Map<string, Allocation>()
  #knownConnectors = new Set<string>()
  /** Task-config publications in flight to the leader, by connector (a newer one supersedes). */
  readonly #publishing = new Map<string, object>()
  readonly counters: RebalanceCounters = { rebalances: 0, taskStarts: 0, taskStops: 0 }

  constructor(options: DistributedHerderOptions) {
    this.#config = options.config
    this.#worker = options.worker
    this.#configs = options.configStore
    this.#status = options.statusStore
    this.#offsets = options.offsetStore
    this.#membership = options.membership
    this.#logger = options.logger
    this.#assignor = new IncrementalCooperativeAssignor({
      maxDelayMs: this.#config.getInt('scheduled.rebalance.max.delay.ms'),
    })
    this.#offered = offeredProtocols(
      this.#config.getString('connect.protocol') as 'eager' | 'compatible' | 'sessioned',
    )
  }

  /** This worker's advertised REST URL (known once the REST server listens). */
  set url(url: string) {
    this.#url = url
  }

  get ready(): boolean {
    return this.#ready
  }

  /** The generation (for status records), -1 while not a member. */
  get generationId(): number {
    return this.#current?.generationId ?? -1
  }

  get isLeader(): boolean {
    return this.#current?.isLeader === true && !this.#stale
  }

  /** The worker's view may be outdated: a rebalance is pending or running. */
  get #stale(): boolean {
    return this.#inRebalance || this.#rejoinRequested !== undefined
  }

  async start(): Promise<void> {
    this.#knownConnectors = new Set(this.#configs.connectors())
    this.#configs.listener = {
      onConnectorConfigUpdate: (name) => this.#onConnectorConfig(name),
      onConnectorConfigRemove: (name) => this.#onConnectorRemoved(name),
      onTaskConfigUpdate: (tasks) => this.#onTaskConfigs(tasks),
      onConnectorTargetStateChange: (name) => this.#onTargetState(name),
      onSessionKeyUpdate: () => {},
      onRestartRequest: (request) => this.#onRestartRequest(request),
    }
    this.#loop = this.#run()
    // Ready once the first assignment is applied (GET /health answers 503 before).
    const deadline = Date.now() + this.#config.getInt('rebalance.timeout.ms') + 30_000
    while (!this.#ready && !this.#stopped && Date.now() < deadline) await sleep(50)
    if (!this.#ready)
      throw new ConnectError('TIMEOUT', `the worker could not join group '${this.#config.groupId}'`)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#ready = false
    this.#wake?.()
    // The loop may be waiting in a JoinGroup; leaving the group below ends that wait.
    await Promise.race([this.#loop?.catch(() => {}), sleep(2000)])
    await this.#serial(async () => {
      await this.#stopEverything('the worker is stopping')
    })
    await this.#membership.leave('the worker is stopping').catch((error: unknown) => {
      this.#logger.warn(`leaving the group failed: ${errorMessage(error)}`)
    })
    await this.#status.stop()
  }

  // ── the herder loop ────────────────────────────────────────────────────────────────────────

  #requestRejoin(reason: string): void {
    if (this.#rejoinRequested === undefined) this.#logger.info(`rebalance needed: ${reason}`)
    this.#rejoinRequested ??= reason
    this.#wake?.()
  }

  async #run(): Promise<void> {
    let backoff = 100
    while (!this.#stopped) {
      try {
        await this.#checkMembership()
        if (this.#scheduledRejoinAt !== 0 && Date.now() >= this.#scheduledRejoinAt) {
          this.#scheduledRejoinAt = 0
          this.#requestRejoin('the scheduled rebalance delay ran out')
        }
        const reason = this.#membership.rejoinReason
        if (reason !== undefined) this.#requestRejoin(reason)
        if (this.#rejoinRequested !== undefined) {
          await this.#rebalance()
          backoff = 100
          continue
        }
        if (this.#current?.isLeader) await this.#serial(() => this.#maybeRotateSessionKey())
      } catch (error) {
        if (this.#stopped) break
        this.#logger.warn(`herder loop: ${errorMessage(error)}; retrying in ${backoff} ms`)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 5000)
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wake = undefined
    }
  }

  /** Zombie safety: a member the coordinator no longer vouches for stops its work before rejoining. */
  async #checkMembership(): Promise<void> {
    if (this.#current === undefined) return
    // The coordinator expires the session `session.timeout.ms` after the last heartbeat it got,
    // which is no earlier than the last one confirmed here: giving up one heartbeat interval
    // sooner stops the tasks before the coordinator can hand them to anyone else.
    const session = this.#membership.sessionTimeoutMs
    const margin = Math.min(this.#config.getInt('heartbeat.interval.ms'), session / 2)
    const lost =
      this.#membership.generation === undefined || this.#membership.msSinceConfirmed > session - margin
    if (!lost) return
    this.#logger.warn(
      `lost membership in group '${this.#config.groupId}' (no confirmation for ${Math.round(this.#membership.msSinceConfirmed)} ms): stopping all connectors and tasks`,
    )
    this.#current = undefined
    this.#rejoinRequested ??= 'membership lost'
    await this.#serial(() => this.#stopEverything('membership lost'))
    this.#assignor.reset()
  }

  async #rebalance(): Promise<void> {
    const previousProtocol = this.#current?.protocol
    // Under the eager protocol everything is given up before joining.
    if (previousProtocol === 'default') await this.#serial(() => this.#stopEverything('eager rebalance'))
    try {
      await this.#configs.readToEnd(this.#config.getInt('worker.sync.timeout.ms'))
    } catch {
      // Join with what we have; the leader answers CONFIG_MISMATCH if it matters.
    }
    const allocation = this.#allocation()
    const protocols = this.#offered.map((name) => ({
      name,
      metadata: encodeMetadata(name, { url: this.#url, configOffset: this.#configs.offset, allocation }),
    }))
    const reason = this.#rejoinRequested ?? null
    this.#rejoinRequested = undefined
    this.#inRebalance = true
    try {
      const generation = await this.#membership.join(protocols, (ctx) => this.#assign(ctx), reason)
      await this.#serial(() => this.#onAssigned(generation))
    } catch (error) {
      this.#rejoinRequested ??= `the last join failed: ${errorMessage(error)}`
      throw error
    } finally {
      this.#inRebalance = false
    }
  }

  #allocation(): Allocation {
    return { connectors: [...this.#ownedConnectors], tasks: [...this.#ownedTasks.values()] }
  }

  /** The leader's assignment of the generation. */
  async #assign(ctx: LeaderContext): Promise<Map<string, Buffer>> {
    const protocol = ctx.protocolName as ConnectProtocolName
    const members = ctx.members.map((m) => ({ memberId: m.memberId, ...decodeMetadata(m.metadata) }))
    const leaderUrl = members.find((m) => m.memberId === ctx.leaderId)?.url ?? this.#url
    const maxOffset = Math.max(...members.map((m) => m.configOffset))
    if (this.#configs.offset < maxOffset) {
      await this.#configs.readToEnd(this.#config.getInt('worker.sync.timeout.ms')).catch(() => {})
    }
    const offset = this.#configs.offset
    const out = new Map<string, Buffer>()
    const base = { leader: ctx.leaderId, leaderUrl, configOffset: offset, delay: 0 }
    if (offset < maxOffset) {
      this.#logger.warn(`leader is behind the config topic (${offset} < ${maxOffset}): CONFIG_MISMATCH`)
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
    const configured = { connectors: this.#configs.connectors(), tasks: [] as TaskId[] }
    for (const name of configured.connectors) {
      for (let task = 0; task < this.#configs.taskCount(name); task++)
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
        this.#logger.debug(
          `generation ${ctx.generationId}: ${id} +${a.assigned.connectors.length}c/${a.assigned.tasks.length}t -${a.revoked.connectors.length}c/${a.revoked.tasks.length}t delay ${a.delay}`,
        )
      }
    }
    return out
  }

  async #onAssigned(generation: Generation): Promise<void> {
    const protocol = generation.protocolName as ConnectProtocolName
    const assignment: ConnectAssignment = decodeAssignment(generation.assignment)
    if (!generation.isLeader) this.#assignor.reset()
    this.#current = {
      generationId: generation.generationId,
      memberId: generation.memberId,
      leaderId: assignment.leader,
      leaderUrl: assignment.leaderUrl,
      isLeader: generation.isLeader,
      protocol,
    }
    this.counters.rebalances++
    if (assignment.error === CONFIG_MISMATCH) {
      this.#rejoinRequested ??= 'config mismatch with the leader'
      await this.#configs.readToEnd().catch(() => {})
      return
    }
    if (this.#configs.offset < assignment.configOffset) {
      try {
        await this.#configs.readToEnd(this.#config.getInt('worker.sync.timeout.ms'))
      } catch {
        // Kafka Connect leaves the group when it cannot catch up; rejoining later is equivalent here.
      }
      if (this.#configs.offset < assignment.configOffset) {
        this.#logger.warn(
          `could not read the config topic up to the leader's offset ${assignment.configOffset} (at ${this.#configs.offset}); rejoining`,
        )
        this.#rejoinRequested ??= 'behind the leader on the config topic'
        return
      }
    }
    const revoked = assignment.revoked
    let assigned = assignment.assigned
    if (protocol === 'default') {
      await this.#stopEverything('eager assignment')
      assigned = assignment.assigned
    }
    // Revoked work stops first: tasks, then connectors.
    const revokedTasks = revoked.tasks.filter((t) => this.#ownedTasks.has(taskKey(t)))
    if (revokedTasks.length > 0) {
      await this.#worker.stopTasks(revokedTasks)
      this.counters.taskStops += revokedTasks.length
      for (const t of revokedTasks) this.#ownedTasks.delete(taskKey(t))
    }
    for (const c of revoked.connectors) {
      if (!this.#ownedConnectors.delete(c)) continue
      await this.#worker.stopConnector(c)
    }
    for (const name of new Set([...revoked.connectors, ...revoked.tasks.map((t) => t.connector)])) {
      if (this.#configs.connectorConfig(name) === undefined) this.#status.onConnectorDestroyed(name)
    }
    // Then what is new here starts.
    const newConnectors = assigned.connectors.filter((c) => !this.#ownedConnectors.has(c))
    for (const c of newConnectors) this.#ownedConnectors.add(c)
    for (const t of assigned.tasks) {
      if (this.#ownedTasks.has(taskKey(t))) continue
      this.#ownedTasks.set(taskKey(t), t)
      this.#startTask(t)
    }
    for (const c of newConnectors) await this.#startConnector(c)
    // A revoking round is followed by another one at once, so revoked work gets its new owner.
    if (revoked.connectors.length + revoked.tasks.length > 0 && protocol !== 'default') {
      this.#rejoinRequested ??= 'revoked work must be reassigned'
    }
    this.#scheduledRejoinAt = assignment.delay > 0 ? Date.now() + assignment.delay : 0
    if (assignment.delay > 0) {
      this.#logger.info(
        `work of a departed worker is held for ${assignment.delay} ms before it is reassigned`,
      )
    }
    if (generation.isLeader) await this.#maybeRotateSessionKey()
    this.#logger.info(
      `generation ${generation.generationId} (${protocol}${generation.isLeader ? ', leader' : ''}): running ${this.#ownedConnectors.size} connectors, ${this.#ownedTasks.size} tasks`,
    )
    this.#ready = true
  }

  async #stopEverything(reason: string): Promise<void> {
    const tasks = [...this.#ownedTasks.values()]
    if (tasks.length > 0) {
      this.#logger.info(`stopping ${tasks.length} tasks: ${reason}`)
      await this.#worker.stopTasks(tasks)
      this.counters.taskStops += tasks.length
    }
    this.#ownedTasks.clear()
    for (const c of this.#ownedConnectors) await this.#worker.stopConnector(c)
    this.#ownedConnectors.clear()
  }

  #startTask(id: TaskId): void {
    const connectorConfig = this.#configs.connectorConfig(id.connector)
    const taskConfig = this.#configs.taskConfigs(id.connector)[id.task]
    if (connectorConfig === undefined || taskConfig === undefined) {
      this.#logger.warn(`task ${taskKey(id)} was assigned but has no config here; it stays stopped`)
      return
    }
    this.counters.taskStarts++
    this.#worker.startTask(id, connectorConfig, taskConfig, this.#configs.targetState(id.connector))
  }

  async #startConnector(name: string): Promise<void> {
    const config = this.#configs.connectorConfig(name)
    if (config === undefined) return
    const target = this.#configs.targetState(name)
    const ok = await this.#worker.startConnector(name, config, target, {
      onReconfigurationRequested: (n) => {
        void this.#serial(() => this.#reconfigure(n)).catch((error: unknown) =>
          this.#logger.error(`reconfiguring ${n} failed: ${errorMessage(error)}`),
        )
      },
    })
    if (ok && target !== 'STOPPED') await this.#reconfigure(name)
  }

  /** The owner regenerates task configs; when they differ from the committed ones, they are published. */
  async #reconfigure(name: string): Promise<void> {
    if (!this.#ownedConnectors.has(name) || !this.#worker.isConnectorRunning(name)) return
    let configs: Props[]
    try {
      configs = await this.#worker.connectorTaskConfigs(name)
    } catch (error) {
      this.#logger.error(`connector ${name} failed to generate task configs: ${errorMessage(error)}`)
      this.#status.onConnectorStatus(name, {
        state: 'FAILED',
        trace: errorTrace(error),
        workerId: this.#worker.workerId,
        generation: 0,
      })
      return
    }
    configs = this.#withJavaTaskClass(name, configs)
    if (!this.#configs.inconsistent(name) && sameConfigs(this.#configs.taskConfigs(name), configs)) return
    await this.#publishTaskConfigs(name, configs)
  }

  /**
   * The leader writes task configs itself. Any other owner posts them to the leader in the
   * background (retrying, with backoff, until it is superseded, loses the connector or succeeds):
   * the herder's queue must stay free, or this worker could not rejoin the rebalance the leader is
   * waiting for (Kafka Connect forwards on a separate executor for the same reason).
   */
  /**
   * Kafka Connect writes each task config with `task.class` = the task's Java class name, and a
   * Java worker loads that class to run the task. Task configs in the shared topic therefore name
   * the task as Java would (the connector's package + the task class's name, e.g.
   * `org.apache.kafka.connect.file.FileStreamSourceTask`), so a Java worker in the same cluster can
   * run tasks whose configs a Sluice worker generated. Sluice itself does not read the key.
   */
  #withJavaTaskClass(name: string, configs: Props[]): Props[] {
    try {
      const className = this.#configs.connectorConfig(name)?.['connector.class']
      if (className === undefined) return configs
      const canonical = this.#worker.plugins.resolve(
        className,
        ['source', 'sink'],
        'connector.class',
      ).className
      const dot = canonical.lastIndexOf('.')
      const connector = this.#worker.newConnector(className) as SourceConnector | SinkConnector
      const taskName = connector.taskClass().name
      if (dot < 0 || !taskName) return configs
      const taskClass = `${canonical.slice(0, dot)}.${taskName}`
      return configs.map((c) => ({ ...c, 'task.class': taskClass }))
    } catch {
      return configs
    }
  }

  async #publishTaskConfigs(name: string, configs: Props[]): Promise<void> {
    if (this.#current?.isLeader === true) {
      await this.#writeTaskConfigs(name, configs)
      return
    }
    const token = {}
    this.#publishing.set(name, token)
    void (async () => {
      for (let attempt = 0; ; attempt++) {
        if (this.#stopped || this.#publishing.get(name) !== token || !this.#ownedConnectors.has(name)) return
        try {
          if (this.#current?.isLeader === true) {
            await this.#serial(() => this.#writeTaskConfigs(name, configs))
          } else {
            await this.#postTaskConfigsToLeader(name, configs)
          }
          if (this.#publishing.get(name) === token) this.#publishing.delete(name)
          return
        } catch (error) {
          if (attempt % 10 === 9) {
            this.#logger.warn(
              `publishing task configs of ${name} failed ${attempt + 1} times: ${errorMessage(error)}`,
            )
          }
          await sleep(Math.min(100 * 2 ** attempt, 2000))
        }
      }
    })()
  }

  async #writeTaskConfigs(name: string, configs: Props[]): Promise<void> {
    const previous = this.#configs.taskCount(name)
    await this.#configs.putTaskConfigs(name, configs)
    for (let task = configs.length; task < previous; task++)
      this.#status.onTaskDestroyed({ connector: name, task })
    this.#logger.info(`wrote ${configs.length} task configs of ${name}`)
  }

  async #postTaskConfigsToLeader(name: string, configs: Props[]): Promise<void> {
    const leaderUrl = this.#current?.leaderUrl
    if (!leaderUrl) throw new ConnectError('CONFLICT', 'no known leader')
    const body = JSON.stringify(configs)
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    const key = this.#configs.sessionKey
    if (this.#current?.protocol === 'sessioned' && key !== undefined) Object.assign(headers, sign(body, key))
    const response = await fetch(`${leaderUrl}connectors/${encodeURIComponent(name)}/tasks?forward=true`, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    })
    if (response.status >= 300) {
      throw new ConnectError('RETRIABLE', `leader answered ${response.status}: ${await response.text()}`)
    }
  }

  async #maybeRotateSessionKey(): Promise<void> {
    if (this.#current?.protocol !== 'sessioned' || !this.#current.isLeader) return
    const key = this.#configs.sessionKey
    const ttl = this.#config.getInt('inter.worker.key.ttl.ms')
    if (key !== undefined && Date.now() - key.creationTimestamp < ttl) return
    await this.#configs.putSessionKey(newSessionKey())
    this.#logger.info('wrote a new session key')
  }

  // ── config topic events ────────────────────────────────────────────────────────────────────

  #onConnectorConfig(name: string): void {
    if (!this.#knownConnectors.has(name)) {
      this.#knownConnectors.add(name)
      this.#requestRejoin(`connector ${name} was created`)
      return
    }
    // A changed config restarts the connector where it runs; no rebalance.
    void this.#serial(async () => {
      if (!this.#ownedConnectors.has(name)) return
      await this.#worker.stopConnector(name)
      await this.#startConnector(name)
    }).catch((error: unknown) => this.#logger.error(`restarting ${name}: ${errorMessage(error)}`))
  }

  #onConnectorRemoved(name: string): void {
    this.#knownConnectors.delete(name)
    this.#requestRejoin(`connector ${name} was deleted`)
  }

  #onTaskConfigs(tasks: TaskId[]): void {
    this.#requestRejoin(`task configs of ${[...new Set(tasks.map((t) => t.connector))].join(', ')} changed`)
    // Tasks whose config changed restart in place on their owner.
    void this.#serial(async () => {
      for (const t of tasks) {
        if (!this.#ownedTasks.has(taskKey(t))) continue
        const config = this.#configs.taskConfigs(t.connector)[t.task]
        if (config === undefined) continue // removed: the rebalance revokes it
        await this.#worker.stopTasks([t])
        this.#startTask(t)
      }
    }).catch((error: unknown) => this.#logger.error(`restarting tasks: ${errorMessage(error)}`))
  }

  #onTargetState(name: string): void {
    void this.#serial(async () => {
      const target = this.#configs.targetState(name)
      if (this.#ownedConnectors.has(name)) {
        const wasStopped = this.#status.connector(name)?.state === 'STOPPED'
        if (
          (target === 'STOPPED' && this.#worker.isConnectorRunning(name)) ||
          (target !== 'STOPPED' && wasStopped)
        ) {
          // Into or out of STOPPED: the connector instance stops, or starts and publishes its task configs.
          await this.#worker.stopConnector(name)
          await this.#startConnector(name)
          return
        }
      }
      // PAUSED/STARTED reach the connector and the tasks this worker runs.
      if (target !== 'STOPPED') this.#worker.setConnectorTargetState(name, target)
    }).catch((error: unknown) => this.#logger.error(`target state of ${name}: ${errorMessage(error)}`))
  }

  #onRestartRequest(request: RestartRequest): void {
    void this.#serial(async () => {
      const name = request.connector
      const config = this.#configs.connectorConfig(name)
      if (config === undefined) return
      if (this.#ownedConnectors.has(name)) {
        const failed = this.#status.connector(name)?.state === 'FAILED'
        if (!request.onlyFailed || failed) {
          await this.#worker.stopConnector(name)
          await this.#startConnector(name)
        }
      }
      if (!request.includeTasks) return
      for (const t of this.#ownedTasks.values()) {
        if (t.connector !== name) continue
        if (request.onlyFailed && this.#status.task(t)?.state !== 'FAILED') continue
        await this.#worker.stopTasks([t])
        this.#startTask(t)
      }
    }).catch((error: unknown) =>
      this.#logger.error(`restart of ${request.connector}: ${errorMessage(error)}`),
    )
  }

  // ── REST: reads (served locally) ───────────────────────────────────────────────────────────

  kafkaClusterId(): Promise<string> {
    return this.#worker.log.clusterId()
  }

  connectors(): string[] {
    return this.#configs.connectors()
  }

  connectorInfo(name: string): ConnectorInfo {
    const config = this.#config_(name)
    return {
      name,
      config,
      tasks: this.#configs.taskConfigs(name).map((_, task) => ({ connector: name, task })),
      type: this.#type(config),
    }
  }

  connectorConfig(name: string): Record<string, string> {
    return this.#config_(name)
  }

  #config_(name: string): Props {
    const config = this.#configs.connectorConfig(name)
    if (config === undefined) {
      if (this.#inRebalance) throw rebalanceExpected()
      throw new NotFoundError(`Connector ${name} not found`)
    }
    return config
  }

  connectorStatus(name: string): ConnectorStateInfo {
    const config = this.#configs.connectorConfig(name)
    const info =
      config && connectorStateInfo(name, this.#status, this.#configs.taskCount(name), this.#type(config))
    if (!info) throw new NotFoundError(`No status found for connector ${name}`)
    return info
  }

  taskStatus(connector: string, task: number): TaskStateInfo {
    const info = taskStateInfo(connector, task, this.#status)
    if (!info) throw new NotFoundError(`No status found for task ${connector}-${task}`)
    return info
  }

  taskConfigs(name: string): TaskInfo[] {
    this.#config_(name)
    return this.#configs.taskConfigs(name).map((config, task) => ({ id: { connector: name, task }, config }))
  }

  validateConnectorConfig(config: Props): Promise<ConfigInfos> {
    return validateConnectorConfig(config, this.#worker.plugins)
  }

  plugins(): PluginDescriptor[] {
    return this.#worker.plugins.list()
  }

  taskErrorMetrics(): { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[] {
    const out: { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[] = []
    for (const t of this.#ownedTasks.values()) {
      const metrics = this.#worker.taskErrorMetrics(t)
      if (metrics) out.push({ connector: t.connector, task: t.task, metrics })
    }
    return out
  }

  connectorActiveTopics(name: string): string[] {
    return this.#status.activeTopics(name)
  }

  resetConnectorActiveTopics(name: string): void {
    this.#status.resetActiveTopics(name)
  }

  async connectorOffsets(name: string): Promise<{ offsets: ConnectorOffset[] }> {
    const config = this.#config_(name)
    return connectorOffsets(name, this.#type(config), this.#worker.log, this.#offsets)
  }

  // ── REST: writes (on the leader; pause/resume anywhere) ────────────────────────────────────

  /** Throws what makes the REST layer forward the request to the leader, or answer 409. */
  #requireLeader(): void {
    if (this.#stale || this.#current === undefined) {
      if (this.#current === undefined || !this.#current.leaderUrl)
        throw new RequestTargetError(null, 'leader')
      throw new RebalanceNeededError()
    }
    if (!this.#current.isLeader) throw new RequestTargetError(this.#current.leaderUrl, 'leader')
  }

  async putConnectorConfig(
    name: string,
    config: Props,
    options: { allowReplace: boolean; initialState?: TargetState },
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.#request(async () => {
      this.#requireLeader()
      const exists = this.#configs.connectorConfig(name) !== undefined
      if (exists && !options.allowReplace) throw new AlreadyExistsError(`Connector ${name} already exists`)
      const full = { ...config, name }
      const infos = await validateConnectorConfig(full, this.#worker.plugins)
      if (infos.error_count > 0) throw new ConfigError(undefined, invalidConfigMessage(infos))
      this.#requireLeader()
      await this.#configs.putConnectorConfig(name, full, exists ? undefined : options.initialState)
      return { created: !exists, info: this.connectorInfo(name) }
    })
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    return this.#request(async () => {
      this.#requireLeader()
      const current: Record<string, string> = { ...this.#config_(name) }
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete current[k]
        else current[k] = v
      }
      const infos = await validateConnectorConfig(current, this.#worker.plugins)
      if (infos.error_count > 0) throw new ConfigError(undefined, invalidConfigMessage(infos))
      await this.#configs.putConnectorConfig(name, current)
      return this.connectorInfo(name)
    })
  }

  async deleteConnector(name: string): Promise<void> {
    await this.#request(async () => {
      this.#requireLeader()
      this.#config_(name)
      await this.#configs.removeConnectorConfig(name)
      this.#status.onConnectorDestroyed(name)
      this.#logger.info(`connector ${name} deleted`)
    })
  }

  async pauseConnector(name: string): Promise<void> {
    this.#known(name)
    await this.#configs.putTargetState(name, 'PAUSED')
  }

  async resumeConnector(name: string): Promise<void> {
    this.#known(name)
    await this.#configs.putTargetState(name, 'STARTED')
  }

  async stopConnector(name: string): Promise<void> {
    await this.#request(async () => {
      this.#requireLeader()
      this.#config_(name)
      await this.#writeTaskConfigs(name, [])
      await this.#configs.putTargetState(name, 'STOPPED')
      await this.#configs.readToEnd()
    })
  }

  async restartConnector(
    name: string,
    options: { includeTasks: boolean; onlyFailed: boolean },
  ): Promise<ConnectorStateInfo> {
    if (this.#configs.connectorConfig(name) === undefined)
      throw new NotFoundError(`Unknown connector: ${name}`)
    if (!options.includeTasks && !options.onlyFailed) {
      // Legacy form: the owner restarts the connector instance.
      await this.#request(async () => {
        if (this.#ownedConnectors.has(name) && !this.#stale) {
          this.#status.onConnectorStatus(name, this.#statusOf('RESTARTING'))
          await this.#worker.stopConnector(name)
          await this.#startConnector(name)
          return
        }
        this.#requireLeader()
        throw new RequestTargetError(
          this.#ownerUrl((a) => a.connectors.includes(name)),
          'owner',
        )
      })
      return this.connectorStatus(name)
    }
    return this.#request(async () => {
      this.#requireLeader()
      const status = this.connectorStatus(name)
      const restartConnector = !options.onlyFailed || status.connector.state === 'FAILED'
      const tasks = status.tasks.map((t) =>
        options.includeTasks && (!options.onlyFailed || t.state === 'FAILED')
          ? { ...t, state: 'RESTARTING' as const }
          : t,
      )
      await this.#configs.putRestartRequest({ connector: name, ...options })
      return {
        ...status,
        connector: restartConnector
          ? { ...status.connector, state: 'RESTARTING' as const }
          : status.connector,
        tasks,
      }
    })
  }

  async restartTask(connector: string, task: number): Promise<void> {
    await this.#request(async () => {
      const id = { connector, task }
      if (this.#configs.connectorConfig(connector) === undefined)
        throw new NotFoundError(`Unknown connector: ${connector}`)
      if (this.#configs.taskConfigs(connector)[task] === undefined)
        throw new NotFoundError(`Unknown task: ${connector}-${task}`)
      if (this.#ownedTasks.has(taskKey(id)) && !this.#stale) {
        await this.#worker.stopTasks([id])
        this.#startTask(id)
        return
      }
      this.#requireLeader()
      throw new RequestTargetError(
        this.#ownerUrl((a) => a.tasks.some((t) => t.connector === connector && t.task === task)),
        'owner',
      )
    })
  }

  /** The leader's knowledge of who runs what. */
  #ownerUrl(owns: (a: Allocation) => boolean): string | null {
    for (const [member, allocation] of this.#fullAssignment) {
      if (owns(allocation)) return this.#memberUrls.get(member) ?? null
    }
    throw new ConnectError(
      'CONFLICT',
      'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
    )
  }

  /** Internal endpoint: task configs posted by a connector's owner to the leader. */
  async receiveTaskConfigs(
    name: string,
    configs: Props[],
    request: { body: string; headers: Record<string, string | string[] | undefined> },
  ): Promise<void> {
    if (this.#current?.protocol === 'sessioned') {
      verify(
        request.body,
        request.headers,
        this.#configs.sessionKey,
        this.#config.getList('inter.worker.verification.algorithms'),
      )
    }
    await this.#request(async () => {
      // The leader takes task configs even while a rebalance is pending: it is their only writer.
      if (this.#current === undefined) throw new RequestTargetError(null, 'leader')
      if (!this.#current.isLeader) throw new RequestTargetError(this.#current.leaderUrl, 'leader')
      this.#config_(name)
      await this.#writeTaskConfigs(name, configs)
    })
  }

  async alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.#request(async () => {
      this.#requireLeader()
      const config = this.#stoppedConfig(name)
      if (this.#type(config) === 'sink')
        return this.#modifySinkOffsets(name, config, parseSinkOffsets(offsets), 'altered')
      return this.#modifySourceOffsets(name, config, parseSourceOffsets(offsets), 'altered')
    })
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.#request(async () => {
      this.#requireLeader()
      const config = this.#stoppedConfig(name)
      if (this.#type(config) === 'sink') {
        const committed = await this.#worker.log.groupOffsets(`connect-${name}`)
        return this.#modifySinkOffsets(
          name,
          config,
          new Map([...committed.keys()].map((k) => [k, null])),
          'reset',
        )
      }
      const reset: [OffsetMap, null][] = []
      for (const key of (await this.#offsets.connectorEntries(name)).keys()) {
        const parsed = parseOffsetKey(key)
        if (parsed) reset.push([parsed.partition, null])
      }
      return this.#modifySourceOffsets(name, config, reset, 'reset')
    })
  }

  async #modifySinkOffsets(
    name: string,
    config: Props,
    offsets: Map<string, number | null>,
    kind: 'altered' | 'reset',
  ): Promise<string> {
    const connector = this.#worker.newConnector(config['connector.class']) as SinkConnector
    const managed = await connector.alterOffsets(
      config,
      new Map([...offsets].map(([k, v]) => [parseTpKey(k), v])),
    )
    await this.#worker.log.alterGroupOffsets(`connect-${name}`, offsets)
    return modifiedMessage(managed === true, kind)
  }

  async #modifySourceOffsets(
    name: string,
    config: Props,
    offsets: [OffsetMap, OffsetMap | null][],
    kind: 'altered' | 'reset',
  ): Promise<string> {
    const connector = this.#worker.newConnector(config['connector.class']) as SourceConnector
    const managed = await connector.alterOffsets(config, new Map(offsets))
    await this.#offsets.set(
      new Map(offsets.map(([p, o]) => [offsetKey(name, p), o === null ? null : JSON.stringify(o)])),
    )
    return modifiedMessage(managed === true, kind)
  }

  #stoppedConfig(name: string): Props {
    const config = this.#config_(name)
    if (this.#configs.targetState(name) !== 'STOPPED' || this.#configs.taskCount(name) > 0) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
      )
    }
    return config
  }

  #known(name: string): void {
    if (this.#configs.connectorConfig(name) === undefined)
      throw new NotFoundError(`Unknown connector ${name}`)
  }

  #type(config: Props): ConnectorType {
    return connectorTypeOf(this.#worker, config)
  }

  #statusOf(state: 'RESTARTING') {
    return { state, trace: null, workerId: this.#worker.workerId, generation: 0 }
  }

  /** Where this worker stands, for tests and benchmarks (GET /sluice/cluster). */
  clusterView(): {
    generation: number
    protocol: string | null
    leader: boolean
    leaderUrl: string | null
    rebalancing: boolean
    connectors: string[]
    tasks: string[]
    counters: RebalanceCounters
  } {
    return {
      generation: this.generationId,
      protocol: this.#current?.protocol ?? null,
      leader: this.#current?.isLeader === true,
      leaderUrl: this.#current?.leaderUrl ?? null,
      rebalancing: this.#stale,
      connectors: [...this.#ownedConnectors].sort(),
      tasks: [...this.#ownedTasks.keys()].sort(),
      counters: { ...this.counters },
    }
  }

  /**
   * A REST request's operation: queued like the others, but the caller gets Kafka Connect's 500
   * "Request timed out" after 90 s (the operation itself still runs when its turn comes).
   */
  #request<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#serial(operation)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectError('TIMEOUT', 'Request timed out')), REQUEST_TIMEOUT_MS)
    })
    return Promise.race([run, timeout]).finally(() => clearTimeout(timer))
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation)
    this.#queue = run.catch(() => {})
    return run
  }
}

/** Kafka Connect's `RestServer.DEFAULT_REST_REQUEST_TIMEOUT_MS`. */
const REQUEST_TIMEOUT_MS = 90_000

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
