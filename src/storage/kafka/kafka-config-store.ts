/**
 * Connector configs, task configs, target states, the session key and restart requests in the
 * config topic, in Kafka Connect's record format (`KafkaConfigBackingStore`):
 *
 *   connector-<name>          {"properties":{…}}                         tombstone on delete
 *   target-state-<name>       {"state":"STARTED|PAUSED","state.v2":"STARTED|PAUSED|STOPPED"}
 *   task-<name>-<n>           {"properties":{…}}                         applied only at the commit
 *   commit-<name>             {"tasks":N}
 *   session-key               {"key":"<base64>","algorithm":"HmacSHA256","creation-timestamp":ms}
 *   restart-connector-<name>  {"include-tasks":bool,"only-failed":bool}
 *   tasks-fencing-<name>      {"task-count":N}                            KIP-618: the generation fenced
 *
 * Keys are UTF-8 strings, values the schemaless JSON of Kafka Connect's internal JsonConverter
 * (fields in schema order). Every worker tails the topic; the snapshot's `offset` is the offset after
 * the last record applied, the "config offset" members exchange at JoinGroup.
 */
import { ConnectError } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import type { TargetState, TaskId } from '../../common/states.ts'
import type { Log, LogRecord } from '../../log/log.ts'
import { KafkaBasedLog, utf8 } from './kafka-based-log.ts'

export type Props = Record<string, string>

export interface SessionKey {
  key: string
  algorithm: string
  creationTimestamp: number
}

export interface RestartRequest {
  connector: string
  includeTasks: boolean
  onlyFailed: boolean
}

export interface ConfigUpdateListener {
  onConnectorConfigUpdate(name: string): void
  onConnectorConfigRemove(name: string): void
  onTaskConfigUpdate(tasks: TaskId[]): void
  onConnectorTargetStateChange(name: string): void
  onSessionKeyUpdate(key: SessionKey): void
  onRestartRequest(request: RestartRequest): void
}

/** What a worker knows of the cluster's configuration at one config offset (Java's `ClusterConfigState`). */
export interface ConfigSnapshot {
  readonly offset: number
  connectors(): string[]
  connectorConfig(name: string): Props | undefined
  targetState(name: string): TargetState
  /** Committed task configs, in task order; empty when none (or inconsistent). */
  taskConfigs(name: string): Props[]
  taskCount(name: string): number
  inconsistent(name: string): boolean
}

const TASK_KEY = /^task-(.+)-(\d+)$/

export class KafkaConfigStore implements ConfigSnapshot {
  readonly #log: KafkaBasedLog
  readonly #logger: Logger
  #listener: ConfigUpdateListener | undefined
  readonly #connectors = new Map<string, Props>()
  readonly #targets = new Map<string, TargetState>()
  readonly #tasks = new Map<string, Props[]>()
  readonly #deferred = new Map<string, Map<number, Props>>()
  readonly #inconsistent = new Set<string>()
  /** The last `tasks-fencing-<name>` record of each connector: how many task ids its last fencing covered. */
  readonly #taskCountRecords = new Map<string, number>()
  /** Connectors whose last task configs were committed after their last task-count record (Java's `pendingFencing`). */
  readonly #pendingFencing = new Set<string>()
  #sessionKey: SessionKey | undefined
  #offset = 0

  constructor(log: Log, topic: string, clientId: string, logger: Logger) {
    this.#logger = logger
    this.#log = new KafkaBasedLog({
      log,
      topic,
      clientId: `${clientId}-configs`,
      logger,
      readCommitted: true,
      onRecord: (record) => this.#apply(record),
    })
  }

  set listener(listener: ConfigUpdateListener) {
    this.#listener = listener
  }

  get offset(): number {
    return this.#offset
  }

  get sessionKey(): SessionKey | undefined {
    return this.#sessionKey
  }

  start(): Promise<void> {
    return this.#log.start()
  }

  stop(): Promise<void> {
    return this.#log.stop()
  }

  readToEnd(timeoutMs?: number): Promise<void> {
    return this.#log.readToEnd(timeoutMs)
  }

  connectors(): string[] {
    return [...this.#connectors.keys()].sort()
  }

  connectorConfig(name: string): Props | undefined {
    const config = this.#connectors.get(name)
    return config === undefined ? undefined : { ...config }
  }

  targetState(name: string): TargetState {
    return this.#targets.get(name) ?? 'STARTED'
  }

  taskConfigs(name: string): Props[] {
    if (this.#inconsistent.has(name)) return []
    return (this.#tasks.get(name) ?? []).map((c) => ({ ...c }))
  }

  taskCount(name: string): number {
    return this.#tasks.get(name)?.length ?? 0
  }

  inconsistent(name: string): boolean {
    return this.#inconsistent.has(name)
  }

  /** The task count of the connector's last `tasks-fencing-<name>` record (KIP-618), if any. */
  taskCountRecord(name: string): number | undefined {
    return this.#taskCountRecords.get(name)
  }

  /**
   * Whether the connector's last task configs were committed after its last task-count record, so
   * the previous generation may not be fenced yet (Kafka Connect's `ClusterConfigState.pendingFencing`).
   */
  pendingFencing(name: string): boolean {
    return this.#pendingFencing.has(name)
  }

  /**
   * Writes `tasks-fencing-<name>` (Kafka Connect's task-count record) once the producers of the
   * previous generation are fenced: the next fencing of this connector covers `count` task ids.
   */
  async putTaskCountRecord(name: string, count: number): Promise<void> {
    await this.#log.send([
      { key: utf8.encode(`tasks-fencing-${name}`), value: json({ 'task-count': count }) },
    ])
    this.#taskCountRecords.set(name, count)
    this.#pendingFencing.delete(name)
  }

  // ── writes ──────────────────────────────────────────────────────────────────────────────────

  /** `connector-<name>` (after `target-state-<name>` when an initial state is given), then reads to the end. */
  async putConnectorConfig(name: string, config: Props, initialState?: TargetState): Promise<void> {
    const records = []
    if (initialState !== undefined) records.push(targetStateRecord(name, initialState))
    records.push({ key: utf8.encode(`connector-${name}`), value: json({ properties: config }) })
    await this.#log.send(records)
    await this.readToEnd()
  }

  /** Tombstones for `connector-` and `target-state-`; task and commit records stay, as in Kafka Connect. */
  async removeConnectorConfig(name: string): Promise<void> {
    await this.#log.send([
      { key: utf8.encode(`connector-${name}`), value: null },
      { key: utf8.encode(`target-state-${name}`), value: null },
    ])
    await this.readToEnd()
  }

  /** The task records, a read to the end, then `commit-<name>`, in `KafkaConfigBackingStore`'s order. */
  async putTaskConfigs(name: string, configs: readonly Props[]): Promise<void> {
    if (configs.length > 0) {
      await this.#log.send(
        configs.map((config, i) => ({
          key: utf8.encode(`task-${name}-${i}`),
          value: json({ properties: config }),
        })),
      )
      await this.readToEnd()
    }
    await this.#log.send([{ key: utf8.encode(`commit-${name}`), value: json({ tasks: configs.length }) }])
    await this.readToEnd()
  }

  async putTargetState(name: string, state: TargetState): Promise<void> {
    await this.#log.send([targetStateRecord(name, state)])
  }

  async putSessionKey(key: SessionKey): Promise<void> {
    await this.#log.send([
      {
        key: utf8.encode('session-key'),
        value: json({ key: key.key, algorithm: key.algorithm, 'creation-timestamp': key.creationTimestamp }),
      },
    ])
    await this.readToEnd()
  }

  async putRestartRequest(request: RestartRequest): Promise<void> {
    await this.#log.send([
      {
        key: utf8.encode(`restart-connector-${request.connector}`),
        value: json({ 'include-tasks': request.includeTasks, 'only-failed': request.onlyFailed }),
      },
    ])
  }

  // ── reads ───────────────────────────────────────────────────────────────────────────────────

  #apply(record: LogRecord): void {
    this.#offset = record.offset + 1
    const key = utf8.decode(record.key)
    if (key === null) return
    const text = utf8.decode(record.value)
    let value: Record<string, unknown> | null = null
    if (text !== null) {
      const parsed = JSON.parse(text) as unknown
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        this.#logger.warn(`ignoring config record ${key}: its value is not a JSON object`)
        return
      }
      value = parsed as Record<string, unknown>
    }
    const l = this.#listener
    if (key.startsWith('connector-')) {
      const name = key.slice('connector-'.length)
      if (value === null) {
        const existed = this.#connectors.delete(name)
        this.#targets.delete(name)
        this.#tasks.delete(name)
        this.#deferred.delete(name)
        this.#inconsistent.delete(name)
        if (existed) l?.onConnectorConfigRemove(name)
        return
      }
      this.#connectors.set(name, stringProps(value.properties, key))
      l?.onConnectorConfigUpdate(name)
    } else if (key.startsWith('target-state-')) {
      const name = key.slice('target-state-'.length)
      if (value === null) {
        this.#targets.delete(name)
        return
      }
      const state = String(value['state.v2'] ?? value.state)
      if (state !== 'STARTED' && state !== 'PAUSED' && state !== 'STOPPED') {
        this.#logger.warn(`ignoring config record ${key}: unknown target state '${state}'`)
        return
      }
      this.#targets.set(name, state)
      l?.onConnectorTargetStateChange(name)
    } else if (key.startsWith('task-')) {
      const m = TASK_KEY.exec(key)
      if (!m || value === null) return
      const deferred = this.#deferred.get(m[1]) ?? new Map<number, Props>()
      deferred.set(Number(m[2]), stringProps(value.properties, key))
      this.#deferred.set(m[1], deferred)
    } else if (key.startsWith('commit-')) {
      const name = key.slice('commit-'.length)
      if (value === null) return
      const count = Number(value.tasks)
      const deferred = this.#deferred.get(name) ?? new Map<number, Props>()
      const previous = this.#tasks.get(name) ?? []
      // Task configs after the last task-count record: a round of zombie fencing is due (Connect
      // marks it at every commit, applied or not).
      this.#pendingFencing.add(name)
      const configs: Props[] = []
      for (let i = 0; i < count; i++) {
        const config = deferred.get(i) ?? (deferred.size === 0 ? previous[i] : undefined)
        if (config === undefined) {
          // Compaction removed task records this commit needs: the leader must regenerate them.
          this.#inconsistent.add(name)
          this.#deferred.delete(name)
          this.#logger.warn(`connector ${name}: commit of ${count} tasks without their task configs`)
          return
        }
        configs.push(config)
      }
      this.#inconsistent.delete(name)
      this.#deferred.delete(name)
      this.#tasks.set(name, configs)
      const updated: TaskId[] = []
      for (let i = 0; i < Math.max(count, previous.length); i++) updated.push({ connector: name, task: i })
      l?.onTaskConfigUpdate(updated)
    } else if (key === 'session-key') {
      if (value === null) return
      this.#sessionKey = {
        key: String(value.key),
        algorithm: String(value.algorithm),
        creationTimestamp: Number(value['creation-timestamp']),
      }
      l?.onSessionKeyUpdate(this.#sessionKey)
    } else if (key.startsWith('restart-connector-')) {
      if (value === null) return
      l?.onRestartRequest({
        connector: key.slice('restart-connector-'.length),
        includeTasks: value['include-tasks'] === true,
        onlyFailed: value['only-failed'] === true,
      })
    } else if (key.startsWith('tasks-fencing-')) {
      const name = key.slice('tasks-fencing-'.length)
      const count = value === null ? Number.NaN : Number(value['task-count'])
      if (Number.isInteger(count) && count >= 0) {
        this.#taskCountRecords.set(name, count)
        this.#pendingFencing.delete(name)
      } else if (value === null) this.#taskCountRecords.delete(name)
    }
    // Other records (logger-cluster-, …) are not used by Sluice.
  }
}

function targetStateRecord(name: string, state: TargetState) {
  // STOPPED is written as PAUSED for readers that predate it (KIP-875).
  return {
    key: utf8.encode(`target-state-${name}`),
    value: json({ state: state === 'STOPPED' ? 'PAUSED' : state, 'state.v2': state }),
  }
}

function json(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value))
}

function stringProps(value: unknown, key: string): Props {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConnectError('CONNECT', `config record ${key} has no "properties" object`)
  }
  const out: Props = {}
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = String(v)
  return out
}
