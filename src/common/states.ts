/** Observed states, as Kafka Connect's `AbstractStatus.State`. */
export type State = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'RESTARTING'

/** Desired states, as stored in `target-state-<name>` records. */
export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED'

export interface TaskId {
  readonly connector: string
  readonly task: number
}

export function taskIdString(id: TaskId): string {
  return `${id.connector}-${id.task}`
}

export interface Status {
  readonly state: State
  /** The failure's stack trace, when FAILED. */
  readonly trace: string | null
  readonly workerId: string
  readonly generation: number
}

/** Receives every state change of connectors and tasks; status stores implement it. */
export interface StatusListener {
  onConnectorStatus(connector: string, status: Status): void
  onTaskStatus(id: TaskId, status: Status): void
  /** The connector or task no longer exists (Kafka Connect writes a tombstone). */
  onConnectorDestroyed(connector: string): void
  onTaskDestroyed(id: TaskId): void
  /**
   * KIP-558: a task of the connector produced to (source, once acknowledged) or consumed from
   * (sink) this topic. Called per batch; must be cheap when the topic is known.
   */
  onTopicActive(connector: string, topic: string, task: number): void
}
