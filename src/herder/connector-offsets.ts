/**
 * KIP-875's offset writes (`PATCH` and `DELETE /connectors/{c}/offsets`), the same in every mode:
 * the herders decide where the request runs (the leader, in a cluster) and hand over the
 * connector's config and what they know of its tasks; this module checks the request as Kafka
 * Connect does, lets the connector see the change first (`alterOffsets`) and writes it: source
 * offsets to the connector's offset store (the worker's, or its own `offsets.storage.topic` with the
 * worker's as fallback: a reset deletes every stored key of both), sink offsets to the consumer group
 * `connect-<name>`.
 * Reads (`GET`) are `connectorOffsets` in ./views.ts.
 */
import type { Props, SinkConnector, SourceConnector } from '../api/connector.ts'
import { ConnectError, errorMessage } from '../api/errors.ts'
import type { OffsetMap } from '../api/records.ts'
import type { TargetState } from '../common/states.ts'
import { parseTpKey, tpKey } from '../log/log.ts'
import { resolutionError, resolutionFailed } from '../runtime/config-transformer.ts'
import type { Worker } from '../runtime/worker.ts'
import { isOffsetMap, type OffsetStore, offsetKey, parseOffsetKey } from '../storage/offset-store.ts'
import type { ConnectorOffset } from './herder.ts'
import { type ConnectorType, connectorTypeOf } from './views.ts'

/** What a herder knows of the connector whose offsets are modified. */
export interface OffsetsSubject {
  name: string
  config: Props
  target: TargetState
  /** Task configs the connector has (in a cluster: in the config topic, wherever they run). */
  taskConfigCount: number
}

/**
 * KIP-875's precondition (`AbstractHerder`/`DistributedHerder.modifyConnectorOffsets`): the
 * connector is STOPPED, has no task configs left, and none of its tasks still runs on this worker
 * (a task stopping after `PUT /stop` may still commit offsets).
 */
export function requireStopped(worker: Worker, subject: OffsetsSubject): void {
  const { name } = subject
  if (subject.target !== 'STOPPED' || subject.taskConfigCount > 0 || worker.runningTasks(name).length > 0) {
    throw new ConnectError(
      'BAD_REQUEST',
      `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
    )
  }
}

/** `PATCH /connectors/{c}/offsets`: resolves with the API's message. */
export async function alterConnectorOffsets(
  worker: Worker,
  subject: OffsetsSubject,
  offsets: ConnectorOffset[],
): Promise<string> {
  requireStopped(worker, subject)
  if (typeOf(worker, subject) === 'sink') {
    return modifySinkOffsets(worker, subject, parseSinkOffsets(offsets), 'altered')
  }
  const parsed = parseSourceOffsets(offsets)
  return worker.withSourceOffsetStore(subject.name, subject.config, (store) =>
    modifySourceOffsets(worker, subject, parsed, 'altered', store),
  )
}

/** `DELETE /connectors/{c}/offsets`: every committed offset of the connector is removed. */
export async function resetConnectorOffsets(worker: Worker, subject: OffsetsSubject): Promise<string> {
  requireStopped(worker, subject)
  const { name } = subject
  if (typeOf(worker, subject) === 'sink') {
    const committed = await worker.log.groupOffsets(`connect-${name}`)
    const reset = new Map<string, number | null>([...committed.keys()].map((k) => [k, null]))
    return modifySinkOffsets(worker, subject, reset, 'reset')
  }
  return worker.withSourceOffsetStore(name, subject.config, async (store) => {
    const reset: [OffsetMap, null][] = []
    const keys = store.connectorKeys
      ? await store.connectorKeys(name)
      : (await store.connectorEntries(name)).keys()
    for (const key of keys) {
      const parsed = parseOffsetKey(key)
      if (parsed) reset.push([parsed.partition, null])
    }
    return modifySourceOffsets(worker, subject, reset, 'reset', store)
  })
}

function typeOf(worker: Worker, subject: OffsetsSubject): ConnectorType {
  return connectorTypeOf(worker, subject.config)
}

async function modifySinkOffsets(
  worker: Worker,
  { name, config }: OffsetsSubject,
  offsets: Map<string, number | null>,
  kind: 'altered' | 'reset',
): Promise<string> {
  const byPartition = new Map([...offsets].map(([k, v]) => [parseTpKey(k), v]))
  const props = await resolved(worker, config)
  const managed = await connectorCall(name, () =>
    (worker.newConnector(config['connector.class']) as SinkConnector).alterOffsets(props, byPartition),
  )
  await worker.log.alterGroupOffsets(`connect-${name}`, offsets)
  return modifiedMessage(managed, kind)
}

async function modifySourceOffsets(
  worker: Worker,
  { name, config }: OffsetsSubject,
  offsets: [OffsetMap, OffsetMap | null][],
  kind: 'altered' | 'reset',
  store: OffsetStore,
): Promise<string> {
  const props = await resolved(worker, config)
  const managed = await connectorCall(name, () =>
    (worker.newConnector(config['connector.class']) as SourceConnector).alterOffsets(props, new Map(offsets)),
  )
  await store.set(
    new Map(offsets.map(([p, o]) => [offsetKey(name, p), o === null ? null : JSON.stringify(o)])),
  )
  return modifiedMessage(managed, kind)
}

/** The connector's config with its `${…}` references resolved, as its `alterOffsets` needs it. */
async function resolved(worker: Worker, config: Props): Promise<Props> {
  const resolution = await worker.configProviders.resolve(config)
  if (resolutionFailed(resolution)) throw resolutionError(resolution)
  return resolution.props
}

/** The connector's own `alterOffsets` may refuse the change: Kafka Connect answers 500 with its message. */
async function connectorCall(name: string, call: () => boolean | Promise<boolean>): Promise<boolean> {
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

function modifiedMessage(managedByConnector: boolean, kind: 'altered' | 'reset'): string {
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
