import type { Status, StatusListener, TaskId } from '../common/states.ts'

/** Connector and task status of a standalone worker (Kafka Connect's `MemoryStatusBackingStore`). */
export class MemoryStatusStore implements StatusListener {
  readonly #connectors = new Map<string, Status>()
  readonly #tasks = new Map<string, Map<number, Status>>()
  readonly #topics = new Map<string, Set<string>>()

  onConnectorStatus(connector: string, status: Status): void {
    this.#connectors.set(connector, status)
  }

  onTaskStatus(id: TaskId, status: Status): void {
    const tasks = this.#tasks.get(id.connector) ?? new Map<number, Status>()
    this.#tasks.set(id.connector, tasks)
    tasks.set(id.task, status)
  }

  onConnectorDestroyed(connector: string): void {
    this.#connectors.delete(connector)
    this.#tasks.delete(connector)
    this.#topics.delete(connector)
  }

  onTopicActive(connector: string, topic: string, _task: number): void {
    const topics = this.#topics.get(connector)
    if (topics) topics.add(topic)
    else this.#topics.set(connector, new Set([topic]))
  }

  /** Topics recorded since the last reset, sorted as Kafka Connect returns them. */
  activeTopics(connector: string): string[] {
    return [...(this.#topics.get(connector) ?? [])].sort()
  }

  resetActiveTopics(connector: string): void {
    this.#topics.delete(connector)
  }

  onTaskDestroyed(id: TaskId): void {
    this.#tasks.get(id.connector)?.delete(id.task)
  }

  connector(name: string): Status | undefined {
    return this.#connectors.get(name)
  }

  task(id: TaskId): Status | undefined {
    return this.#tasks.get(id.connector)?.get(id.task)
  }

  /** Task statuses of a connector, sorted by task id. */
  tasks(connector: string): [number, Status][] {
    return [...(this.#tasks.get(connector) ?? new Map<number, Status>())].sort(([a], [b]) => a - b)
  }
}
