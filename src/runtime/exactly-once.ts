/**
 * Names shared by the runtime and the distributed herder for exactly-once source (KIP-618).
 */
import type { TaskId } from '../common/states.ts'

/**
 * A source task's `transactional.id`: `<group.id>-<connector>-<task>`, as Kafka Connect's
 * `Worker.taskTransactionalId` names it, so Java and Sluice workers fence each other's zombies.
 */
export function transactionalId(groupId: string, id: TaskId): string {
  return `${groupId}-${id.connector}-${id.task}`
}

/** The transactional ids of a connector's tasks 0…count-1: what fencing a generation of them covers. */
export function connectorTransactionalIds(groupId: string, connector: string, count: number): string[] {
  return Array.from({ length: count }, (_, task) => transactionalId(groupId, { connector, task }))
}
