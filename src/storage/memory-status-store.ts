import type { Status, StatusListener, TaskId } from '../common/states.ts'
import { StatusTable } from './status-table.ts'

/** Connector and task status of a standalone worker (Kafka Connect's `MemoryStatusBackingStore`). */
export class MemoryStatusStore extends StatusTable implements StatusListener {
  onConnectorStatus(connector: string, status: Status): void {
    this.setConnector(connector, status)
  }

  onTaskStatus(id: TaskId, status: Status): void {
    this.setTask(id, status)
  }

  onConnectorDestroyed(connector: string): void {
    this.forgetConnector(connector)
    this.forgetTopics(connector)
  }

  onTaskDestroyed(id: TaskId): void {
    this.setTask(id, null)
  }

  onTopicActive(connector: string, topic: string, _task: number): void {
    this.addTopic(connector, topic)
  }

  resetActiveTopics(connector: string): void {
    this.forgetTopics(connector)
  }
}
