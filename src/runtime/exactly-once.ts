/**
 * Names shared by the runtime and the distributed herder for exactly-once source (KIP-618).
 */
import type { Props } from '../api/connector.ts'
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

/**
 * The connector's `producer.override.*` values an exactly-once source task cannot take, each with
 * the warning to log: `enable.idempotence` is always true and `transactional.id` always the task's
 * (Kafka Connect's `Worker.exactlyOnceSourceTaskProducerConfigs`, which logs the same sentence and
 * uses its own value). `acks` and the like are left to the other overrides' handling, as Connect does.
 */
export function exactlyOnceOverrideWarnings(connectorProps: Props, id: TaskId, txId: string): string[] {
  const forced: [key: string, used: string, matches: (given: string) => boolean][] = [
    ['enable.idempotence', 'true', (given) => given.toLowerCase() === 'true'],
    ['transactional.id', txId, (given) => given === txId],
  ]
  const warnings: string[] = []
  for (const [name, used, matches] of forced) {
    const key = `producer.override.${name}`
    const given = connectorProps[key]
    if (given === undefined || matches(given)) continue
    warnings.push(
      `connector ${id.connector} task ${id.task}: the value '${given}' for the '${key}' property will be ` +
        'ignored as it cannot be overridden for connectors when exactly-once source support is enabled. ' +
        `The value '${used}' will be used instead.`,
    )
  }
  return warnings
}
