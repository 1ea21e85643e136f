/**
 * The herder of a standalone worker: every connector runs here. Connector configs and target
 * states persist in the config store (a file under the data dir), so a restarted worker resumes
 * them; operations run one at a time, in order, like Kafka Connect's herder thread.
 */
import type { Props } from '../../api/connector.ts'
import { AlreadyExistsError, ConfigError, errorMessage, errorTrace, NotFoundError } from '../../api/errors.ts'
import type { PluginDescriptor } from '../../api/plugin.ts'
import type { Logger } from '../../common/logger.ts'
import type { TargetState } from '../../common/states.ts'
import {
  type ConfigInfos,
  invalidConfigMessage,
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
import type { ConfigStore } from '../../storage/config-store.ts'
import type { MemoryStatusStore } from '../../storage/memory-status-store.ts'
import { alterConnectorOffsets, type OffsetsSubject, resetConnectorOffsets } from '../connector-offsets.ts'
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

interface ConnectorEntry {
  config: Props
  target: TargetState
  taskConfigs: Props[]
}

export interface StandaloneHerderOptions {
  worker: Worker
  configStore: ConfigStore
  statusStore: MemoryStatusStore
  logger: Logger
  /** Where KIP-558 active topics are kept; shared with the log wrapper that records them. */
}

export class StandaloneHerder implements Herder {
  readonly #worker: Worker
  readonly #store: ConfigStore
  readonly #status: MemoryStatusStore
  readonly #logger: Logger
  readonly #connectors = new Map<string, ConnectorEntry>()
  #queue: Promise<unknown> = Promise.resolve()
  #ready = false

  constructor(options: StandaloneHerderOptions) {
    this.#worker = options.worker
    this.#store = options.configStore
    this.#status = options.statusStore
    this.#logger = options.logger
  }

  get ready(): boolean {
    return this.#ready
  }

  readiness(): { ready: boolean; message: string } {
    return this.#ready
      ? { ready: true, message: 'Worker has completed startup and is ready to handle requests.' }
      : { ready: false, message: 'Worker is still starting up.' }
  }

  workerMetrics(): HerderMetrics {
    return this.#worker.metrics()
  }

  async start(): Promise<void> {
    await this.#serial(async () => {
      for (const [name, stored] of await this.#store.load()) {
        this.#connectors.set(name, { config: stored.config, target: stored.targetState, taskConfigs: [] })
        await this.#startConnectorAndTasks(name)
      }
      this.#ready = true
    })
  }

  async stop(): Promise<void> {
    await this.#serial(async () => {
      this.#ready = false
      await this.#worker.stop()
      await this.#store.close()
    })
  }

  kafkaClusterId(): Promise<string> {
    return this.#worker.log.clusterId()
  }

  connectors(): string[] {
    return [...this.#connectors.keys()].sort()
  }

  connectorInfo(name: string): ConnectorInfo {
    const entry = this.#entry(name)
    return {
      name,
      config: { ...entry.config },
      tasks: entry.taskConfigs.map((_, task) => ({ connector: name, task })),
      type: this.#type(entry.config),
    }
  }

  connectorConfig(name: string): Record<string, string> {
    return { ...this.#entry(name).config }
  }

  async putConnectorConfig(
    name: string,
    config: Props,
    options: { allowReplace: boolean; initialState?: TargetState },
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.#serial(async () => {
      const exists = this.#connectors.has(name)
      if (exists && !options.allowReplace) throw new AlreadyExistsError(`Connector ${name} already exists`)
      const full = { ...config, name }
      const infos = await validateConnectorConfig(full, this.#worker.plugins, this.#worker.configProviders, {
        exactlyOnceSource: this.#worker.exactlyOnceSource,
      })
      if (infos.error_count > 0) throw new ConfigError(undefined, invalidConfigMessage(infos))
      const target = exists ? this.#connectors.get(name)!.target : (options.initialState ?? 'STARTED')
      if (exists) await this.#stopConnectorAndTasks(name)
      await this.#store.put(name, { config: full, targetState: target })
      this.#connectors.set(name, { config: full, target, taskConfigs: [] })
      await this.#startConnectorAndTasks(name)
      return { created: !exists, info: this.connectorInfo(name) }
    })
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    const current = this.connectorConfig(name)
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete current[k]
      else current[k] = v
    }
    return (await this.putConnectorConfig(name, current, { allowReplace: true })).info
  }

  async deleteConnector(name: string): Promise<void> {
    await this.#serial(async () => {
      this.#entry(name)
      await this.#stopConnectorAndTasks(name)
      this.#connectors.delete(name)
      await this.#store.remove(name)
      this.#status.onConnectorDestroyed(name)
      this.#logger.info(`connector ${name} deleted`)
    })
  }

  connectorStatus(name: string): ConnectorStateInfo {
    const entry = this.#connectors.get(name)
    const info =
      entry && connectorStateInfo(name, this.#status, entry.taskConfigs.length, this.#type(entry.config))
    if (!info) throw new NotFoundError(`No status found for connector ${name}`)
    return info
  }

  taskStatus(connector: string, task: number): TaskStateInfo {
    this.#entry(connector)
    const info = taskStateInfo(connector, task, this.#status)
    if (!info) throw new NotFoundError(`No status found for task ${connector}-${task}`)
    return info
  }

  taskConfigs(name: string): TaskInfo[] {
    return this.#entry(name).taskConfigs.map((config, task) => ({
      id: { connector: name, task },
      config: { ...config },
    }))
  }

  async pauseConnector(name: string): Promise<void> {
    this.#known(name)
    await this.#setTarget(name, 'PAUSED')
  }

  async resumeConnector(name: string): Promise<void> {
    this.#known(name)
    await this.#setTarget(name, 'STARTED')
  }

  async stopConnector(name: string): Promise<void> {
    this.#known(name)
    await this.#setTarget(name, 'STOPPED')
  }

  async restartConnector(
    name: string,
    options: { includeTasks: boolean; onlyFailed: boolean },
  ): Promise<ConnectorStateInfo> {
    if (!this.#connectors.has(name)) throw new NotFoundError(`Unknown connector: ${name}`)
    await this.#serial(async () => {
      const entry = this.#entry(name)
      const connectorFailed = this.#status.connector(name)?.state === 'FAILED'
      const restartConnector = !options.onlyFailed || connectorFailed
      const tasks = options.includeTasks
        ? entry.taskConfigs
            .map((_, task) => task)
            .filter(
              (task) =>
                !options.onlyFailed || this.#status.task({ connector: name, task })?.state === 'FAILED',
            )
        : []
      if (restartConnector) {
        this.#status.onConnectorStatus(name, this.#statusOf('RESTARTING'))
        await this.#worker.stopConnector(name)
      }
      for (const task of tasks)
        this.#status.onTaskStatus({ connector: name, task }, this.#statusOf('RESTARTING'))
      await this.#worker.stopTasks(tasks.map((task) => ({ connector: name, task })))
      if (restartConnector) {
        const ok = await this.#worker.startConnector(name, entry.config, entry.target, this.#callbacks())
        if (ok && entry.target !== 'STOPPED' && !options.includeTasks) await this.#reconfigure(name)
      }
      for (const task of tasks) {
        const config = entry.taskConfigs[task]
        if (config) this.#worker.startTask({ connector: name, task }, entry.config, config, entry.target)
      }
    })
    return this.connectorStatus(name)
  }

  async restartTask(connector: string, task: number): Promise<void> {
    await this.#serial(async () => {
      const entry = this.#entry(connector)
      const config = entry.taskConfigs[task]
      if (!config) throw new NotFoundError(`Task ${connector}-${task} not found`)
      await this.#worker.stopTasks([{ connector, task }])
      this.#worker.startTask({ connector, task }, entry.config, config, entry.target)
    })
  }

  validateConnectorConfig(config: Props): Promise<ConfigInfos> {
    return validateConnectorConfig(config, this.#worker.plugins, this.#worker.configProviders, {
      exactlyOnceSource: this.#worker.exactlyOnceSource,
    })
  }

  plugins(): PluginDescriptor[] {
    return this.#worker.plugins.list()
  }

  taskErrorMetrics(): { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[] {
    const out: { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[] = []
    for (const [connector, entry] of this.#connectors) {
      entry.taskConfigs.forEach((_, task) => {
        const metrics = this.#worker.taskErrorMetrics({ connector, task })
        if (metrics) out.push({ connector, task, metrics })
      })
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
    const entry = this.#entry(name)
    return connectorOffsets(this.#worker, name, entry.config)
  }

  async alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.#serial(() => alterConnectorOffsets(this.#worker, this.#offsetsSubject(name), offsets))
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.#serial(() => resetConnectorOffsets(this.#worker, this.#offsetsSubject(name)))
  }

  #offsetsSubject(name: string): OffsetsSubject {
    const entry = this.#entry(name)
    return { name, config: entry.config, target: entry.target, taskConfigCount: entry.taskConfigs.length }
  }

  #known(name: string): void {
    if (!this.#connectors.has(name)) throw new NotFoundError(`Unknown connector ${name}`)
  }

  async #setTarget(name: string, target: TargetState): Promise<void> {
    await this.#serial(async () => {
      const entry = this.#entry(name)
      if (entry.target === target) return
      const previous = entry.target
      entry.target = target
      await this.#store.put(name, { config: entry.config, targetState: target })
      if (target === 'STOPPED') {
        await this.#stopConnectorAndTasks(name)
        entry.taskConfigs = []
        this.#status.onConnectorStatus(name, this.#statusOf('STOPPED'))
      } else if (previous === 'STOPPED') {
        await this.#startConnectorAndTasks(name)
      } else {
        this.#worker.setConnectorTargetState(name, target)
      }
      this.#logger.info(`connector ${name} target state ${target}`)
    })
  }

  async #startConnectorAndTasks(name: string): Promise<void> {
    const entry = this.#connectors.get(name)!
    const ok = await this.#worker.startConnector(name, entry.config, entry.target, this.#callbacks())
    if (!ok || entry.target === 'STOPPED') return
    await this.#reconfigure(name)
  }

  /** Regenerates task configs; when they changed, replaces the running tasks. */
  async #reconfigure(name: string): Promise<void> {
    const entry = this.#connectors.get(name)
    if (!entry || !this.#worker.isConnectorRunning(name)) return
    let configs: Props[]
    try {
      configs = await this.#worker.connectorTaskConfigs(name)
    } catch (error) {
      this.#logger.error(`connector ${name} failed to generate task configs: ${errorMessage(error)}`)
      this.#status.onConnectorStatus(name, { ...this.#statusOf('FAILED'), trace: errorTrace(error) })
      return
    }
    const running = this.#worker.runningTasks(name)
    if (running.length === configs.length && sameConfigs(entry.taskConfigs, configs)) return
    await this.#worker.stopTasks(running)
    for (let task = configs.length; task < entry.taskConfigs.length; task++) {
      this.#status.onTaskDestroyed({ connector: name, task })
    }
    entry.taskConfigs = configs
    configs.forEach((config, task) => {
      this.#worker.startTask({ connector: name, task }, entry.config, config, entry.target)
    })
  }

  async #stopConnectorAndTasks(name: string): Promise<void> {
    await this.#worker.stopTasks(this.#worker.runningTasks(name))
    await this.#worker.stopConnector(name)
  }

  #callbacks() {
    return {
      onReconfigurationRequested: (name: string) => {
        void this.#serial(() => this.#reconfigure(name)).catch((error) =>
          this.#logger.error(`reconfiguring ${name} failed: ${errorMessage(error)}`),
        )
      },
    }
  }

  #entry(name: string): ConnectorEntry {
    const entry = this.#connectors.get(name)
    if (!entry) throw new NotFoundError(`Connector ${name} not found`)
    return entry
  }

  #type(config: Props): ConnectorType {
    return connectorTypeOf(this.#worker, config)
  }

  #statusOf(state: 'RESTARTING' | 'STOPPED' | 'FAILED') {
    return { state, trace: null, workerId: this.#worker.workerId, generation: 0 }
  }

  /** Runs operations one at a time, in order of arrival. */
  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation)
    this.#queue = run.catch(() => {})
    return run
  }
}
