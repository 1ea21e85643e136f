/**
 * What the REST API shows of connectors, the same in every mode: status bodies and offsets, built from
 * the status store and the offset stores. The herders differ in where configs live and who may
 * write; they answer reads with these.
 */
import type { Props } from '../api/connector.ts'
import type { OffsetMap } from '../api/records.ts'
import type { Status, TaskId } from '../common/states.ts'
import { parseTpKey } from '../log/log.ts'
import type { Worker } from '../runtime/worker.ts'
import { parseOffsetKey } from '../storage/offset-store.ts'
import type { ConnectorOffset, ConnectorStateInfo, TaskStateInfo } from './herder.ts'

/** The reads both status stores (in memory, on the status topic) answer. */
export interface StatusView {
  connector(name: string): Status | undefined
  task(id: TaskId): Status | undefined
  /** Sorted by task id. */
  tasks(connector: string): [number, Status][]
}

export type ConnectorType = 'source' | 'sink' | 'unknown'

/** The connector's type from its class, `unknown` when the class is not installed. */
export function connectorTypeOf(worker: Worker, config: Props): ConnectorType {
  try {
    return worker.connectorType(config['connector.class'])
  } catch {
    return 'unknown'
  }
}

const stateOf = (s: Status) => ({
  state: s.state,
  worker_id: s.workerId,
  ...(s.trace ? { trace: s.trace } : {}),
})

/**
 * `GET /connectors/{name}/status`, or undefined when the store has no status for it. Tasks beyond
 * `taskCount` (left from an earlier, larger generation) are not shown.
 */
export function connectorStateInfo(
  name: string,
  status: StatusView,
  taskCount: number,
  type: ConnectorType,
): ConnectorStateInfo | undefined {
  const connector = status.connector(name)
  if (connector === undefined) return undefined
  return {
    name,
    connector: stateOf(connector),
    tasks: status
      .tasks(name)
      .filter(([task]) => task < taskCount)
      .map(([task, s]) => ({ id: task, ...stateOf(s) })),
    type,
  }
}

/** `GET /connectors/{name}/tasks/{task}/status`, or undefined. */
export function taskStateInfo(
  connector: string,
  task: number,
  status: StatusView,
): TaskStateInfo | undefined {
  const s = status.task({ connector, task })
  return s === undefined ? undefined : { id: task, ...stateOf(s) }
}

/**
 * `GET /connectors/{name}/offsets` (KIP-875): a sink's committed consumer offsets (group
 * `connect-<name>`, sorted by topic and partition), or a source's stored offsets (with its own
 * offsets topic: the partitions of both topics, the connector topic's offset where both hold one).
 */
export async function connectorOffsets(
  worker: Worker,
  name: string,
  config: Props,
): Promise<{ offsets: ConnectorOffset[] }> {
  if (connectorTypeOf(worker, config) === 'sink') {
    const committed = await worker.log.groupOffsets(`connect-${name}`)
    const offsets = [...committed]
      .map(([key, offset]) => ({ tp: parseTpKey(key), offset }))
      .sort((a, b) =>
        a.tp.topic < b.tp.topic ? -1 : a.tp.topic > b.tp.topic ? 1 : a.tp.partition - b.tp.partition,
      )
      .map(({ tp, offset }) => ({
        partition: { kafka_topic: tp.topic, kafka_partition: tp.partition },
        offset: { kafka_offset: offset },
      }))
    return { offsets }
  }
  const offsets: ConnectorOffset[] = []
  const entries = await worker.withSourceOffsetStore(name, config, (store) => store.connectorEntries(name))
  for (const [key, value] of entries) {
    const parsed = parseOffsetKey(key)
    if (parsed) offsets.push({ partition: parsed.partition, offset: JSON.parse(value) as OffsetMap })
  }
  return { offsets }
}
