/**
 * The herder of a standalone worker: every connector runs here. Connector configs and target
 * states persist in the config store (a file under the data dir), so a restarted worker resumes
 * them; operations run one at a time, in order, like Kafka Connect's herder thread.
 */
import type { Props } from '../../api/connector.ts'
import { AlreadyExistsError, ConfigError, errorMessage, errorTrace, NotFoundError } from '../../api/errors.ts'
import type { PluginDescriptor } from '../../api/plugin.ts'
import {
  type ConfigInfos,
  invalidConfigMessage,
  validateConnectorConfig,
} from '../../runtime/config-validation.ts'
import type { Logger } from '../../runtime/logger.ts'
import type { TargetState } from '../../runtime/states.ts'
import type { Worker } from '../../runtime/worker.ts'
import type { ConfigStore } from '../../storage/config-store.ts'
import type { MemoryStatusStore } from '../../storage/memory-status-store.ts'
import type { ConnectorInfo, ConnectorStateInfo, Herder, TaskInfo, TaskStateInfo } from '../herder.ts'

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
      const infos = await validateConnectorConfig(full, this.#worker.plugins)
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
    const entry = this.#entry(name)
    const status = this.#status.connector(name)
    if (!status) throw new NotFoundError(`No status found for connector ${name}`)
    return {
      name,
      connector: {
        state: status.state,
        worker_id: status.workerId,
        ...(status.trace ? { trace: status.trace } : {}),
      },
      tasks: this.#status
        .tasks(name)
        .filter(([task]) => task < entry.taskConfigs.length)
        .map(([task, s]) => ({
          id: task,
          state: s.state,
          worker_id: s.workerId,
          ...(s.trace ? { trace: s.trace } : {}),
        })),
      type: this.#type(entry.config),
    }
  }

  taskStatus(connector: string, task: number): TaskStateInfo {
    this.#entry(connector)
    const status = this.#status.task({ connector, task })
    if (!status) throw new NotFoundError(`No status found for task ${connector}-${task}`)
    return {
      id: task,
      state: status.state,
      worker_id: status.workerId,
      ...(status.trace ? { trace: status.trace } : {}),
    }
  }

  taskConfigs(name: string): TaskInfo[] {
    return this.#entry(name).taskConfigs.map((config, task) => ({
      id: { connector: name, task },
      config: { ...config },
    }))
  }

  async pauseConnector(name: string): Promise<void> {
    await this.#setTarget(name, 'PAUSED')
  }

  async resumeConnector(name: string): Promise<void> {
    await this.#setTarget(name, 'STARTED')
  }

  async stopConnector(name: string): Promise<void> {
    await this.#setTarget(name, 'STOPPED')
  }

  async restartConnector(
    name: string,
    options: { includeTasks: boolean; onlyFailed: boolean },
  ): Promise<ConnectorStateInfo> {
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
      if (!config) throw new NotFoundError(`Unknown task: ${connector}-${task}`)
      await this.#worker.stopTasks([{ connector, task }])
      this.#worker.startTask({ connector, task }, entry.config, config, entry.target)
    })
  }

  validateConnectorConfig(config: Props): Promise<ConfigInfos> {
    return validateConnectorConfig(config, this.#worker.plugins)
  }

  plugins(): PluginDescriptor[] {
    return this.#worker.plugins.list()
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

  #type(config: Props): 'source' | 'sink' | 'unknown' {
    try {
      return this.#worker.connectorType(config['connector.class'])
    } catch {
      return 'unknown'
    }
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

function sameConfigs(a: Props[], b: Props[]): boolean {
  if (a.length !== b.length) return false
  return a.every((config, i) => {
    const other = b[i]
    const keys = Object.keys(config)
    return keys.length === Object.keys(other).length && keys.every((k) => config[k] === other[k])
  })
}
