/**
 * What the REST API and the CLI ask of a worker (Kafka Connect's `Herder`). Standalone and
 * distributed herders answer the same calls; the REST layer maps `ConnectError`s to HTTP.
 */
import type { Props } from '../api/connector.ts'
import type { PluginDescriptor } from '../api/plugin.ts'
import type { State, TargetState } from '../common/states.ts'
import type { ConfigInfos } from '../runtime/config-validation.ts'
import type { ErrorMetrics } from '../runtime/errors/error-handler.ts'
import type { BrowsedRecords, LatestRecordsOptions, TopicSummary } from '../runtime/topic-browser.ts'
import type { ConnectorType, WorkerMetricsSnapshot } from '../runtime/worker.ts'

export interface ConnectorInfo {
  name: string
  config: Record<string, string>
  tasks: { connector: string; task: number }[]
  type: ConnectorType | 'unknown'
}

export interface TaskStateInfo {
  id: number
  state: State
  worker_id: string
  trace?: string
}

export interface ConnectorStateInfo {
  name: string
  connector: { state: State; worker_id: string; trace?: string }
  tasks: TaskStateInfo[]
  type: ConnectorType | 'unknown'
}

export interface TaskInfo {
  id: { connector: string; task: number }
  config: Record<string, string>
}

/** One entry of `GET/PATCH /connectors/{c}/offsets` (KIP-875). */
export interface ConnectorOffset {
  partition: Record<string, unknown> | null
  offset: Record<string, unknown> | null
}

/** The worker's metrics plus, in distributed mode, its group's (`connect-worker-rebalance-metrics`). */
export interface HerderMetrics extends WorkerMetricsSnapshot {
  rebalance?: {
    completedRebalances: number
    epoch: number
    leaderName: string
    protocol: string
    rebalancing: boolean
    assignedConnectors: number
    assignedTasks: number
    /** ms since the last assignment was applied; NaN before the first. */
    timeSinceLastRebalanceMs: number
  }
}

export interface Herder {
  /** Resolves once the herder has loaded its state and started what it runs. */
  start(): Promise<void>
  stop(): Promise<void>
  /** True once startup completed (GET /health). */
  readonly ready: boolean
  /**
   * Whether the worker should get REST traffic (GET /ready, a Kubernetes readiness probe):
   * standalone once started; distributed once started and while it is a member of its group.
   */
  readiness(): { ready: boolean; message: string }
  /** Worker, connector, task and rebalance metrics (GET /metrics). */
  workerMetrics(): HerderMetrics
  kafkaClusterId(): Promise<string>

  connectors(): string[]
  connectorInfo(name: string): ConnectorInfo
  connectorConfig(name: string): Record<string, string>
  /** Creates or replaces a connector; `created` says which. */
  putConnectorConfig(
    name: string,
    config: Props,
    options: { allowReplace: boolean; initialState?: TargetState },
  ): Promise<{ created: boolean; info: ConnectorInfo }>
  patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo>
  deleteConnector(name: string): Promise<void>
  connectorStatus(name: string): ConnectorStateInfo
  taskStatus(connector: string, task: number): TaskStateInfo
  taskConfigs(name: string): TaskInfo[]
  pauseConnector(name: string): Promise<void>
  resumeConnector(name: string): Promise<void>
  stopConnector(name: string): Promise<void>
  /** The legacy restart (connector only) when both flags are false. */
  restartConnector(
    name: string,
    options: { includeTasks: boolean; onlyFailed: boolean },
  ): Promise<ConnectorStateInfo>
  restartTask(connector: string, task: number): Promise<void>
  validateConnectorConfig(config: Props): Promise<ConfigInfos>
  plugins(): PluginDescriptor[]

  /** Error counters (Kafka Connect's task-error-metrics) of each task that ran on this worker. */
  taskErrorMetrics(): { connector: string; task: number; metrics: Readonly<ErrorMetrics> }[]
  /** KIP-558: topics recorded since the last reset; empty (not an error) for an unknown connector. */
  connectorActiveTopics(name: string): string[]
  resetConnectorActiveTopics(name: string): void

  /** Source offsets from the offset store, sink offsets from group `connect-<name>`. */
  connectorOffsets(name: string): Promise<{ offsets: ConnectorOffset[] }>
  /** Alters offsets of a STOPPED connector; resolves with the API's message. */
  alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string>
  resetConnectorOffsets(name: string): Promise<string>

  /** The log's topics with their partitions' offset ranges (read-only; the web console's topic list). */
  topics(): Promise<TopicSummary[]>
  /** The latest records of a topic, bounded (read-only; the console's topic and dead-letter view). */
  topicRecords(topic: string, options: LatestRecordsOptions): Promise<BrowsedRecords>

  /**
   * Distributed only: the internal `POST /connectors/{c}/tasks` by which a connector's owner hands
   * its task configs to the leader; `request` carries the raw body and headers for the signature check.
   */
  receiveTaskConfigs?(
    name: string,
    configs: Props[],
    request: { body: string; headers: Record<string, string | string[] | undefined> },
  ): Promise<void>
  /**
   * Distributed only: the internal `PUT /connectors/{c}/fence` by which a worker starting an
   * exactly-once source task asks the leader to fence the connector's previous task generation.
   */
  fenceZombieSourceTasks?(
    name: string,
    request: { body: string; headers: Record<string, string | string[] | undefined> },
  ): Promise<void>
  /** Distributed only: this worker's membership and assignment (`GET /sluice/cluster`). */
  clusterView?(): Record<string, unknown>
  /**
   * Distributed only, on the leader: the advertised REST URLs of the group's other members, as it
   * last assigned them (the console's cluster-wide task rates, `GET /sluice/metrics`). Elsewhere it
   * throws what makes the REST layer forward the request to the leader.
   */
  otherMemberUrls?(): string[]
  /**
   * Distributed only: headers that authenticate the leader's `GET <path>` to another member — a
   * session-key signature (KIP-507's) over the method, the path and the time — so the leader never
   * hands a caller's credentials to a member. `verifyMemberRequest` checks them on the member (403
   * for a bad or stale signature).
   */
  signMemberRequest?(path: string): Record<string, string>
  verifyMemberRequest?(path: string, headers: Record<string, string | string[] | undefined>): void
}
