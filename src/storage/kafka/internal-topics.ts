/**
 * Creates the three internal topics of a distributed cluster as Kafka Connect does (compacted;
 * config 1 partition, offsets `offset.storage.partitions`, status `status.storage.partitions`)
 * and refuses to run on ones that would lose data (`TopicAdmin`): a config topic with more than
 * one partition, or any of them with a cleanup policy other than `compact`.
 */
import { ConfigError, errorMessage } from '../../api/errors.ts'
import type { Log, TopicDescription, TopicSpec } from '../../log/log.ts'

export interface InternalTopicSettings {
  configTopic: string
  offsetTopic: string
  statusTopic: string
  configReplicationFactor: number
  offsetPartitions: number
  offsetReplicationFactor: number
  statusPartitions: number
  statusReplicationFactor: number
}

/**
 * A source connector's own offsets topic (`offsets.storage.topic`, KIP-618), created if missing as
 * Kafka Connect's `KafkaOffsetBackingStore` creates it: with the worker's offsets topic settings
 * (`offset.storage.partitions`, `offset.storage.replication.factor`, compacted); an existing one must
 * be compacted. `key` is the setting that named it, for the error; the replication factor is
 * `offset.storage.replication.factor`'s.
 */
export async function ensureOffsetsTopic(
  log: Log,
  topic: string,
  settings: { partitions: number; replicationFactor: number },
  key: string,
): Promise<void> {
  await createTopic(
    log,
    { name: topic, ...settings, configs: { 'cleanup.policy': 'compact' } },
    key,
    'offset.storage.replication.factor',
  )
  requireCompacted((await log.describeTopics([topic])).get(topic), topic, key)
}

export async function ensureInternalTopics(log: Log, s: InternalTopicSettings): Promise<void> {
  const specs: (TopicSpec & { key: string; replicationKey: string })[] = [
    {
      key: 'config.storage.topic',
      replicationKey: 'config.storage.replication.factor',
      name: s.configTopic,
      partitions: 1,
      replicationFactor: s.configReplicationFactor,
      configs: { 'cleanup.policy': 'compact' },
    },
    {
      key: 'offset.storage.topic',
      replicationKey: 'offset.storage.replication.factor',
      name: s.offsetTopic,
      partitions: s.offsetPartitions,
      replicationFactor: s.offsetReplicationFactor,
      configs: { 'cleanup.policy': 'compact' },
    },
    {
      key: 'status.storage.topic',
      replicationKey: 'status.storage.replication.factor',
      name: s.statusTopic,
      partitions: s.statusPartitions,
      replicationFactor: s.statusReplicationFactor,
      configs: { 'cleanup.policy': 'compact' },
    },
  ]
  const names = new Set(specs.map((t) => t.name))
  if (names.size < 3) {
    throw new ConfigError(
      'config.storage.topic',
      'config.storage.topic, offset.storage.topic and status.storage.topic must name three different topics',
    )
  }
  // One at a time: a refusal names the topic and the setting at fault.
  for (const { key, replicationKey, ...spec } of specs) await createTopic(log, spec, key, replicationKey)
  const described = await log.describeTopics([...names])
  for (const spec of specs) requireCompacted(described.get(spec.name), spec.name, spec.key)
  const config = described.get(s.configTopic)!
  if (config.partitions !== 1) {
    throw new ConfigError(
      'config.storage.topic',
      `Topic '${s.configTopic}' supplied via the 'config.storage.topic' property is required to have a single partition in order to guarantee consistency of connector configurations, but found ${config.partitions} partitions. Point config.storage.topic at a new topic name (Sluice creates it with one partition) or delete and recreate this one with --partitions 1.`,
    )
  }
}

/**
 * Creates the topic if missing. The broker refuses a replication factor above its number of brokers
 * (INVALID_REPLICATION_FACTOR; the default 3 on a one-broker development cluster): the error names
 * the setting and the fix.
 */
async function createTopic(log: Log, spec: TopicSpec, key: string, replicationKey: string): Promise<void> {
  try {
    await log.createTopics([spec])
  } catch (error) {
    if (!isInvalidReplicationFactor(error)) throw error
    throw new ConfigError(
      replicationKey,
      `Topic '${spec.name}' (${key}) could not be created with replication factor ${spec.replicationFactor} (${replicationKey}): ${errorMessage(error)}. Set ${replicationKey} to at most the number of brokers of the cluster (1 on a single-broker cluster), or to -1 for the broker's default.replication.factor, or create the topic yourself (compacted).`,
      { cause: error },
    )
  }
}

/** Connect's `TopicAdmin.verifyTopicCleanupPolicyOnlyCompact`: anything but `compact` alone loses data. */
function requireCompacted(topic: TopicDescription | undefined, name: string, key: string): void {
  if (!topic) {
    throw new ConfigError(
      key,
      `Topic '${name}' (${key}) could not be created: it is missing after its creation. Check that the worker's principal may create topics and the brokers' logs, or create it yourself (cleanup.policy=compact).`,
    )
  }
  const policy = (topic.configs['cleanup.policy'] ?? 'delete').split(',').map((p) => p.trim())
  if (policy.length !== 1 || policy[0] !== 'compact') {
    throw new ConfigError(
      key,
      `Topic '${name}' supplied via the '${key}' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of ${key.split('.')[0]} data, but found the topic currently has 'cleanup.policy=${policy.join(',')}'. Continuing would likely result in eventually losing data and problems restarting this Connect cluster in the future. Change the 'cleanup.policy' property of the topic to 'compact' (kafka-configs.sh --alter --entity-type topics --entity-name ${name} --add-config cleanup.policy=compact) or use another topic name.`,
    )
  }
}

/** Whether the failure (or one of its causes) is the broker's INVALID_REPLICATION_FACTOR (the log names its error code). */
function isInvalidReplicationFactor(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/\bINVALID_REPLICATION_FACTOR\b/.test(e.message)) return true
  }
  return false
}
