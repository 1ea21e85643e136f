import type { Status, TaskId } from '../common/states.ts'

/**
 * What a worker knows of connector and task status, and each connector's active topics (KIP-558):
 * the in-memory side of both status stores (the standalone one keeps only this; the Kafka one fills
 * it from the status topic and from its own writes).
 */
export class StatusTable {
  readonly #connectors = new Map<string, Status>()
  readonly #tasks = new Map<string, Map<number, Status>>()
  readonly #topics = new Map<string, Set<string>>()

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

  /** Topics recorded since the last reset, sorted as Kafka Connect returns them. */
  activeTopics(connector: string): string[] {
    return [...(this.#topics.get(connector) ?? [])].sort()
  }

  protected setConnector(name: string, status: Status | null): void {
    if (status === null) this.#connectors.delete(name)
    else this.#connectors.set(name, status)
  }

  protected setTask(id: TaskId, status: Status | null): void {
    if (status === null) {
      this.#tasks.get(id.connector)?.delete(id.task)
      return
    }
    const tasks = this.#tasks.get(id.connector) ?? new Map<number, Status>()
    this.#tasks.set(id.connector, tasks)
    tasks.set(id.task, status)
  }

  /** Forgets a connector's status and its tasks' (its active topics stay until reset). */
  protected forgetConnector(name: string): void {
    this.#connectors.delete(name)
    this.#tasks.delete(name)
  }

  /** Records an active topic; false when it was known already. */
  protected addTopic(connector: string, topic: string): boolean {
    const topics = this.#topics.get(connector)
    if (topics?.has(topic)) return false
    if (topics) topics.add(topic)
    else this.#topics.set(connector, new Set([topic]))
    return true
  }

  protected removeTopic(connector: string, topic: string): void {
    this.#topics.get(connector)?.delete(topic)
  }

  protected forgetTopics(connector: string): void {
    this.#topics.delete(connector)
  }
}
