/**
 * The herder of a standalone worker: every connector runs here. Connector configs and target
 * states persist in the config store (a file under the data dir), so a restarted worker resumes
 * them; operations run one at a time, in order, like Kafka Connect's herder thread.
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
import type { TargetState } from '../../common/states.ts'
import { parseTpKey, tpKey } from '../../log/log.ts'
import {
  type ConfigInfos,
  invalidConfigMessage,
  validateConnectorConfig,
} from '../../runtime/config-validation.ts'
import type { ErrorMetrics } from '../../runtime/errors/error-handler.ts'
import type { Worker } from '../../runtime/worker.ts'
import type { ConfigStore } from '../../storage/config-store.ts'
import type { MemoryStatusStore } from '../../storage/memory-status-store.ts'
import { isOffsetMap, offsetKey, parseOffsetKey } from '../../storage/offset-store.ts'
import type {
  ConnectorInfo,
  ConnectorOffset,
  ConnectorStateInfo,
  Herder,
  TaskInfo,
  TaskStateInfo,
} from '../herder.ts'
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
    return validateConnectorConfig(config, this.#worker.plugins)
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

  async connectorOffsets(name: string): Promise<{ offsets: ConnectorOffset[] }> {
    const entry = this.#entry(name)
    return connectorOffsets(name, this.#type(entry.config), this.#worker.log, this.#worker.offsetStore)
  }

  async alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.#serial(async () => {
      const entry = this.#stoppedEntry(name)
      if (this.#type(entry.config) === 'sink') {
        return this.#modifySinkOffsets(name, entry, parseSinkOffsets(offsets), 'altered')
      }
      return this.#modifySourceOffsets(name, entry, parseSourceOffsets(offsets), 'altered')
    })
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.#serial(async () => {
      const entry = this.#stoppedEntry(name)
      if (this.#type(entry.config) === 'sink') {
        const committed = await this.#worker.log.groupOffsets(`connect-${name}`)
        const reset = new Map<string, number | null>([...committed.keys()].map((k) => [k, null]))
        return this.#modifySinkOffsets(name, entry, reset, 'reset')
      }
      const stored = await this.#worker.offsetStore.connectorEntries(name)
      const reset: [OffsetMap, null][] = []
      for (const key of stored.keys()) {
        const parsed = parseOffsetKey(key)
        if (parsed) reset.push([parsed.partition, null])
      }
      return this.#modifySourceOffsets(name, entry, reset, 'reset')
    })
  }

  async #modifySinkOffsets(
    name: string,
    entry: ConnectorEntry,
    offsets: Map<string, number | null>,
    kind: 'altered' | 'reset',
  ): Promise<string> {
    const connector = this.#worker.newConnector(entry.config['connector.class']) as SinkConnector
    const byPartition = new Map([...offsets].map(([k, v]) => [parseTpKey(k), v]))
    const managed = await this.#connectorCall(name, () => connector.alterOffsets(entry.config, byPartition))
    await this.#worker.log.alterGroupOffsets(`connect-${name}`, offsets)
    return modifiedMessage(managed, kind)
  }

  async #modifySourceOffsets(
    name: string,
    entry: ConnectorEntry,
    offsets: [OffsetMap, OffsetMap | null][],
    kind: 'altered' | 'reset',
  ): Promise<string> {
    const connector = this.#worker.newConnector(entry.config['connector.class']) as SourceConnector
    const managed = await this.#connectorCall(name, () =>
      connector.alterOffsets(entry.config, new Map(offsets)),
    )
    await this.#worker.offsetStore.set(
      new Map(offsets.map(([p, o]) => [offsetKey(name, p), o === null ? null : JSON.stringify(o)])),
    )
    return modifiedMessage(managed, kind)
  }

  /** The connector's own `alterOffsets` may refuse the change: Kafka Connect answers 500 with its message. */
  async #connectorCall(name: string, call: () => boolean | Promise<boolean>): Promise<boolean> {
    try {
      return (await call()) === true
    } catch (error) {
      if (error instanceof ConnectError) throw error
      throw new ConnectError(
        'CONNECT',
        `Failed to modify offsets for connector ${name}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      )
    }
  }

  /** KIP-875's precondition: the connector exists, is STOPPED, and has no tasks left. */
  #stoppedEntry(name: string): ConnectorEntry {
    const entry = this.#entry(name)
    if (
      entry.target !== 'STOPPED' ||
      entry.taskConfigs.length > 0 ||
      this.#worker.runningTasks(name).length > 0
    ) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
      )
    }
    return entry
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

export function modifiedMessage(managedByConnector: boolean, kind: 'altered' | 'reset'): string {
  if (managedByConnector) return `The offsets for this connector have been ${kind} successfully`
  return `The Connect framework-managed offsets for this connector have been ${kind} successfully. However, if this connector manages offsets externally, they will need to be manually ${kind} in the system that the connector uses.`
}

/** Kafka Connect's `SinkUtils.parseSinkConnectorOffsets`: same checks, same messages. */
export function parseSinkOffsets(offsets: ConnectorOffset[]): Map<string, number | null> {
  const out = new Map<string, number | null>()
  for (const { partition, offset } of offsets) {
    if (partition === null || typeof partition !== 'object') {
      throw new ConnectError(
        'BAD_REQUEST',
        'The partition for a sink connector offset cannot be null or missing',
      )
    }
    if (!('kafka_topic' in partition) || !('kafka_partition' in partition)) {
      throw new ConnectError(
        'BAD_REQUEST',
        "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
      )
    }
    if (partition.kafka_topic === null) {
      throw new ConnectError('BAD_REQUEST', 'Kafka topic names must be valid strings and may not be null')
    }
    if (partition.kafka_partition === null) {
      throw new ConnectError('BAD_REQUEST', 'Kafka partitions must be valid numbers and may not be null')
    }
    const topic = String(partition.kafka_topic)
    const number = javaInteger(partition.kafka_partition, 2 ** 31)
    if (number === undefined) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Failed to parse the following Kafka partition value in the provided offsets: '${String(partition.kafka_partition)}'. Partition values for sink connectors need to be integers.`,
      )
    }
    if (offset === null) {
      out.set(tpKey({ topic, partition: number }), null)
      continue
    }
    if (typeof offset !== 'object' || !('kafka_offset' in offset)) {
      throw new ConnectError(
        'BAD_REQUEST',
        "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
      )
    }
    const value = javaInteger(offset.kafka_offset, 2 ** 63)
    if (value === undefined) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Failed to parse the following Kafka offset value in the provided offsets: '${String(offset.kafka_offset)}'. Offset values for sink connectors need to be integers.`,
      )
    }
    if (value < 0) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Kafka offsets must not be negative; got ${value} for ${topic}-${number}`,
      )
    }
    out.set(tpKey({ topic, partition: number }), value)
  }
  return out
}

/** Java's `Integer.parseInt(String.valueOf(x))`/`Long.parseLong`: "10" and 10 are both fine. */
function javaInteger(value: unknown, bound: number): number | undefined {
  const text = String(value)
  if (!/^[+-]?\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= -bound && n < bound ? n : undefined
}

export function parseSourceOffsets(offsets: ConnectorOffset[]): [OffsetMap, OffsetMap | null][] {
  return offsets.map(({ partition, offset }) => {
    if (!isOffsetMap(partition)) {
      throw new ConnectError(
        'BAD_REQUEST',
        'The partition for a source connector offset must be a JSON object of strings, numbers, booleans or nulls',
      )
    }
    if (offset !== null && !isOffsetMap(offset)) {
      throw new ConnectError(
        'BAD_REQUEST',
        'The offset for a source connector must be null or a JSON object of strings, numbers, booleans or nulls',
      )
    }
    return [partition, offset]
  })
}

export function sameConfigs(a: Props[], b: Props[]): boolean {
  if (a.length !== b.length) return false
  return a.every((config, i) => {
    const other = b[i]
    const keys = Object.keys(config)
    return keys.length === Object.keys(other).length && keys.every((k) => config[k] === other[k])
  })
}
