/**
 * The herder of a distributed worker (Kafka Connect's `DistributedHerder`): workers sharing a
 * `group.id` divide connectors and tasks among themselves through a `connect` group on Kafka's
 * coordinator, and share configs, offsets and status through the three internal topics. This file
 * is its REST facade; the parts:
 *
 * - ./rebalance.ts: membership, the leader's assignment, applying assignments, zombie safety;
 * - ./task-config-publisher.ts: the owner's task configs to the leader, the session key;
 * - ./config-reactions.ts: what a worker does when the config topic changes;
 * - ./running-work.ts: starting and stopping what this worker owns;
 * - ./herder-state.ts: what they share, and the queue operations run in.
 *
 * Configs: the leader is the only writer of connector and task configs (other workers' REST
 * requests are forwarded to it by the REST layer, see `RequestTargetError`); target states are
 * written by whichever worker gets pause/resume.
 *
 * Operations that change state run one at a time (`OperationQueue`), like Kafka Connect's herder
 * thread; the group join itself runs outside it so REST calls answer 409 during a rebalance instead
 * of waiting.
 */
import type { Props } from '../../api/connector.ts'
import {
  AlreadyExistsError,
  ConfigError,
  ConnectError,
  errorMessage,
  NotFoundError,
} from '../../api/errors.ts'
import type { PluginDescriptor } from '../../api/plugin.ts'
import type { Logger } from '../../common/logger.ts'
import type { TargetState } from '../../common/states.ts'
import type { DistributedConfig } from '../../config/distributed-config.ts'
import type { GroupMembership } from '../../log/kafka/group-membership.ts'
import {
  type ConfigInfos,
  invalidConfigMessage,
  type ValidationWorker,
  validateConnectorConfig,
} from '../../runtime/config-validation.ts'
import type { ErrorMetrics } from '../../runtime/errors/error-handler.ts'
import {
  type BrowsedRecords,
  type LatestRecordsOptions,
  latestRecords,
  type TopicSummary,
  topicSummaries,
} from '../../runtime/topic-browser.ts'
import type { Worker } from '../../runtime/worker.ts'
import type { KafkaConfigStore } from '../../storage/kafka/kafka-config-store.ts'
import type { KafkaStatusStore } from '../../storage/kafka/kafka-status-store.ts'
import {
  alterConnectorOffsets,
  type OffsetsSubject,
  requireStopped,
  resetConnectorOffsets,
} from '../connector-offsets.ts'
import type {
  ConnectorInfo,
  ConnectorOffset,
  ConnectorStateInfo,
  Herder,
  HerderMetrics,
  TaskInfo,
  TaskStateInfo,
} from '../herder.ts'
import { sameConfigs } from '../task-configs.ts'
import {
  type ConnectorType,
  connectorOffsets,
  connectorStateInfo,
  connectorTypeOf,
  taskStateInfo,
} from '../views.ts'
import { ConfigReactions } from './config-reactions.ts'
import { type Allocation, taskKey } from './connect-protocol.ts'
import {
  type HerderContext,
  HerderState,
  OperationQueue,
  type RebalanceCounters,
  sleep,
} from './herder-state.ts'
import type { InterWorkerTls } from './inter-worker-client.ts'
import { Rebalancer } from './rebalance.ts'
import { RebalanceNeededError, RequestTargetError, rebalanceExpected } from './request-target.ts'
import { RunningWork } from './running-work.ts'
import { SIGNATURE_HEADER, sign, verify } from './session-key.ts'
import { TaskConfigPublisher } from './task-config-publisher.ts'

export type { RebalanceCounters } from './herder-state.ts'

export interface DistributedHerderOptions {
  config: DistributedConfig
  worker: Worker
  configStore: KafkaConfigStore
  statusStore: KafkaStatusStore
  membership: GroupMembership
  logger: Logger
  /** The REST listener's TLS settings (`listeners=https://…`), used as a client towards other workers. */
  tls?: InterWorkerTls
}

export class DistributedHerder implements Herder {
  readonly #config: DistributedConfig
  readonly #worker: Worker
  readonly #configs: KafkaConfigStore
  readonly #status: KafkaStatusStore
  readonly #membership: GroupMembership
  readonly #logger: Logger
  readonly #state: HerderState
  readonly #queue = new OperationQueue()
  readonly #context: HerderContext
  readonly #publisher: TaskConfigPublisher
  readonly #work: RunningWork
  readonly #rebalancer: Rebalancer

  constructor(options: DistributedHerderOptions) {
    this.#config = options.config
    this.#worker = options.worker
    this.#configs = options.configStore
    this.#status = options.statusStore
    this.#membership = options.membership
    this.#logger = options.logger
    this.#state = new HerderState(options.logger)
    this.#context = {
      config: this.#config,
      worker: this.#worker,
      configs: this.#configs,
      status: this.#status,
      membership: this.#membership,
      logger: this.#logger,
      state: this.#state,
      queue: this.#queue,
      tls: options.tls,
    }
    this.#publisher = new TaskConfigPublisher(this.#context)
    this.#work = new RunningWork(this.#context, this.#publisher)
    this.#rebalancer = new Rebalancer(this.#context, this.#work, this.#publisher)
  }

  /** This worker's advertised REST URL (known once the REST server listens). */
  set url(url: string) {
    this.#rebalancer.url = url
  }

  get ready(): boolean {
    return this.#state.ready
  }

  readiness(): { ready: boolean; message: string } {
    if (!this.#state.ready)
      return { ready: false, message: `Worker has not joined group '${this.#config.groupId}' yet.` }
    if (this.#state.current === undefined)
      return {
        ready: false,
        message: `Worker lost its membership in group '${this.#config.groupId}' and is rejoining.`,
      }
    return {
      ready: true,
      message: `Worker is a member of group '${this.#config.groupId}' and serving requests.`,
    }
  }

  workerMetrics(): HerderMetrics {
    const current = this.#state.current
    const last = this.#state.lastAssignedAt
    return {
      ...this.#worker.metrics(),
      rebalance: {
        completedRebalances: this.#state.counters.rebalances,
        epoch: this.generationId,
        leaderName: current?.leaderUrl ?? '',
        protocol: current?.protocol ?? '',
        rebalancing: this.#state.stale,
        assignedConnectors: this.#state.ownedConnectors.size,
        assignedTasks: this.#state.ownedTasks.size,
        timeSinceLastRebalanceMs: last === 0 ? Number.NaN : Date.now() - last,
      },
    }
  }

  /** The generation (for status records), -1 while not a member. */
  get generationId(): number {
    return this.#state.generationId
  }

  get isLeader(): boolean {
    return this.#state.current?.isLeader === true && !this.#state.stale
  }

  /** Rebalance counters (GET /sluice/cluster). */
  get counters(): RebalanceCounters {
    return this.#state.counters
  }

  async start(): Promise<void> {
    this.#configs.listener = new ConfigReactions(this.#context, this.#work)
    this.#rebalancer.start()
    // Ready once the first assignment is applied (GET /health answers 503 before).
    const deadline = Date.now() + this.#config.getInt('rebalance.timeout.ms') + 30_000
    while (!this.#state.ready && !this.#state.stopped && Date.now() < deadline) await sleep(50)
    if (!this.#state.ready)
      throw new ConnectError('TIMEOUT', `the worker could not join group '${this.#config.groupId}'`)
  }

  /**
   * Stops at once: what runs here stops without waiting for queued operations (which may be slow,
   * e.g. a connector's start against a database that does not answer), nothing starts afterwards
   * (a late assignment included), then the worker leaves the group, which also ends a pending join.
   */
  async stop(): Promise<void> {
    this.#state.stopped = true
    this.#state.ready = false
    this.#rebalancer.stop()
    await this.#work.stopEverything('the worker is stopping')
    await this.#membership.leave('the worker is stopping').catch((error: unknown) => {
      this.#logger.warn(`leaving the group failed: ${errorMessage(error)}`)
    })
    await this.#status.stop()
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
      if (this.#state.inRebalance) throw rebalanceExpected()
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
    return validateConnectorConfig(
      config,
      this.#worker.plugins,
      this.#worker.configProviders,
      this.#validation(),
    )
  }

  /** What validation needs to know of this worker. */
  #validation(): ValidationWorker {
    return {
      distributed: true,
      exactlyOnceSource: this.#config.exactlyOnceSource === 'enabled',
      bootstrapServers: this.#config.getList('bootstrap.servers'),
      internalTopics: Object.fromEntries(
        ['config.storage.topic', 'status.storage.topic'].map((key) => [key, this.#config.getString(key)]),
      ),
    }
  }

  plugins(): PluginDescriptor[] {
    return this.#worker.plugins.list()
  }

  taskErrorMetrics(): { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[] {
    const out: { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[] = []
    for (const t of this.#state.ownedTasks.values()) {
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

  topics(): Promise<TopicSummary[]> {
    return topicSummaries(this.#worker.log)
  }

  topicRecords(topic: string, options: LatestRecordsOptions): Promise<BrowsedRecords> {
    return latestRecords(this.#worker.log, topic, options)
  }

  async connectorOffsets(name: string): Promise<{ offsets: ConnectorOffset[] }> {
    const config = this.#config_(name)
    return connectorOffsets(this.#worker, name, config)
  }

  // ── REST: writes (on the leader; pause/resume anywhere) ────────────────────────────────────

  /** Throws what makes the REST layer forward the request to the leader, or answer 409. */
  #requireLeader(): void {
    if (this.#state.stale || this.#state.current === undefined) {
      if (this.#state.current === undefined || !this.#state.current.leaderUrl)
        throw new RequestTargetError(null, 'leader')
      throw new RebalanceNeededError()
    }
    if (!this.#state.current.isLeader) throw new RequestTargetError(this.#state.current.leaderUrl, 'leader')
  }

  /**
   * Validation runs outside the queue, as Kafka Connect validates on its own executor before it
   * enqueues the write: a connector's `validate` may wait seconds on an external system (a JDBC
   * connection timing out), and the queue must not wait with it. The write then re-checks, in the
   * queue, what may have changed meanwhile.
   */
  async putConnectorConfig(
    name: string,
    config: Props,
    options: { allowReplace: boolean; initialState?: TargetState },
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    const full = { ...config, name }
    const checkTarget = () => {
      this.#requireLeader()
      const exists = this.#configs.connectorConfig(name) !== undefined
      if (exists && !options.allowReplace) throw new AlreadyExistsError(`Connector ${name} already exists`)
      return exists
    }
    checkTarget()
    await this.#validate(full)
    return this.#queue.request(async () => {
      const exists = checkTarget()
      await this.#configs.putConnectorConfig(name, full, exists ? undefined : options.initialState)
      return { created: !exists, info: this.connectorInfo(name) }
    })
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    this.#requireLeader()
    const base = this.#config_(name)
    const patched: Record<string, string> = { ...base }
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete patched[k]
      else patched[k] = v
    }
    await this.#validate(patched)
    return this.#queue.request(async () => {
      this.#requireLeader()
      // The patch applies to the config it was validated against, or not at all.
      if (!sameConfigs([this.#config_(name)], [base])) throw new RebalanceNeededError()
      await this.#configs.putConnectorConfig(name, patched)
      return this.connectorInfo(name)
    })
  }

  async #validate(config: Props): Promise<void> {
    const infos = await validateConnectorConfig(
      config,
      this.#worker.plugins,
      this.#worker.configProviders,
      this.#validation(),
    )
    if (infos.error_count > 0) throw new ConfigError(undefined, invalidConfigMessage(infos))
  }

  async deleteConnector(name: string): Promise<void> {
    await this.#queue.request(async () => {
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
    await this.#queue.request(async () => {
      this.#requireLeader()
      this.#config_(name)
      await this.#publisher.write(name, [])
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
      await this.#queue.request(async () => {
        if (this.#state.ownedConnectors.has(name) && !this.#state.stale) {
          this.#status.onConnectorStatus(name, this.#statusOf('RESTARTING'))
          await this.#work.restartConnector(name)
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
    return this.#queue.request(async () => {
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
    await this.#queue.request(async () => {
      const id = { connector, task }
      if (this.#configs.connectorConfig(connector) === undefined)
        throw new NotFoundError(`Unknown connector: ${connector}`)
      if (this.#configs.taskConfigs(connector)[task] === undefined)
        throw new NotFoundError(`Unknown task: ${connector}-${task}`)
      if (this.#state.ownedTasks.has(taskKey(id)) && !this.#state.stale) {
        await this.#work.restartTask(id)
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
    const url = this.#rebalancer.ownerUrl(owns)
    if (url !== undefined) return url
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
    this.#verifySigned(request)
    await this.#queue.request(async () => {
      // The leader takes task configs even while a rebalance is pending: it is their only writer.
      this.#requireLeaderEvenInRebalance()
      this.#config_(name)
      await this.#publisher.write(name, configs)
    })
  }

  /**
   * Internal endpoint (`PUT /connectors/{c}/fence`, Kafka Connect's `fenceZombieSourceTasks`): a
   * worker about to start a task of the connector's new generation asks the leader to fence the
   * previous one. Signed like posted task configs; 404 for an unknown connector, 400 for a sink.
   */
  async fenceZombieSourceTasks(
    name: string,
    request: { body: string; headers: Record<string, string | string[] | undefined> },
  ): Promise<void> {
    this.#verifySigned(request)
    await this.#queue.request(async () => {
      this.#requireLeaderEvenInRebalance()
      const config = this.#configs.connectorConfig(name)
      if (config === undefined) throw new NotFoundError(`Connector ${name} not found`)
      if (this.#type(config) !== 'source')
        throw new ConnectError('BAD_REQUEST', `Connector ${name} is not a source connector`)
      await this.#publisher.fenceForTaskStart(name)
    })
  }

  /** Internal requests for the leader: it serves them even while a rebalance is pending. */
  #requireLeaderEvenInRebalance(): void {
    if (this.#state.current === undefined) throw new RequestTargetError(null, 'leader')
    if (!this.#state.current.isLeader) throw new RequestTargetError(this.#state.current.leaderUrl, 'leader')
  }

  /** Signed requests pass the REST layer's basic auth: a signature, when there is one, is always checked. */
  #verifySigned(request: { body: string; headers: Record<string, string | string[] | undefined> }): void {
    if (this.#state.current?.protocol === 'sessioned' || request.headers[SIGNATURE_HEADER] !== undefined) {
      verify(
        request.body,
        request.headers,
        this.#configs.sessionKey,
        this.#config.getList('inter.worker.verification.algorithms'),
      )
    }
  }

  async alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.#queue.request(async () => {
      this.#requireLeader()
      await this.#fenceBeforeOffsets(name)
      return alterConnectorOffsets(this.#worker, this.#offsetsSubject(name), offsets)
    })
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.#queue.request(async () => {
      this.#requireLeader()
      await this.#fenceBeforeOffsets(name)
      return resetConnectorOffsets(this.#worker, this.#offsetsSubject(name))
    })
  }

  /**
   * Under `exactly.once.source.support=enabled`, a stopped source connector's previous task generation
   * is fenced before its offsets are written (Kafka Connect's `modifyConnectorOffsets`): a zombie task
   * of it could otherwise still commit offsets over the new ones. A round is due only if task configs
   * were committed after the last task-count record (this leader fences when it writes the empty
   * generation of a stop; a Kafka Connect leader does not). The caller checks the connector again
   * afterwards, as the fencing read the config topic.
   */
  async #fenceBeforeOffsets(name: string): Promise<void> {
    if (this.#config.exactlyOnceSource !== 'enabled') return
    const subject = this.#offsetsSubject(name)
    if (this.#type(subject.config) !== 'source') return
    requireStopped(this.#worker, subject)
    try {
      await this.#publisher.fenceForTaskStart(name)
    } catch (error) {
      throw new ConnectError(
        'CONNECT',
        `Failed to perform zombie fencing for source connector prior to modifying offsets: ${errorMessage(error)}`,
        { cause: error },
      )
    }
  }

  #offsetsSubject(name: string): OffsetsSubject {
    const config = this.#config_(name)
    return {
      name,
      config,
      target: this.#configs.targetState(name),
      taskConfigCount: this.#configs.taskCount(name),
    }
  }

  #known(name: string): void {
    if (this.#configs.connectorConfig(name) === undefined)
      throw new NotFoundError(`Unknown connector ${name}`)
  }

  #type(config: Props): ConnectorType {
    return connectorTypeOf(this.#worker, config)
  }

  #statusOf(state: 'RESTARTING') {
    return { state, trace: null, workerId: this.#worker.workerId, generation: this.generationId }
  }

  otherMemberUrls(): string[] {
    this.#requireLeader()
    return this.#rebalancer.otherMemberUrls()
  }

  signMemberRequest(path: string): Record<string, string> {
    const key = this.#configs.sessionKey
    if (key === undefined)
      throw new ConnectError(
        'UNAVAILABLE',
        'This worker has not read a session key from the config topic yet',
      )
    const at = String(Date.now())
    return { ...sign(`GET ${path} ${at}`, key), [MEMBER_REQUEST_TIME_HEADER]: at }
  }

  verifyMemberRequest(path: string, headers: Record<string, string | string[] | undefined>): void {
    const at = Number(headers[MEMBER_REQUEST_TIME_HEADER.toLowerCase()])
    // The signature covers the time: a copy seen on the way is good for a minute, for a read.
    if (!Number.isFinite(at) || Math.abs(Date.now() - at) > MEMBER_REQUEST_MAX_AGE_MS)
      throw new ConnectError('FORBIDDEN', 'Internal request is older than a minute, or carries no time.')
    verify(
      `GET ${path} ${at}`,
      headers,
      this.#configs.sessionKey,
      this.#config.getList('inter.worker.verification.algorithms'),
    )
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
      protocol: this.#state.current?.protocol ?? null,
      leader: this.#state.current?.isLeader === true,
      leaderUrl: this.#state.current?.leaderUrl ?? null,
      rebalancing: this.#state.stale,
      connectors: [...this.#state.ownedConnectors].sort(),
      tasks: [...this.#state.ownedTasks.keys()].sort(),
      counters: { ...this.#state.counters },
    }
  }
}
const MEMBER_REQUEST_TIME_HEADER = 'X-Sluice-Request-Time'
const MEMBER_REQUEST_MAX_AGE_MS = 60_000
