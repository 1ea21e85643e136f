/**
 * Reading one partition of a Kafka topic from inside a connector — for side channels such as
 * Debezium's Kafka signal channel, whose topic may live on another cluster than the worker's log.
 *
 * Connectors import `api/` only, and only `log/kafka/` imports the Kafka client, so the runtime
 * offers the reader through `SourceTaskContext.openTopicReader` (decision 0011). The properties a
 * reader accepts are fixed here, so a connector can check them at config validation (400 naming the
 * key) without loading any client.
 */
import { ConfigError } from './errors.ts'

export interface TopicReaderOptions {
  /** `host:port` of one or more brokers. */
  bootstrapServers: readonly string[]
  topic: string
  partition: number
  /** The consumer group whose committed offset is the start position (when `startOffset` is absent). */
  groupId: string
  clientId: string
  /**
   * Create the topic (partition + 1 partitions, the cluster's default replication) when it does not
   * exist, as a broker with `auto.create.topics.enable` does for a Java consumer. @default false
   */
  createIfMissing?: boolean
  /** Where to start; absent or null: the group's committed offset, else per `auto.offset.reset`. */
  startOffset?: number | null
  /**
   * Kafka consumer properties under their Java names: security (`security.protocol`, `sasl.*`,
   * `ssl.*` in PEM form) and a few consumer settings; see `TOPIC_READER_PROPERTIES`.
   */
  properties?: Readonly<Record<string, string>>
}

export interface TopicReaderRecord {
  readonly offset: number
  readonly timestamp: number
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
}

export interface TopicReader {
  /** The next records, waiting up to `maxWaitMs`; rejects with a retriable `ConnectError` when the broker is away. */
  poll(maxWaitMs: number): Promise<TopicReaderRecord[]>
  /** Commits `nextOffset` (the offset of the next record to read) for the reader's group. */
  commit(nextOffset: number): Promise<void>
  /** Makes a pending `poll()` return at once. */
  wakeup(): void
  close(): Promise<void>
}

/** Properties the runtime's reader understands; each maps to an option of the client. */
export const TOPIC_READER_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({
  'security.protocol': 'PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL',
  'sasl.mechanism': 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
  'sasl.jaas.config': 'a PlainLoginModule or ScramLoginModule entry with username="…" password="…"',
  'ssl.truststore.type': 'PEM (JKS and PKCS12 stores are not readable without Java)',
  'ssl.truststore.location': 'a PEM file of CA certificates',
  'ssl.truststore.certificates': 'PEM CA certificates inline',
  'ssl.keystore.type': 'PEM',
  'ssl.keystore.location': 'a PEM file with the client certificate chain and private key',
  'ssl.keystore.certificate.chain': 'PEM client certificate chain inline',
  'ssl.keystore.key': 'PEM private key inline (unencrypted)',
  'ssl.endpoint.identification.algorithm': 'https (default) or empty to skip the host name check',
  'group.id': 'overrides the group',
  'client.id': 'overrides the client id',
  'auto.offset.reset': 'earliest (default) or latest, where a group without committed offset starts',
  'request.timeout.ms': 'request timeout',
})

/**
 * Consumer properties that are accepted and have no effect: the reader's own behaviour covers them
 * (deserializers are always strings/bytes, commits follow the connector's durable offsets).
 */
export const TOPIC_READER_IGNORED_PROPERTIES: readonly string[] = Object.freeze([
  'enable.auto.commit',
  'auto.commit.interval.ms',
  'key.deserializer',
  'value.deserializer',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'fetch.min.bytes',
  'fetch.max.wait.ms',
  'max.poll.records',
  'max.poll.interval.ms',
  'retry.backoff.ms',
  'reconnect.backoff.ms',
  'reconnect.backoff.max.ms',
  'connections.max.idle.ms',
  'client.dns.lookup',
  'isolation.level',
])

/**
 * Checks consumer properties given under `prefix` (e.g. `signal.consumer.`): a key the reader cannot
 * honour is refused with a `ConfigError` naming it, rather than silently dropped.
 */
export function checkTopicReaderProperties(
  properties: Readonly<Record<string, string>>,
  prefix: string,
): void {
  const supported = Object.keys(TOPIC_READER_PROPERTIES)
  const protocol = (properties['security.protocol'] ?? '').toUpperCase()
  if ((protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') && !properties['sasl.jaas.config']) {
    throw new ConfigError(
      `${prefix}sasl.jaas.config`,
      `${prefix}security.protocol=${protocol} needs ${prefix}sasl.jaas.config with username="…" password="…"`,
    )
  }
  for (const [key, value] of Object.entries(properties)) {
    if (TOPIC_READER_IGNORED_PROPERTIES.includes(key)) continue
    if (!supported.includes(key)) {
      throw new ConfigError(
        prefix + key,
        `${prefix}${key} is not supported by Sluice's Kafka client; supported: ` +
          `${supported.map((k) => prefix + k).join(', ')} (accepted without effect: ${TOPIC_READER_IGNORED_PROPERTIES.join(', ')})`,
      )
    }
    const bad = (why: string): never => {
      throw new ConfigError(prefix + key, `Invalid value ${value} for configuration ${prefix}${key}: ${why}`)
    }
    switch (key) {
      case 'security.protocol':
        if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(value.toUpperCase()))
          bad('use PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL')
        break
      case 'sasl.mechanism':
        if (!['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(value.toUpperCase()))
          bad('use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (GSSAPI and OAUTHBEARER are not supported)')
        break
      case 'sasl.jaas.config':
        if (!parseJaasCredentials(value)) bad('expected a login module entry with username="…" password="…"')
        break
      case 'ssl.truststore.type':
      case 'ssl.keystore.type':
        if (value.toUpperCase() !== 'PEM')
          bad('only PEM is supported; convert the store with keytool/openssl to PEM')
        break
      case 'auto.offset.reset':
        if (!['earliest', 'latest'].includes(value)) bad('use earliest or latest')
        break
      case 'request.timeout.ms':
        if (!/^\d+$/.test(value)) bad('expected a number of milliseconds')
        break
    }
  }
}

/** `username` and `password` of a JAAS login module entry, or null. */
export function parseJaasCredentials(jaas: string): { username: string; password: string } | null {
  const field = (name: string): string | null => {
    const match = new RegExp(`\\b${name}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(jaas)
    return match ? match[1].replace(/\\(.)/g, '$1') : null
  }
  const username = field('username')
  const password = field('password')
  return username === null || password === null ? null : { username, password }
}
