/**
 * The worker config of `sluice distributed`: every worker key plus Kafka Connect's distributed ones
 * (`DistributedConfig`), same names and defaults. Bad values fail at start with the
 * key named; so do keys no worker knows (a typo such as `group.ld` would otherwise silently start
 * a worker in the wrong cluster).
 */
import { ConfigDef, Range, ValidString, validator } from '../api/config-def.ts'
import { ConfigError } from '../api/errors.ts'
import { readConfigFile } from './config-file.ts'
import { propertiesFromEnv } from './properties.ts'
import { type ConnectorOffsetsTopics, WorkerConfig, workerConfigDef } from './worker-config.ts'

const nonEmpty = validator('non-empty string', (value) =>
  typeof value === 'string' && value.trim() !== '' ? undefined : 'must not be empty',
)
const partitionsOrDefault = validator('a positive number, or -1 for the broker default', (value) =>
  typeof value === 'number' && (value === -1 || value >= 1)
    ? undefined
    : 'must be a positive number, or -1 for the broker default',
)

export const distributedConfigDef = new ConfigDef()
  .defineAll(workerConfigDef)
  .define({
    name: 'group.id',
    type: 'STRING',
    importance: 'HIGH',
    documentation:
      'A unique string that identifies the Connect cluster group this worker belongs to. Must not clash with a consumer group.',
    validator: nonEmpty,
  })
  .define({
    name: 'config.storage.topic',
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The topic where connector and task configurations are stored (1 partition, compacted).',
    validator: nonEmpty,
  })
  .define({
    name: 'offset.storage.topic',
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The topic where source connector offsets are stored (compacted).',
    validator: nonEmpty,
  })
  .define({
    name: 'status.storage.topic',
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The topic where connector and task status is stored (compacted).',
    validator: nonEmpty,
  })
  .define({
    name: 'config.storage.replication.factor',
    type: 'SHORT',
    defaultValue: 3,
    importance: 'LOW',
    documentation: 'Replication factor of the config topic when it is created; -1 for the broker default.',
    validator: partitionsOrDefault,
  })
  .define({
    name: 'offset.storage.partitions',
    type: 'INT',
    defaultValue: 25,
    importance: 'LOW',
    documentation:
      "Partitions of the offsets topic, and of a source connector's own offsets.storage.topic, when it is created; -1 for the broker default.",
    validator: partitionsOrDefault,
  })
  .define({
    name: 'offset.storage.replication.factor',
    type: 'SHORT',
    defaultValue: 3,
    importance: 'LOW',
    documentation:
      "Replication factor of the offsets topic, and of a source connector's own offsets.storage.topic, when it is created; -1 for the broker default.",
    validator: partitionsOrDefault,
  })
  .define({
    name: 'status.storage.partitions',
    type: 'INT',
    defaultValue: 5,
    importance: 'LOW',
    documentation: 'Partitions of the status topic when it is created; -1 for the broker default.',
    validator: partitionsOrDefault,
  })
  .define({
    name: 'status.storage.replication.factor',
    type: 'SHORT',
    defaultValue: 3,
    importance: 'LOW',
    documentation: 'Replication factor of the status topic when it is created; -1 for the broker default.',
    validator: partitionsOrDefault,
  })
  .define({
    name: 'session.timeout.ms',
    type: 'INT',
    defaultValue: 10000,
    importance: 'HIGH',
    documentation:
      'Without a heartbeat for this long the coordinator removes the worker from the group and its work moves.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'heartbeat.interval.ms',
    type: 'INT',
    defaultValue: 3000,
    importance: 'HIGH',
    documentation: 'Expected time between heartbeats to the group coordinator; below session.timeout.ms/3.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'rebalance.timeout.ms',
    type: 'INT',
    defaultValue: 60000,
    importance: 'HIGH',
    documentation: 'How long each worker may take to rejoin the group once a rebalance began.',
    validator: Range.atLeast(1),
  })
  .define({
    name: 'worker.sync.timeout.ms',
    type: 'INT',
    defaultValue: 3000,
    importance: 'MEDIUM',
    documentation:
      'How long a worker waits to read the config topic up to the leader’s offset before giving up its membership and retrying.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'worker.unsync.backoff.ms',
    type: 'INT',
    defaultValue: 300000,
    importance: 'MEDIUM',
    documentation: 'Eager protocol only: how long a worker that could not catch up waits before rejoining.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'scheduled.rebalance.max.delay.ms',
    type: 'INT',
    defaultValue: 300000,
    importance: 'LOW',
    documentation:
      'How long the work of a departed worker stays unassigned, waiting for it to come back, before it is reassigned (incremental cooperative protocols).',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'connect.protocol',
    type: 'STRING',
    defaultValue: 'sessioned',
    importance: 'LOW',
    documentation:
      'Compatibility mode of the group protocol: eager, compatible (incremental cooperative) or sessioned (incremental cooperative with signed internal requests).',
    validator: ValidString.in('eager', 'compatible', 'sessioned'),
  })
  .define({
    name: 'inter.worker.key.ttl.ms',
    type: 'INT',
    defaultValue: 3600000,
    importance: 'LOW',
    documentation: 'How long the leader uses one session key to sign internal requests before rotating it.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'inter.worker.key.generation.algorithm',
    type: 'STRING',
    defaultValue: 'HmacSHA256',
    importance: 'LOW',
    documentation: 'Algorithm of new session keys. Sluice supports HmacSHA256.',
    validator: ValidString.in('HmacSHA256'),
  })
  .define({
    name: 'inter.worker.signature.algorithm',
    type: 'STRING',
    defaultValue: 'HmacSHA256',
    importance: 'LOW',
    documentation: 'Algorithm used to sign internal requests. Sluice supports HmacSHA256.',
    validator: ValidString.in('HmacSHA256'),
  })
  .define({
    name: 'inter.worker.verification.algorithms',
    type: 'LIST',
    defaultValue: 'HmacSHA256',
    importance: 'LOW',
    documentation: 'Algorithms accepted on signed internal requests.',
  })
  .define({
    name: 'exactly.once.source.support',
    type: 'STRING',
    defaultValue: 'disabled',
    importance: 'HIGH',
    documentation:
      'Whether to enable exactly-once support for source connectors in the cluster by using transactions to ' +
      'write source records and their source offsets, and by proactively fencing out old task generations ' +
      "before bringing up new ones. To enable exactly-once source support on a new cluster, set this property to 'enabled'. " +
      "To enable support on an existing cluster, first set to 'preparing' on every worker in the cluster, then set to 'enabled'. " +
      'A rolling upgrade may be used for both changes (KIP-618).',
    validator: ValidString.in('disabled', 'preparing', 'enabled'),
  })

/** Keys a worker accepts besides the defined ones: client overrides and per-topic settings. */
const ALLOWED_PREFIXES = [
  'producer.',
  'consumer.',
  'admin.',
  'listeners.https.',
  'config.providers',
  'key.converter.',
  'value.converter.',
  'header.converter.',
  'offset.storage.',
  'config.storage.',
  'status.storage.',
  'ssl.',
  'sasl.',
  'security.',
  'metric',
  'client.',
  'rest.',
  'sluice.',
  'connector.client.',
  'plugin.',
  'task.',
  'access.control.',
  'response.http.',
  'request.timeout.ms',
  'metadata.max.age.ms',
  'connections.max.idle.ms',
  'retry.backoff.ms',
  'reconnect.backoff',
  'send.buffer.bytes',
  'receive.buffer.bytes',
  'worker.',
  'inter.worker.',
  'admin.listeners',
]

export class DistributedConfig extends WorkerConfig {
  constructor(props: Readonly<Record<string, string>>) {
    super(props, distributedConfigDef)
    if (this.embedded) {
      throw new ConfigError(
        'bootstrap.servers',
        'A distributed worker needs Kafka: set bootstrap.servers to the brokers (host:port,...)',
      )
    }
    if (this.getInt('heartbeat.interval.ms') >= this.getInt('session.timeout.ms')) {
      throw new ConfigError(
        'heartbeat.interval.ms',
        `heartbeat.interval.ms (${this.getInt('heartbeat.interval.ms')}) must be lower than session.timeout.ms (${this.getInt('session.timeout.ms')}); a third of it is usual`,
      )
    }
  }

  get groupId(): string {
    return this.getString('group.id')
  }

  /**
   * `exactly.once.source.support`: `enabled` runs source tasks exactly-once; `preparing` (the first
   * step of turning it on in a running cluster) already has the leader fence zombies and write the
   * task-count records, so workers still on `disabled`/`preparing` and those on `enabled` can mix.
   */
  override get exactlyOnceSource(): 'disabled' | 'preparing' | 'enabled' {
    return this.getString('exactly.once.source.support').toLowerCase() as 'disabled' | 'preparing' | 'enabled'
  }

  override get connectorOffsetsTopics(): ConnectorOffsetsTopics {
    return {
      workerTopic: this.getString('offset.storage.topic'),
      partitions: this.getInt('offset.storage.partitions'),
      replicationFactor: this.getInt('offset.storage.replication.factor'),
    }
  }

  /** The URL other workers reach this one at (Kafka Connect's advertised URL, with the trailing '/'). */
  advertisedUrl(actualPort: number): string {
    const listener = this.restListener
    const protocol = this.getOptionalString('rest.advertised.listener') ?? listener.protocol
    const host = this.getOptionalString('rest.advertised.host.name') || listener.host || 'localhost'
    const port = (this.get('rest.advertised.port') as number | null) ?? actualPort
    return `${protocol}://${host}:${port}/`
  }
}

/** Rejects keys of a worker file no worker knows (environment variables are not checked). */
export function checkKnownKeys(props: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(props)) {
    if (distributedConfigDef.key(key) !== undefined) continue
    if (ALLOWED_PREFIXES.some((p) => key.startsWith(p))) continue
    throw new ConfigError(
      key,
      `Unknown worker config key '${key}': check its spelling against the keys of Kafka Connect's distributed worker (docs/operating-a-cluster.md)`,
    )
  }
}

export function loadDistributedConfig(file: string, env: NodeJS.ProcessEnv = process.env): DistributedConfig {
  return new DistributedConfig(distributedWorkerProps(file, env))
}

/** A distributed worker's keys as given (unknown keys of the file refused), the environment on top. */
export function distributedWorkerProps(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const fromFile = readConfigFile(file, 'worker config')
  checkKnownKeys(fromFile)
  return { ...fromFile, ...propertiesFromEnv(env) }
}
