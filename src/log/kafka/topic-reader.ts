/**
 * The runtime's `TopicReader` (src/api/topic-reader.ts): one partition of a topic on any Kafka
 * cluster, read through a `KafkaLog` of its own — manual assignment (no group membership), start at
 * the given offset or the group's committed one, commits as a simple consumer of the group.
 *
 * Java consumer properties are mapped to the client's options here, the one place that knows both.
 */
import { readFileSync } from 'node:fs'
import type { BaseOptions } from '@platformatic/kafka'
import { ConfigError, ConnectError, errorMessage, RetriableError } from '../../api/errors.ts'
import {
  checkTopicReaderProperties,
  parseJaasCredentials,
  type TopicReader,
  type TopicReaderOptions,
  type TopicReaderRecord,
} from '../../api/topic-reader.ts'
import { type Log, type LogConsumer, tpKey } from '../log.ts'
import { createKafkaLog } from './kafka-log.ts'

/** Maps Java consumer properties to the client's `tls`/`sasl` options. */
export function securityOptions(
  properties: Readonly<Record<string, string>>,
  prefix = '',
): { tls?: BaseOptions['tls']; sasl?: BaseOptions['sasl'] } {
  checkTopicReaderProperties(properties, prefix)
  const protocol = (properties['security.protocol'] ?? 'PLAINTEXT').toUpperCase()
  const out: { tls?: BaseOptions['tls']; sasl?: BaseOptions['sasl'] } = {}
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const read = (key: string): string => {
      try {
        return readFileSync(properties[key], 'utf8')
      } catch (error) {
        throw new ConfigError(prefix + key, `cannot read ${prefix}${key} (${errorMessage(error)})`)
      }
    }
    const tls: NonNullable<BaseOptions['tls']> = {}
    const ca =
      properties['ssl.truststore.certificates'] ??
      (properties['ssl.truststore.location'] ? read('ssl.truststore.location') : undefined)
    if (ca) tls.ca = ca
    const keystore = properties['ssl.keystore.location'] ? read('ssl.keystore.location') : undefined
    const cert = properties['ssl.keystore.certificate.chain'] ?? keystore
    const key = properties['ssl.keystore.key'] ?? keystore
    if (cert) tls.cert = cert
    if (key) tls.key = key
    if (properties['ssl.endpoint.identification.algorithm'] === '') tls.checkServerIdentity = () => undefined
    out.tls = tls
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const jaas = properties['sasl.jaas.config']
    const credentials = jaas ? parseJaasCredentials(jaas) : null
    if (!credentials) {
      throw new ConfigError(
        `${prefix}sasl.jaas.config`,
        `${prefix}security.protocol=${protocol} needs ${prefix}sasl.jaas.config with username="…" password="…"`,
      )
    }
    const mechanism = (properties['sasl.mechanism'] ?? 'PLAIN').toUpperCase() as 'PLAIN'
    out.sasl = { mechanism, username: credentials.username, password: credentials.password }
  }
  return out
}

export async function openKafkaTopicReader(options: TopicReaderOptions): Promise<TopicReader> {
  const properties = options.properties ?? {}
  const security = securityOptions(properties)
  const groupId = properties['group.id'] ?? options.groupId
  const tp = { topic: options.topic, partition: options.partition }
  const where = `topic '${options.topic}' on ${options.bootstrapServers.join(',')}`
  const requestTimeoutMs = properties['request.timeout.ms']
    ? Number(properties['request.timeout.ms'])
    : 10_000
  const log: Log = createKafkaLog({
    bootstrapServers: options.bootstrapServers,
    clientId: properties['client.id'] ?? options.clientId,
    connectTimeoutMs: 3000,
    requestTimeoutMs,
    retries: 1,
    ...security,
  })
  let consumer: LogConsumer | null = null
  try {
    let description = (await log.describeTopics([options.topic])).get(options.topic)
    if (!description && options.createIfMissing) {
      await log
        .createTopics([{ name: options.topic, partitions: options.partition + 1, replicationFactor: -1 }])
        .catch((error: unknown) => {
          throw new RetriableError(
            `${where} does not exist and cannot be created (${errorMessage(error)}): create it`,
            {
              cause: error,
            },
          )
        })
      description = (await log.describeTopics([options.topic])).get(options.topic)
    }
    if (!description) {
      throw new RetriableError(`${where} does not exist: create it (with one partition)`)
    }
    if (description.partitions <= options.partition) {
      throw new ConnectError('CONFIG', `${where} has no partition ${options.partition}`)
    }
    consumer = log.createConsumer({
      groupId,
      clientId: `${options.clientId}-reader`,
      autoOffsetReset: properties['auto.offset.reset'] === 'latest' ? 'latest' : 'earliest',
    })
    await consumer.assign([tp])
    if (options.startOffset !== undefined && options.startOffset !== null)
      consumer.seek(tp, options.startOffset)
  } catch (error) {
    await consumer?.close().catch(() => {})
    await log.close().catch(() => {})
    if (error instanceof ConnectError && !error.retriable) throw error
    throw new RetriableError(`cannot read ${where}: ${errorMessage(error)}`, { cause: error })
  }
  const open = consumer
  return {
    async poll(maxWaitMs: number): Promise<TopicReaderRecord[]> {
      try {
        return (await open.poll(maxWaitMs)).map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key,
          value: r.value,
        }))
      } catch (error) {
        throw new RetriableError(`cannot read ${where}: ${errorMessage(error)}`, { cause: error })
      }
    },
    async commit(nextOffset: number): Promise<void> {
      await open.commit(new Map([[tpKey(tp), nextOffset]]))
    },
    wakeup(): void {
      open.wakeup()
    },
    async close(): Promise<void> {
      await open.close().catch(() => {})
      await log.close().catch(() => {})
    },
  }
}
