/**
 * The worker runs connector instances and task runners on one process, on top of a `Log` and an
 * offset store. It does not decide *what* runs — the herder does (standalone: everything;
 * distributed: what the group assigned) — it only starts, stops and reports.
 *
 * Configs holding `${provider:path:key}` references are resolved here, where the connector or task
 * runs (config-transformer.ts); a changed value restarts the unit that uses it (config-reloads.ts).
 * Longer than 600 lines because those restarts must work on the worker's own maps of connectors and
 * tasks, racing the herder's stops.
 */

import { availableParallelism } from 'node:os'
import type {
  Connector,
  Props,
  SinkConnector,
  SourceConnector,
  SourceConnectorContext,
} from '../api/connector.ts'
import { ConfigError, ConnectError, errorMessage, errorTrace } from '../api/errors.ts'
import { javaRegexFor } from '../api/java-regex.ts'
import { runWithConnectLogger } from '../api/log.ts'
import { lazyModule } from '../api/plugin.ts'
import type { SinkRecord, SourceRecord } from '../api/records.ts'
import { asConnectLogger, type Logger } from '../common/logger.ts'
import {
  type State,
  type StatusListener,
  type TargetState,
  type TaskId,
  taskIdString,
} from '../common/states.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { type Log, parseCompressionType, producerBufferMemory, sinkConsumerSettings } from '../log/log.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'
import { ConnectorOffsetStore } from '../storage/connector-offset-store.ts'
import { ensureOffsetsTopic } from '../storage/kafka/internal-topics.ts'
import { KafkaOffsetStore } from '../storage/kafka/kafka-offset-store.ts'
import type { OffsetStore } from '../storage/offset-store.ts'
import { ConfigReloads } from './config-reloads.ts'
import {
  ConfigProviders,
  hasReferences,
  type Resolution,
  resolutionError,
  resolutionFailed,
  reverseTransform,
} from './config-transformer.ts'
import { sameServers } from './config-validation.ts'
import type { TransactionBoundary } from './connector-config.ts'
import { createConverters } from './converters.ts'
import { ErrorHandler, type ErrorMetrics, errorHandlerConfig } from './errors/error-handler.ts'
import { DeadLetterQueueReporter, type ErrorReporter, LogReporter } from './errors/error-reporter.ts'
import { exactlyOnceOverrideWarnings, transactionalId } from './exactly-once.ts'
import { ConnectorOffsetReader, ConnectorOffsetWriter } from './offset-storage.ts'
import { ResolvingTask, type RunningTask } from './resolving-task.ts'
import { maskedError, maskingStatusListener } from './secret-masking.ts'
import { SinkTaskRunner } from './sink-task-runner.ts'
import { type ExactlyOnceOptions, SourceTaskRunner } from './source-task-runner.ts'
import { type StartupCounters, TaskMetrics } from './task-metrics.ts'
import type { TaskRunner } from './task-runner.ts'
import type { TaskThreadPool } from './task-threads.ts'
import { TopicCreator } from './topic-creator.ts'
import { TransformationChain } from './transformation-chain.ts'

export type ConnectorType = 'source' | 'sink'

/** The `producer.override.*` keys a source task's producer takes (docs/operating-a-cluster.md). */
const HONOURED_PRODUCER_OVERRIDES = ['producer.override.compression.type', 'producer.override.buffer.memory']

/**
 * A source connector's `producer.override.*` keys Sluice does not apply, to be warned of at its start
 * rather than silently dropped (Kafka Connect's default `connector.client.config.override.policy`,
 * `All`, refuses none). Under exactly-once, `enable.idempotence` and `transactional.id` are warned of
 * by each task, with the value it uses instead. A `bootstrap.servers` naming the worker's own brokers
 * says what Sluice does anyway.
 */
function ignoredProducerOverrides(props: Props, exactlyOnce: boolean, workerServers: string[]): string[] {
  const forced = ['producer.override.enable.idempotence', 'producer.override.transactional.id']
  const servers = props['producer.override.bootstrap.servers']
  return Object.keys(props)
    .filter((key) => key.startsWith('producer.override.') && !HONOURED_PRODUCER_OVERRIDES.includes(key))
    .filter((key) => !(exactlyOnce && forced.includes(key)))
    .filter(
      (key) =>
        !(
          key === 'producer.override.bootstrap.servers' &&
          workerServers.length > 0 &&
          sameServers(servers!, workerServers)
        ),
    )
    .sort()
}

export interface WorkerOptions {
  config: WorkerConfig
  log: Log
  plugins: PluginRegistry
  offsetStore: OffsetStore
  statusListener: StatusListener
  logger: Logger
  workerId: string
  /** The worker's config providers (`config.providers`); none by default. */
  configProviders?: ConfigProviders
  /**
   * The module a task thread starts from (cli/task-thread.ts), when `task.threads` is not 0: tasks
   * then run in threads (decision 0029). Without it every task runs on this thread.
   */
  taskThreadEntry?: URL
  /** Makes each task's metrics (a task thread's forward them); `new TaskMetrics` by default. */
  taskMetrics?: (id: TaskId, type: ConnectorType) => TaskMetrics
}

interface RunningConnector {
  readonly name: string
  readonly type: ConnectorType
  readonly instance: Connector
  /** The config as stored, `${…}` references included. */
  readonly rawProps: Props
  /** The config the instance runs with: references resolved once it started. */
  props: Props
  resolution: Resolution | undefined
  readonly callbacks: ConnectorCallbacks
  state: State
  target: TargetState
  /** The store of its own offsets topic, opened when the connector first reads an offset. */
  offsets?: ConnectorOffsetStore
}

/** What `GET /metrics` shows of this worker (Kafka Connect's worker, connector and task metric groups). */
export interface WorkerMetricsSnapshot {
  startup: Readonly<StartupCounters>
  /** Connectors with an instance on this worker. */
  connectors: { name: string; className: string; type: ConnectorType; version: string; state: State }[]
  /** Tasks running on this worker. */
  tasks: { id: TaskId; state: State; metrics: TaskMetrics; errors: Readonly<ErrorMetrics> | undefined }[]
}

/** What a task was started with, to start it again when a provider's value changes. */
interface TaskSource {
  readonly id: TaskId
  readonly connectorProps: Props
  readonly taskProps: Props
  readonly options: TaskStartOptions
}

export interface TaskStartOptions {
  /** The group generation the task was assigned in (distributed), for its status records. */
  generation?: number
  /**
   * Exactly-once source only: awaited before the task claims its transactional id — the leader's
   * round of zombie fencing of the connector's previous task generation (distributed).
   */
  fenceBeforeClaim?: () => Promise<void>
}

export interface ConnectorCallbacks {
  /** The connector asked for its task configs to be regenerated. */
  onReconfigurationRequested(name: string): void
}

// Task threads' modules (and node:worker_threads) load only for a worker that has them (decision 0035).
const taskThreads = lazyModule<typeof import('./task-threads.ts')>(import.meta.url, './task-threads.ts')

/** `task.threads`: a number, or `auto` for one per core. */
function taskThreadCount(value: string): number {
  const v = value.trim().toLowerCase()
  return v === 'auto' ? availableParallelism() : Number(v)
}

export class Worker {
  readonly #o: WorkerOptions
  readonly #connectors = new Map<string, RunningConnector>()
  readonly #tasks = new Map<string, RunningTask>()
  /** Each task's error counters: its ErrorHandler's, or what its thread last reported. */
  readonly #errorHandlers = new Map<string, { readonly metrics: ErrorMetrics | undefined }>()
  readonly #threads: TaskThreadPool | undefined
  readonly #providers: ConfigProviders
  /** Status reports with values from config providers masked in their traces. */
  readonly #status: StatusListener
  readonly #taskSources = new Map<string, TaskSource>()
  /** Re-reads of provider values (TTLs), by `connector:<name>` or `task:<id>`. */
  readonly #reloads: ConfigReloads
  /** Restarts for a changed provider value in progress; a stop in the meantime cancels the restart. */
  readonly #reloading = new Map<string, { cancelled: boolean; done: Promise<void> }>()
  readonly #startup: StartupCounters = {
    connectorStartupAttempts: 0,
    connectorStartupSuccesses: 0,
    connectorStartupFailures: 0,
    taskStartupAttempts: 0,
    taskStartupSuccesses: 0,
    taskStartupFailures: 0,
  }

  constructor(options: WorkerOptions) {
    this.#o = options
    this.#workerId = options.workerId
    this.#providers = options.configProviders ?? ConfigProviders.none()
    this.#status = maskingStatusListener(options.statusListener)
    this.#reloads = new ConfigReloads(options.logger)
    const threads = taskThreadCount(options.config.getString('task.threads'))
    if (threads > 0 && options.taskThreadEntry) {
      this.#threads = new (taskThreads().TaskThreadPool)({
        entry: options.taskThreadEntry,
        threads,
        originals: options.config.originals(),
        distributed: options.config.originals()['group.id'] !== undefined,
        log: options.log,
        offsetStore: options.offsetStore,
        logger: options.logger,
      })
    }
  }

  #workerId: string
  #generation = 0

  /** `host:port` of this worker's REST listener, as status reports it. */
  get workerId(): string {
    return this.#workerId
  }

  set workerId(id: string) {
    this.#workerId = id
  }

  /**
   * The group generation status reports carry (Connect's herder `generation()`), for a distributed
   * herder to set after each rebalance; 0 in standalone mode. Read at each report, so a task started
   * in one generation reports the current one.
   */
  get generation(): number {
    return this.#generation
  }

  set generation(generation: number) {
    this.#generation = generation
  }

  get log(): Log {
    return this.#o.log
  }

  get plugins(): PluginRegistry {
    return this.#o.plugins
  }

  get offsetStore(): OffsetStore {
    return this.#o.offsetStore
  }

  /**
   * A source connector's own offsets store (Kafka Connect's `Worker.offsetStoreFor…`), for a
   * distributed worker running a connector with its own `offsets.storage.topic` (another topic than
   * the worker's `offset.storage.topic`): that topic first, the worker's offset store as fallback.
   * Undefined otherwise: the worker's offset store serves the connector (standalone, the key has no
   * effect, as in Kafka Connect). The caller closes what it gets.
   */
  ownOffsetStore(connectorProps: Props, clientId: string): ConnectorOffsetStore | undefined {
    const topic = connectorProps['offsets.storage.topic']?.trim()
    const topics = this.#o.config.connectorOffsetsTopics
    if (!topic || !topics || topic === topics.workerTopic) return undefined
    const { log, logger } = this.#o
    return new ConnectorOffsetStore({
      own: new KafkaOffsetStore(log, topic, clientId, logger),
      prepare: () =>
        ensureOffsetsTopic(
          log,
          topic,
          { partitions: topics.partitions, replicationFactor: topics.replicationFactor },
          'offsets.storage.topic',
        ),
      global: this.#o.offsetStore,
      logger,
    })
  }

  /** Runs `use` with a source connector's offset store (one of its own is opened for it, then closed). */
  async withSourceOffsetStore<T>(
    connector: string,
    connectorProps: Props,
    use: (store: OffsetStore) => Promise<T>,
  ): Promise<T> {
    const own = this.ownOffsetStore(connectorProps, `connector-offsets-${connector}`)
    try {
      return await use(own ?? this.#o.offsetStore)
    } finally {
      await own?.close()
    }
  }

  /**
   * Source tasks run exactly-once: `exactly.once.source.support=enabled` on Kafka (distributed), or
   * the embedded log's default when the offsets are kept in the log (the standalone worker's store,
   * decision 0032); a worker given an offset store outside the log runs them at-least-once.
   */
  get exactlyOnceSource(): boolean {
    const { config, log, offsetStore } = this.#o
    if (config.exactlyOnceSource !== 'enabled') return false
    return log.kind === 'kafka' || offsetStore.transactionRecords !== undefined
  }

  /** The worker's config providers: validation resolves `${…}` references with them too. */
  get configProviders(): ConfigProviders {
    return this.#providers
  }

  /** Whether the class names a source or a sink connector; throws a ConfigError listing what is installed. */
  connectorType(className: string): ConnectorType {
    return this.#o.plugins.resolve(className, ['source', 'sink'], 'connector.class').type as ConnectorType
  }

  newConnector(className: string): Connector {
    return this.#o.plugins.resolve<Connector>(className, ['source', 'sink'], 'connector.class').create()
  }

  /**
   * Creates and starts a connector instance. Its state is reported; a failure to start leaves it
   * FAILED (with the trace) and resolves false instead of throwing.
   */
  async startConnector(
    name: string,
    props: Props,
    target: TargetState,
    callbacks: ConnectorCallbacks,
  ): Promise<boolean> {
    if (this.#connectors.has(name))
      throw new ConnectError('CONFLICT', `connector ${name} is already running on this worker`)
    const className = props['connector.class']
    let instance: Connector
    let type: ConnectorType
    this.#startup.connectorStartupAttempts++
    try {
      type = this.connectorType(className)
      instance = this.newConnector(className)
    } catch (error) {
      this.#startup.connectorStartupFailures++
      this.#reportConnector(name, 'FAILED', errorTrace(error))
      return false
    }
    if (target === 'STOPPED') {
      // A stopped connector has no instance on the worker (as after PUT /stop): resuming starts it afresh.
      this.#reportConnector(name, 'STOPPED')
      return true
    }
    const running: RunningConnector = {
      name,
      type,
      instance,
      rawProps: props,
      props,
      resolution: undefined,
      callbacks,
      state: 'UNASSIGNED',
      target,
    }
    this.#connectors.set(name, running)
    const context: SourceConnectorContext = {
      requestTaskReconfiguration: () => callbacks.onReconfigurationRequested(name),
      raiseError: (error: Error) => {
        this.#o.logger.error(`connector ${name} raised an error: ${errorMessage(error)}`)
        running.state = 'FAILED'
        this.#reportConnector(name, 'FAILED', errorTrace(error))
      },
      offsetStorageReader: () => new ConnectorOffsetReader(name, this.#connectorOffsets(running)),
    }
    if (type === 'source')
      for (const key of ignoredProducerOverrides(
        props,
        this.exactlyOnceSource,
        this.#o.config.getList('bootstrap.servers'),
      ))
        this.#o.logger.warn(
          `connector ${name}: ${key} is ignored: Sluice's source task producers take only ${HONOURED_PRODUCER_OVERRIDES.join(' and ')}` +
            (this.exactlyOnceSource ? ' (and set enable.idempotence and transactional.id themselves)' : ''),
        )
    if (type === 'source' && props['offsets.storage.topic']?.trim() && !this.#o.config.connectorOffsetsTopics)
      this.#o.logger.warn(
        `connector ${name}: offsets.storage.topic has no effect on a standalone worker (as in Kafka Connect); its offsets are kept in the worker's offset store`,
      )
    instance.initialize(context)
    try {
      if (hasReferences(props)) {
        const resolution = await this.#providers.resolve(props)
        if (this.#connectors.get(name) !== running) return false
        if (resolutionFailed(resolution)) throw resolutionError(resolution)
        running.props = resolution.props
        running.resolution = resolution
      }
      await this.#asConnector(name, () => instance.start(running.props))
    } catch (error) {
      if (this.#connectors.get(name) !== running) return false // stopped meanwhile: nothing to report
      this.#startup.connectorStartupFailures++
      this.#o.logger.error(`connector ${name} failed to start: ${errorMessage(error)}`)
      running.state = 'FAILED'
      this.#reportConnector(name, 'FAILED', errorTrace(error))
      return false
    }
    if (this.#connectors.get(name) !== running) {
      // Stopped (or deleted) while start() ran: stop the instance it left started, report nothing.
      this.#o.logger.info(`connector ${name} was stopped while it started; stopping it`)
      try {
        await this.#asConnector(name, () => instance.stop())
      } catch (error) {
        this.#o.logger.warn(`connector ${name} failed to stop cleanly: ${errorMessage(error)}`)
      }
      return false
    }
    running.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING'
    this.#startup.connectorStartupSuccesses++
    this.#reportConnector(name, running.state)
    this.#o.logger.info(`connector ${name} started (${className})`)
    if (running.resolution) this.#watchConnector(running, running.resolution)
    return true
  }

  /** The connector instance's offset store: the worker's, or one of its own topic opened on first use. */
  #connectorOffsets(c: RunningConnector): OffsetStore {
    c.offsets ??= this.ownOffsetStore(c.props, `connector-offsets-${c.name}`)
    return c.offsets ?? this.#o.offsetStore
  }

  async #closeConnectorOffsets(c: RunningConnector): Promise<void> {
    // Closed even if never opened: a connector reading offsets after its stop (from a start() still
    // under way, or a thread of its own) gets an error instead of a reader nobody would close.
    c.offsets ??= this.ownOffsetStore(c.props, `connector-offsets-${c.name}`)
    await c.offsets
      ?.close()
      .catch((error) =>
        this.#o.logger.warn(
          `connector ${c.name}: closing its offsets topic reader failed: ${errorMessage(error)}`,
        ),
      )
  }

  isConnectorRunning(name: string): boolean {
    const c = this.#connectors.get(name)
    return c !== undefined && (c.state === 'RUNNING' || c.state === 'PAUSED')
  }

  /** The connector's task configs, at most `tasks.max` of them (Kafka's `tasks.max.enforce`). */
  async connectorTaskConfigs(name: string): Promise<Props[]> {
    const c = this.#connectors.get(name)
    if (!c) throw new ConnectError('NOT_FOUND', `Connector ${name} not found`)
    const maxTasks = Number(c.props['tasks.max'] ?? '1')
    let generated: Props[]
    try {
      generated = await this.#asConnector(name, () => c.instance.taskConfigs(maxTasks))
    } catch (error) {
      throw maskedError(error)
    }
    // Stored and shown with the references, never the values (resolved again where a task runs).
    const configs = c.resolution ? reverseTransform(c.rawProps, c.resolution, generated) : generated
    if (configs.length > maxTasks) {
      throw new ConnectError(
        'CONNECT',
        `The connector ${name} has generated ${configs.length} tasks, which is greater than ${maxTasks}, the maximum number of tasks it is configured to create.`,
      )
    }
    const taskClass = this.#taskClassName(c.props['connector.class'], c.instance)
    return configs.map((tc) => ({ ...tc, 'task.class': taskClass }))
  }

  /**
   * Kafka Connect writes each task config with `task.class` = the task's Java class name, which a
   * Java worker loads to run the task; `GET /connectors/{c}/tasks` shows it. Sluice names the task as
   * Java would, the connector's package + the task class's name (e.g.
   * `org.apache.kafka.connect.file.FileStreamSourceTask`), in both modes, so a Java worker in the
   * same cluster can run tasks whose configs a Sluice worker generated. Sluice itself does not read it.
   */
  #taskClassName(connectorClass: string, connector: Connector): string {
    const canonical = this.#o.plugins.resolve(connectorClass, ['source', 'sink'], 'connector.class').className
    const dot = canonical.lastIndexOf('.')
    const simple = canonical.slice(dot + 1)
    const task =
      (connector as SourceConnector | SinkConnector).taskClass().name ||
      simple.replace(/(Connector)?$/, 'Task')
    return `${canonical.slice(0, dot + 1)}${task}`
  }

  async stopConnector(name: string): Promise<void> {
    const unit = `connector:${name}`
    const reload = this.#reloading.get(unit)
    if (reload) {
      reload.cancelled = true
      await reload.done
    }
    this.#reloads.cancel(unit)
    const c = this.#connectors.get(name)
    if (!c) return
    this.#connectors.delete(name)
    if (c.state === 'RUNNING' || c.state === 'PAUSED') {
      try {
        await this.#asConnector(name, () => c.instance.stop())
      } catch (error) {
        this.#o.logger.warn(`connector ${name} failed to stop cleanly: ${errorMessage(error)}`)
      }
    }
    await this.#closeConnectorOffsets(c)
  }

  setConnectorTargetState(name: string, target: TargetState): void {
    const c = this.#connectors.get(name)
    if (c && c.state !== 'FAILED') {
      c.target = target
      if (target !== 'STOPPED') {
        c.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING'
        this.#reportConnector(name, c.state)
      }
    }
    for (const runner of this.#tasks.values()) {
      if (runner.id.connector === name && target !== 'STOPPED') runner.transitionTo(target)
    }
  }

  /**
   * Starts one task. Failures to build it (bad converter, transform…) leave it FAILED with the trace.
   */
  startTask(
    id: TaskId,
    connectorProps: Props,
    taskProps: Props,
    target: TargetState,
    options: TaskStartOptions = {},
  ): void {
    const key = taskIdString(id)
    if (this.#tasks.has(key))
      throw new ConnectError('CONFLICT', `task ${key} is already running on this worker`)
    this.#startup.taskStartupAttempts++
    let runner: RunningTask
    if (hasReferences(connectorProps) || hasReferences(taskProps)) {
      // Built once the providers answered; stands in for the runner meanwhile.
      runner = new ResolvingTask(id, target, async (stopped, currentTarget) => {
        const resolved = await this.#resolveTask(connectorProps, taskProps)
        if (stopped()) return undefined
        if (resolved instanceof Error) {
          this.#taskFailed(id, resolved, options.generation)
          return undefined
        }
        const built = this.#tryBuildTask(
          id,
          resolved.connector.props,
          resolved.task.props,
          currentTarget(),
          options,
        )
        if (built) this.#watchTask(key, [resolved.connector, resolved.task])
        return built
      })
    } else {
      const built = this.#tryBuildTask(id, connectorProps, taskProps, target, options)
      if (!built) return
      runner = built
    }
    this.#taskSources.set(key, { id, connectorProps, taskProps, options })
    this.#tasks.set(key, runner)
    runner.start()
  }

  #tryBuildTask(
    id: TaskId,
    connectorProps: Props,
    taskProps: Props,
    target: TargetState,
    options: TaskStartOptions,
  ): RunningTask | undefined {
    try {
      // Inside the try: an unknown connector class fails this task, not the caller (a rebalance).
      if (this.#threads && !this.#exactlyOnceSource(connectorProps)) {
        return this.#threadedTask(id, connectorProps, taskProps, target, options.generation)
      }
      const runner = this.buildTaskRunner(id, connectorProps, taskProps, target, options)
      this.#startup.taskStartupSuccesses++
      return runner
    } catch (error) {
      this.#taskFailed(id, error, options.generation)
      return undefined
    }
  }

  /** A task that runs in a task thread; its status and metrics come from there (decision 0029). */
  #threadedTask(
    id: TaskId,
    connectorProps: Props,
    taskProps: Props,
    target: TargetState,
    generation: number | undefined,
  ): RunningTask | undefined {
    let type: ConnectorType
    try {
      type = this.connectorType(connectorProps['connector.class'])
    } catch (error) {
      this.#taskFailed(id, error, generation)
      return undefined
    }
    const key = taskIdString(id)
    const task = this.#threads!.task(
      id,
      type,
      { connectorProps, taskProps, target, generation, workerId: this.#workerId },
      {
        status: (state, trace) =>
          this.#status.onTaskStatus(id, {
            state,
            trace,
            workerId: this.#workerId,
            generation: generation ?? this.#generation,
          }),
        topicActive: (topic) => this.#status.onTopicActive(id.connector, topic, id.task),
        built: (error) => {
          if (error === undefined) this.#startup.taskStartupSuccesses++
          else {
            this.#startup.taskStartupFailures++
            this.#o.logger.error(`task ${key} could not be created: ${error.message}`)
            this.#status.onTaskStatus(id, {
              state: 'FAILED',
              trace: error.trace,
              workerId: this.#workerId,
              generation: generation ?? this.#generation,
            })
          }
        },
      },
    )
    this.#errorHandlers.set(key, {
      get metrics() {
        return task.errorMetrics
      },
    })
    return task
  }

  /** Whether the worker runs this connector's source tasks exactly-once: those stay on the main thread. */
  #exactlyOnceSource(connectorProps: Props): boolean {
    return this.exactlyOnceSource && this.connectorType(connectorProps['connector.class']) === 'source'
  }

  #taskFailed(id: TaskId, error: unknown, generation: number | undefined): void {
    this.#startup.taskStartupFailures++
    this.#o.logger.error(`task ${taskIdString(id)} could not be created: ${errorMessage(error)}`)
    this.#status.onTaskStatus(id, {
      state: 'FAILED',
      trace: errorTrace(error),
      workerId: this.#workerId,
      generation: generation ?? this.#generation,
    })
  }

  async #resolveTask(
    connectorProps: Props,
    taskProps: Props,
  ): Promise<{ connector: Resolution; task: Resolution } | Error> {
    try {
      const [connector, task] = await Promise.all([
        this.#providers.resolve(connectorProps),
        this.#providers.resolve(taskProps),
      ])
      for (const resolution of [connector, task])
        if (resolutionFailed(resolution)) return resolutionError(resolution)
      return { connector, task }
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error))
    }
  }

  taskState(id: TaskId): State | undefined {
    return this.#tasks.get(taskIdString(id))?.state
  }

  runningTasks(connector?: string): TaskId[] {
    return [...this.#tasks.values()].map((t) => t.id).filter((id) => !connector || id.connector === connector)
  }

  /** Stops tasks, all at once, within the worker's graceful shutdown timeout (a total across them). */
  async stopTasks(ids: readonly TaskId[]): Promise<void> {
    const timeout = this.#o.config.getLong('task.shutdown.graceful.timeout.ms')
    for (const id of ids) {
      const unit = `task:${taskIdString(id)}`
      const reload = this.#reloading.get(unit)
      if (reload) reload.cancelled = true
      this.#reloads.cancel(unit)
    }
    const runners = ids.map((id) => this.#tasks.get(taskIdString(id))).filter((r): r is RunningTask => !!r)
    await Promise.all(runners.map((r) => r.stop(timeout)))
    for (const r of runners) {
      const key = taskIdString(r.id)
      if (this.#tasks.get(key) === r) {
        this.#tasks.delete(key)
        this.#taskSources.delete(key)
      }
    }
  }

  /** Stops everything: tasks first (they flush and commit), then connectors. */
  async stop(): Promise<void> {
    await this.stopTasks([...this.#tasks.values()].map((t) => t.id))
    await Promise.all([...this.#connectors.keys()].map((name) => this.stopConnector(name)))
    this.#reloads.cancelAll()
    await this.#threads?.close()
  }

  // ── Values from config providers that change (config-reloads.ts) ──────────────────────────

  #watchConnector(c: RunningConnector, resolution: Resolution): void {
    const unit = `connector:${c.name}`
    this.#reloads.watch(unit, [resolution], {
      reread: async () =>
        this.#connectors.get(c.name) === c ? [await this.#providers.resolve(c.rawProps)] : undefined,
      restart: () => this.#restartForReload(unit, this.#restartConnector(c)),
    })
  }

  #watchTask(key: string, resolutions: Resolution[]): void {
    const source = this.#taskSources.get(key)
    if (!source) return
    const unit = `task:${key}`
    this.#reloads.watch(unit, resolutions, {
      reread: async () =>
        this.#taskSources.get(key) === source
          ? Promise.all([
              this.#providers.resolve(source.connectorProps),
              this.#providers.resolve(source.taskProps),
            ])
          : undefined,
      restart: () => this.#restartForReload(unit, this.#restartTask(source)),
    })
  }

  // ── Values from config providers that change (TTLs, config.action.reload) ──────────────────

  async #restartForReload(
    unit: string,
    restart: (state: { cancelled: boolean }) => Promise<void>,
  ): Promise<void> {
    const state = { cancelled: false, done: Promise.resolve() }
    state.done = restart(state).finally(() => this.#reloading.delete(unit))
    this.#reloading.set(unit, state)
    await state.done
  }

  #restartConnector(c: RunningConnector): (state: { cancelled: boolean }) => Promise<void> {
    return async (state) => {
      if (this.#connectors.get(c.name) !== c) return
      this.#connectors.delete(c.name)
      try {
        await this.#asConnector(c.name, () => c.instance.stop())
      } catch (error) {
        this.#o.logger.warn(`connector ${c.name} failed to stop cleanly: ${errorMessage(error)}`)
      }
      await this.#closeConnectorOffsets(c)
      if (state.cancelled || this.#connectors.has(c.name)) return
      const started = await this.startConnector(c.name, c.rawProps, c.target, c.callbacks)
      if (started) c.callbacks.onReconfigurationRequested(c.name)
    }
  }

  #restartTask(source: TaskSource): (state: { cancelled: boolean }) => Promise<void> {
    return async (state) => {
      const key = taskIdString(source.id)
      const runner = this.#tasks.get(key)
      if (!runner || this.#taskSources.get(key) !== source) return
      await runner.stop(this.#o.config.getLong('task.shutdown.graceful.timeout.ms'))
      if (state.cancelled || this.#tasks.get(key) !== runner) return
      this.#tasks.delete(key)
      this.#taskSources.delete(key)
      this.startTask(source.id, source.connectorProps, source.taskProps, runner.targetState, source.options)
    }
  }

  /**
   * Builds a task's runner, to run on this thread. A task thread builds its runners with this too
   * (task-thread-host.ts), on a Worker of its own.
   */
  buildTaskRunner(
    id: TaskId,
    connectorProps: Props,
    taskProps: Props,
    target: TargetState,
    options: TaskStartOptions,
  ): TaskRunner {
    const { generation } = options
    const { config, log, plugins, logger } = this.#o
    const className = connectorProps['connector.class']
    const connector = this.newConnector(className)
    const type = this.connectorType(className)
    const metrics = this.#o.taskMetrics?.(id, type) ?? new TaskMetrics(id.connector, id.task, type)
    const ctx = {
      metrics,
      id,
      workerId: this.#workerId,
      statusListener: this.#status,
      logger: logger.child({ connector: id.connector, task: id.task }),
      // The generation the task was assigned in, else the worker's current one.
      generation: () => generation ?? this.#generation,
    }
    const converters = createConverters(config, connectorProps, plugins)
    const flushInterval = config.getLong('offset.flush.interval.ms')
    const flushTimeout = config.getLong('offset.flush.timeout.ms')
    const clientSuffix = `${id.connector}-${id.task}`
    const errorHandler = this.#errorHandler(
      connectorProps,
      ctx.logger,
      `connector-dlq-producer-${clientSuffix}`,
    )
    this.#errorHandlers.set(taskIdString(id), errorHandler)
    if (type === 'source') {
      const task = new ((connector as SourceConnector).taskClass())()
      const own = this.ownOffsetStore(connectorProps, `connector-offsets-${clientSuffix}`)
      const offsets = own ?? this.#o.offsetStore
      const transactional = this.#exactlyOnce(
        id,
        connectorProps,
        flushInterval,
        options.fenceBeforeClaim,
        offsets,
      )
      return new SourceTaskRunner(ctx, target, {
        ...(transactional ? { transactional } : {}),
        ...(own ? { ownOffsetStore: own } : {}),
        task,
        taskConfig: taskProps,
        converters,
        transforms: TransformationChain.fromConfig<SourceRecord>(connectorProps, plugins),
        producer: log.createProducer({
          clientId: `connector-producer-${clientSuffix}`,
          compression: parseCompressionType(
            connectorProps['producer.override.compression.type'],
            'producer.override.compression.type',
          ),
          // Order within a partition must hold across the client's own retries (Connect: 1).
          maxInFlight: 1,
        }),
        offsetReader: new ConnectorOffsetReader(id.connector, offsets),
        // One writer per task (Connect's OffsetStorageWriter): a task's flush carries only its own
        // offsets, and pending offsets die with the task instead of overwriting a later offset reset.
        offsetWriter: new ConnectorOffsetWriter(id.connector, offsets),
        topicCreator: new TopicCreator(
          log,
          connectorProps,
          config.getBoolean('topic.creation.enable'),
          logger,
        ),
        offsetFlushIntervalMs: flushInterval,
        offsetFlushTimeoutMs: flushTimeout,
        errorHandler,
        bufferMemory: producerBufferMemory(config.originals(), connectorProps),
      })
    }
    const task = new ((connector as SinkConnector).taskClass())()
    return new SinkTaskRunner(ctx, target, {
      task,
      taskConfig: taskProps,
      converters,
      transforms: TransformationChain.fromConfig<SinkRecord>(connectorProps, plugins),
      consumer: log.createConsumer({
        groupId: `connect-${id.connector}`,
        clientId: `connector-consumer-${clientSuffix}`,
        ...sinkConsumerSettings(config.originals(), connectorProps),
      }),
      topics: sinkTopics(connectorProps),
      offsetFlushIntervalMs: flushInterval,
      offsetFlushTimeoutMs: flushTimeout,
      errorHandler,
    })
  }

  /**
   * Exactly-once settings of a source task (KIP-618) when the worker has
   * `exactly.once.source.support=enabled` (distributed on Kafka, or the embedded log's default):
   * its transactional producer with `transactional.id=<group.id>-<connector>-<task>`, as Kafka
   * Connect names it (so a Java worker taking the task over fences this one, and the reverse), and
   * its transaction boundary.
   */
  #exactlyOnce(
    id: TaskId,
    connectorProps: Props,
    flushInterval: number,
    fenceBeforeClaim: (() => Promise<void>) | undefined,
    store: OffsetStore,
  ): ExactlyOnceOptions | undefined {
    const { config, log } = this.#o
    const worker = config.originals()
    if (!this.exactlyOnceSource) return undefined
    if (!log.createTransactionalProducer || !store.transactionRecords || !store.applyCommitted) {
      throw new ConnectError(
        'CONFIG',
        'exactly.once.source.support=enabled needs a log with transactions and offsets kept in it (distributed on Kafka, or the embedded log)',
      )
    }
    const boundary = (connectorProps['transaction.boundary'] ?? 'poll')
      .trim()
      .toLowerCase() as TransactionBoundary
    const interval = connectorProps['transaction.boundary.interval.ms']?.trim()
    const beforeCommit = store.beforeCommit?.bind(store)
    const txId = transactionalId(worker['group.id'] ?? '', id)
    for (const warning of exactlyOnceOverrideWarnings(connectorProps, id, txId)) this.#o.logger.warn(warning)
    return {
      producer: log.createTransactionalProducer({
        clientId: `connector-producer-${id.connector}-${id.task}`,
        transactionalId: txId,
        compression: parseCompressionType(
          connectorProps['producer.override.compression.type'],
          'producer.override.compression.type',
        ),
      }),
      ...(fenceBeforeClaim ? { fenceBeforeClaim } : {}),
      boundary,
      brokerTransactions: log.kind === 'kafka',
      intervalMs: interval ? Number(interval) : flushInterval,
      offsetRecords: (entries) => store.transactionRecords!(entries),
      ...(beforeCommit ? { beforeCommit } : {}),
      committed: (entries) => store.applyCommitted!(entries),
    }
  }

  /** Runs a call into the connector with its logger as the API's `connectLogger()`. */
  #asConnector<T>(name: string, call: () => T): T {
    return runWithConnectLogger(asConnectLogger(this.#o.logger.child({ connector: name })), call)
  }

  #errorHandler(props: Props, logger: Logger, dlqClientId: string): ErrorHandler {
    const reporters: ErrorReporter[] = []
    if ((props['errors.log.enable'] ?? 'false').toLowerCase() === 'true') {
      reporters.push(
        new LogReporter(logger, (props['errors.log.include.messages'] ?? 'false').toLowerCase() === 'true'),
      )
    }
    if (props['errors.deadletterqueue.topic.name']?.trim()) {
      reporters.push(new DeadLetterQueueReporter(this.#o.log, props, dlqClientId))
    }
    return new ErrorHandler(errorHandlerConfig(props), reporters, logger)
  }

  /** Error counters of a task that ran on this worker (kept after it stops, until it is started again). */
  taskErrorMetrics(id: TaskId): ErrorMetrics | undefined {
    return this.#errorHandlers.get(taskIdString(id))?.metrics
  }

  /** The worker's metrics now: startup counters, its connectors and its tasks. */
  metrics(): WorkerMetricsSnapshot {
    const connectors: WorkerMetricsSnapshot['connectors'] = []
    for (const c of this.#connectors.values()) {
      let version = 'unknown'
      try {
        version = c.instance.version()
      } catch {
        // A connector whose version() throws is shown with version 'unknown'.
      }
      const className = this.#o.plugins.resolve(
        c.props['connector.class'],
        ['source', 'sink'],
        'connector.class',
      ).className
      connectors.push({ name: c.name, className, type: c.type, version, state: c.state })
    }
    const tasks: WorkerMetricsSnapshot['tasks'] = []
    for (const [key, runner] of this.#tasks) {
      if (runner.taskMetrics === undefined) continue // still resolving its config
      tasks.push({
        id: runner.id,
        state: runner.state,
        metrics: runner.taskMetrics,
        errors: this.#errorHandlers.get(key)?.metrics,
      })
    }
    return { startup: { ...this.#startup }, connectors, tasks }
  }

  #reportConnector(name: string, state: State, trace: string | null = null): void {
    this.#status.onConnectorStatus(name, {
      state,
      trace,
      workerId: this.#workerId,
      generation: this.#generation,
    })
  }
}

export function sinkTopics(props: Props): string[] | RegExp {
  const regex = props['topics.regex']?.trim()
  // Java's Pattern.matcher(topic).matches(): the whole topic name must match.
  if (regex) return javaRegexFor('topics.regex', regex).whole
  const topics = (props.topics ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
  if (topics.length === 0) throw new ConfigError('topics', 'Must configure one of topics or topics.regex')
  return topics
}
