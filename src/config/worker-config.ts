/**
 * Worker configuration: Kafka Connect's worker keys (`WorkerConfig`, `StandaloneConfig`) plus
 * Sluice's own. Read from a properties file, overridden by `CONNECT_*`/`SLUICE_*` environment
 * variables. With no `bootstrap.servers` the worker runs on the embedded log.
 */
import { join, resolve } from 'node:path'
import { AbstractConfig, ConfigDef, Range, ValidString, validator } from '../api/config-def.ts'
import { ConfigError } from '../api/errors.ts'
import { readConfigFile } from './config-file.ts'
import { propertiesFromEnv } from './properties.ts'
import { servicesConfigDef } from './services-config.ts'

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter'

export const workerConfigDef = new ConfigDef()
  .define({
    name: 'bootstrap.servers',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'Kafka brokers to connect to (host:port,...). Leave unset to run on the embedded log under sluice.data.dir, with no Kafka at all.',
    validator: validator('host:port list', (value) => {
      for (const server of value as string[]) {
        if (!/^\[?[^\s\]]+\]?:\d{1,5}$/.test(server))
          return `'${server}' is not host:port — write e.g. localhost:9092`
      }
      return undefined
    }),
  })
  .define({
    name: 'sluice.data.dir',
    type: 'STRING',
    defaultValue: '.data',
    importance: 'HIGH',
    documentation:
      'Where a standalone worker keeps its state: the embedded log, connector configs and source offsets.',
  })
  .define({
    name: 'key.converter',
    type: 'CLASS',
    defaultValue: JSON_CONVERTER,
    importance: 'HIGH',
    documentation: 'Converter for record keys, used by connectors that do not set their own.',
  })
  .define({
    name: 'value.converter',
    type: 'CLASS',
    defaultValue: JSON_CONVERTER,
    importance: 'HIGH',
    documentation: 'Converter for record values, used by connectors that do not set their own.',
  })
  .define({
    name: 'header.converter',
    type: 'CLASS',
    defaultValue: 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
    importance: 'LOW',
    documentation: 'Converter for record headers.',
  })
  .define({
    name: 'offset.flush.interval.ms',
    type: 'LONG',
    defaultValue: 60000,
    importance: 'LOW',
    documentation: 'How often to commit task offsets.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'offset.flush.timeout.ms',
    type: 'LONG',
    defaultValue: 5000,
    importance: 'LOW',
    documentation:
      'How long an offset commit may take before it is abandoned and retried at the next interval.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'task.shutdown.graceful.timeout.ms',
    type: 'LONG',
    defaultValue: 5000,
    importance: 'LOW',
    documentation:
      'How long to wait for tasks to stop gracefully (a total across tasks) before leaving them.',
    validator: Range.atLeast(0),
  })
  .define({
    name: 'task.threads',
    type: 'STRING',
    defaultValue: '0',
    importance: 'MEDIUM',
    documentation:
      'Worker threads that run the tasks (decision 0029): 0 runs every task on the main thread, N spreads them over N threads, auto uses one per core. Exactly-once source tasks stay on the main thread.',
    validator: validator('0, a number of threads, or auto', (value) =>
      /^(auto|\d+)$/i.test(String(value).trim())
        ? undefined
        : 'use 0 (tasks on the main thread), a number of threads, or auto (one per core)',
    ),
  })
  .define({
    name: 'offset.storage.file.filename',
    type: 'STRING',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'Standalone on Kafka: the file for source offsets. Default: offsets.json under sluice.data.dir. A Java-serialized file of Kafka Connect cannot be read; Sluice writes JSON. On the embedded log offsets are kept in the log (its connect-offsets topic) and this file is only read once, to copy offsets an earlier version kept there.',
  })
  .define({
    name: 'listeners',
    type: 'LIST',
    defaultValue: 'http://:8083',
    importance: 'LOW',
    documentation: 'REST listeners, as protocol://host:port (empty host = all interfaces).',
  })
  .define({
    name: 'rest.advertised.host.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'The host name other workers and status use for this worker.',
  })
  .define({
    name: 'rest.advertised.listener',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'Which listener (http or https) other workers use to reach this one; default: the first of listeners.',
    validator: validator('http or https', (value) =>
      value === null || value === 'http' || value === 'https' ? undefined : 'must be http or https',
    ),
  })
  .define({
    name: 'rest.advertised.port',
    type: 'INT',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'The port other workers and status use for this worker.',
  })
  .define({
    name: 'plugin.path',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Directories with extra plugins (connectors, converters, transforms) written in TypeScript or JavaScript.',
  })
  .define({
    name: 'topic.creation.enable',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'Whether source connectors may create their topics from topic.creation.* settings (KIP-158).',
  })
  .define({
    name: 'topic.tracking.enable',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation: 'Track the topics each connector uses (KIP-558), served at GET /connectors/{name}/topics.',
  })
  .define({
    name: 'topic.tracking.allow.reset',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation: 'Allow PUT /connectors/{name}/topics/reset.',
  })
  .define({
    name: 'rest.basic.auth.credentials.file',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      "A file of user=password lines (the format of Kafka's PropertyFileLoginModule). When set, every REST request needs HTTP basic auth.",
  })
  .define({
    name: 'listeners.https.ssl.keystore.location',
    type: 'STRING',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'For https listeners: a PEM file with the private key and the certificate chain (listeners.https.ssl.keystore.type=PEM; ssl.key.password decrypts an encrypted key) or a PKCS12 keystore (listeners.https.ssl.keystore.password). Or give PEM ssl.keystore.certificate.location and ssl.keystore.key.location separately.',
  })
  .define({
    name: 'log.level',
    type: 'STRING',
    defaultValue: 'info',
    importance: 'LOW',
    validator: ValidString.in('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'),
    documentation: 'Root log level: trace, debug, info, warn, error, fatal or silent.',
  })
  .defineAll(servicesConfigDef)

/** The worker's offsets topic, and the settings a connector's own offsets topic is created with. */
export interface ConnectorOffsetsTopics {
  workerTopic: string
  partitions: number
  replicationFactor: number
}

export class WorkerConfig extends AbstractConfig {
  constructor(props: Readonly<Record<string, string>>, definition: ConfigDef = workerConfigDef) {
    super(definition, props)
    const eos = props['exactly.once.source.support']?.trim().toLowerCase()
    if (definition !== workerConfigDef || eos === undefined || eos === '' || eos === 'disabled') return
    if (this.embedded && eos !== 'enabled') {
      throw new ConfigError(
        'exactly.once.source.support',
        `Invalid value ${props['exactly.once.source.support']} for configuration exactly.once.source.support: ` +
          'on the embedded log it is enabled (the default) or disabled; preparing is a step of a distributed ' +
          "cluster's rolling upgrade",
      )
    }
    if (!this.embedded) {
      throw new ConfigError(
        'exactly.once.source.support',
        `Invalid value ${props['exactly.once.source.support']} for configuration exactly.once.source.support: ` +
          'on Kafka, exactly-once source support (KIP-618) needs a distributed worker (sluice distributed), as in ' +
          'Kafka Connect. Run the worker distributed, or on the embedded log (no bootstrap.servers), or remove the ' +
          'key (or set it to disabled)',
      )
    }
  }

  /**
   * `exactly.once.source.support` of a standalone worker: on the embedded log `enabled` unless set to
   * `disabled` (a source task's records and offsets commit in one SQLite transaction, decision 0032);
   * on Kafka always `disabled`, as in Kafka Connect. The distributed config reads the key itself.
   */
  get exactlyOnceSource(): 'disabled' | 'preparing' | 'enabled' {
    if (!this.embedded) return 'disabled'
    const eos = this.originals()['exactly.once.source.support']?.trim().toLowerCase()
    return eos === 'disabled' ? 'disabled' : 'enabled'
  }

  /**
   * How a source connector's own `offsets.storage.topic` is kept (Kafka Connect's
   * `connectorOffsetsTopicsPermitted()`): on a distributed worker beside the worker's offsets topic,
   * created with its settings; a standalone worker has none, and the key has no effect there, as in
   * Kafka Connect.
   */
  get connectorOffsetsTopics(): ConnectorOffsetsTopics | undefined {
    return undefined
  }

  /** True when no brokers are configured: the worker uses the embedded log. */
  get embedded(): boolean {
    return this.getList('bootstrap.servers').length === 0
  }

  get dataDir(): string {
    return resolve(this.getString('sluice.data.dir'))
  }

  get offsetsFile(): string {
    const file = this.getString('offset.storage.file.filename')
    return file ? resolve(file) : join(this.dataDir, 'offsets.json')
  }

  /** The first listener as host and port; an empty host means all interfaces. */
  get restListener(): { protocol: string; host: string; port: number } {
    const listener = this.getList('listeners')[0] ?? 'http://:8083'
    const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*)?:(\d+)\/?$/.exec(listener)
    if (!m) {
      throw new ConfigError(
        'listeners',
        `Invalid value ${listener} for configuration listeners: expected protocol://host:port such as http://:8083`,
      )
    }
    return { protocol: m[1], host: m[2] ?? '', port: Number(m[3]) }
  }

  /** `host:port` for status and the REST root, as Kafka Connect's worker id. */
  workerId(actualPort?: number): string {
    const listener = this.restListener
    const host = this.getOptionalString('rest.advertised.host.name') || listener.host || 'localhost'
    const port = (this.get('rest.advertised.port') as number | null) ?? actualPort ?? listener.port
    return `${host}:${port}`
  }
}

/**
 * Loads the worker config: the properties file (if any), then the environment on top. Fails with
 * a `ConfigError` naming the key before anything starts.
 */
export function loadWorkerConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): WorkerConfig {
  return new WorkerConfig(workerProps(file, env))
}

/** The worker's keys as given: the properties file (if any), then the environment on top. */
export function workerProps(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const fromFile = file ? readConfigFile(file, 'worker config') : {}
  return { ...fromFile, ...propertiesFromEnv(env) }
}
