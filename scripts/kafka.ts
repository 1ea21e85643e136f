/**
 * A real Apache Kafka broker (KRaft, one combined broker+controller node on loopback) for tests and
 * benchmarks, built from Maven Central only: no Docker, no tarball download.
 *
 *   npx node scripts/kafka.ts start|stop|status
 *
 * - Jars are resolved once with `mvn dependency:copy-dependencies` from scripts/kafka/pom.xml into
 *   `.services/cache/kafka-<version>/lib` and reused.
 * - The broker's state lives in `.services/kafka/` (server.properties, data/, kafka.pid, kafka.log).
 *   Its data dir is wiped at each start (a throwaway broker) unless SLUICE_KAFKA_KEEP_DATA=1, which
 *   starts a formatted dir as it is (same cluster id) and never deletes it, not even on an error.
 * - Tests that restart a broker make their own with `KafkaBroker` (own port and state dir; `start()`,
 *   `stop('SIGTERM' | 'SIGKILL')`, `start()` again on the same data); the shared one is never restarted.
 *   A `KafkaBroker` can also be one node of a cluster (`cluster`: node id, quorum, shared cluster id;
 *   start the nodes together, each waits for the quorum) and can have a SASL_SSL listener for clients
 *   (`saslSsl`: SCRAM-SHA-512 users, a PEM keystore) beside its PLAINTEXT one.
 * - `start` reuses a broker that already answers on the port; `stop` only stops a broker whose pid
 *   file this script wrote, and only if that pid is still a `kafka.Kafka` JVM.
 *
 * Environment: SLUICE_KAFKA_PORT (default 19092; the controller listens on port+1),
 * SLUICE_KAFKA_START_TIMEOUT_MS (default 90000), SLUICE_KAFKA_HEAP (default 512m).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import {
  ensureStarted,
  envPort,
  fetchOnce,
  type JavaCommand,
  JavaService,
  logger,
  serviceMain,
  servicesDir,
} from './java-service.ts'

/** Pinned: exists on Maven Central; its POM depends on slf4j-api 1.7.x, hence log4j-slf4j-impl. */
export const KAFKA_VERSION = '4.3.1'
export const LOG4J_VERSION = '2.24.3'

const libDir = join(servicesDir, 'cache', `kafka-${KAFKA_VERSION}`, 'lib')
/** The shared broker's state (the CLI's and the test suite's); a test's own broker has its own dir. */
const stateDir = join(servicesDir, 'kafka')

export function kafkaPort(): number {
  return envPort('SLUICE_KAFKA_PORT', 19092, 65534)
}

/** Paths a human (or a test failure message) may want. */
export const kafkaPaths = {
  libDir,
  stateDir,
  dataDir: join(stateDir, 'data'),
  pidFile: join(stateDir, 'kafka.pid'),
  logFile: join(stateDir, 'kafka.log'),
} as const

const log = logger('kafka')

/** Resolves the broker's jars into the cache (once). Returns how long it took, 0 when cached. */
export function resolveKafkaJars(): number {
  const template = readFileSync(join(import.meta.dirname, 'kafka', 'pom.xml'), 'utf8')
  return fetchOnce({
    service: 'kafka',
    what: `Kafka ${KAFKA_VERSION} jars`,
    target: libDir,
    pom: template.replaceAll('@KAFKA_VERSION@', KAFKA_VERSION).replaceAll('@LOG4J_VERSION@', LOG4J_VERSION),
    args: ['dependency:copy-dependencies', '-DincludeScope=runtime'],
  })
}

/** True when a Kafka broker answers a metadata request at `bootstrap` within `timeoutMs`. */
export async function kafkaAnswers(bootstrap: string, timeoutMs = 2000): Promise<boolean> {
  const admin = new Admin({
    clientId: 'sluice-kafka-probe',
    bootstrapBrokers: [bootstrap],
    connectTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    timeout: timeoutMs,
    retries: 0,
  })
  try {
    await admin.listTopics()
    return true
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}

/** The `cluster.id` of a formatted data dir, or undefined when `meta.properties` is missing. */
export function readClusterId(data: string): string | undefined {
  const meta = join(data, 'meta.properties')
  if (!existsSync(meta)) return undefined
  const match = /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))
  if (!match) throw new Error(`${meta} has no cluster.id line: remove ${data} or restore the file`)
  return match[1].trim()
}

export interface KafkaBrokerOptions {
  /** PLAINTEXT port. */
  port: number
  /** @default port + 1 */
  controllerPort?: number
  /** Holds server.properties, log4j2.properties, data/, kafka.pid and kafka.log. */
  stateDir: string
  /**
   * Keep data/ across starts: a formatted dir is started as it is, with its cluster id (Kafka refuses
   * a dir whose meta.properties names another cluster). Off: each start formats a fresh, empty dir.
   */
  keepData: boolean
  /**
   * More PLAINTEXT listeners on `port`, each advertising `advertised` (host:port) to the clients that
   * connect through it: a client bootstrapped through a proxy in front of such a listener learns the
   * proxy's address from the metadata, so all its connections go through the proxy.
   */
  listeners?: { name: string; port: number; advertised: string }[]
  /** @default SLUICE_KAFKA_HEAP or 512m */
  heap?: string
  /** @default SLUICE_KAFKA_START_TIMEOUT_MS or 90000 */
  startTimeoutMs?: number
  /**
   * A node of a cluster rather than a single node: its id, the controller quorum (`id@host:port,…`,
   * every node's controller listener) and the cluster id all nodes are formatted with (16 bytes,
   * base64url, e.g. `randomBytes(16).toString('base64url')`). Internal topics then get
   * `replicationFactor` replicas and `min.insync.replicas` is one less (at least 1).
   */
  cluster?: { nodeId: number; voters: string; clusterId: string; replicationFactor: number }
  /**
   * A SASL_SSL listener for clients beside PLAINTEXT (which stays the inter-broker and the probes'
   * listener): its port, a PEM file with the key and certificate (test/helpers/tls.ts), and SCRAM-SHA-512
   * users, created when the data dir is formatted.
   */
  saslSsl?: { port: number; keystore: string; users: Readonly<Record<string, string>> }
  /** More server.properties entries, written last (they win). */
  properties?: Readonly<Record<string, string>>
  /** More JVM options, after the heap and GC ones (they win). */
  jvmOptions?: readonly string[]
  /**
   * Feature levels the data dir is formatted with (`StorageTool format --feature name=level`), e.g.
   * `{ 'transaction.version': 1 }` for a cluster on transactions v1. @default the release's defaults
   * (Kafka 4.x finalizes `transaction.version=2`)
   */
  features?: Readonly<Record<string, number>>
}

/**
 * One KRaft broker+controller JVM with its own port and state dir. `ensureKafka` runs the shared one
 * through it; a test that restarts a broker makes its own (`new KafkaBroker({...}).start()`, then
 * `stop('SIGTERM' | 'SIGKILL')` and `start()` again on the same data).
 */
export class KafkaBroker extends JavaService {
  readonly controllerPort: number
  readonly dataDir: string
  readonly propertiesFile: string
  readonly #log4jFile: string
  readonly #o: KafkaBrokerOptions

  constructor(options: KafkaBrokerOptions) {
    super({
      name: 'kafka',
      title: 'Kafka broker',
      port: options.port,
      stateDir: options.stateDir,
      startTimeoutMs: options.startTimeoutMs ?? Number(process.env.SLUICE_KAFKA_START_TIMEOUT_MS ?? 90_000),
      timeoutVariable: 'SLUICE_KAFKA_START_TIMEOUT_MS',
      // Appends when the data is kept: the log of the run before a restart explains what it found.
      appendLog: options.keepData,
      stopTimeoutMs: 30_000,
    })
    this.#o = options
    this.controllerPort = options.controllerPort ?? options.port + 1
    this.dataDir = join(this.stateDir, 'data')
    this.propertiesFile = join(this.stateDir, 'server.properties')
    this.#log4jFile = join(this.stateDir, 'log4j2.properties')
  }

  /** `127.0.0.1:<port>`, the PLAINTEXT listener. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`
  }

  /** `127.0.0.1:<port>` of the SASL_SSL listener, when there is one. */
  get secureBootstrap(): string | undefined {
    return this.#o.saslSsl && `127.0.0.1:${this.#o.saslSsl.port}`
  }

  get address(): string {
    return this.bootstrap
  }

  /** The cluster id of the data dir (undefined before the first format). */
  get clusterId(): string | undefined {
    return readClusterId(this.dataDir)
  }

  answers(timeoutMs?: number): Promise<boolean> {
    return kafkaAnswers(this.bootstrap, timeoutMs)
  }

  protected get markers(): string[] {
    return ['kafka.Kafka', this.propertiesFile]
  }

  /** Formats the data dir when needed (see `#formatStorage`). */
  protected prepare(): JavaCommand {
    resolveKafkaJars()
    this.#writeConfigs()
    this.#formatStorage()
    const heap = this.#o.heap ?? process.env.SLUICE_KAFKA_HEAP ?? '512m'
    return {
      args: [
        `-Xms${heap}`,
        `-Xmx${heap}`,
        '-XX:+UseG1GC',
        ...(this.#o.jvmOptions ?? []),
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${this.#log4jFile}`,
        '-cp',
        `${libDir}/*`,
        'kafka.Kafka',
        this.propertiesFile,
      ],
    }
  }

  /**
   * A fresh dir (keepData off, or nothing kept yet) is formatted with a new cluster id. A kept,
   * formatted dir is left as it is: formatting it again would write a new cluster id, which the
   * broker refuses ("Invalid cluster.id"). Kept data is never deleted, not even when formatting fails.
   */
  #formatStorage(): void {
    if (this.#o.keepData) {
      const id = readClusterId(this.dataDir)
      if (id !== undefined) {
        log(`keeping ${this.dataDir} (cluster id ${id})`)
        return
      }
    } else {
      rmSync(this.dataDir, { recursive: true, force: true })
    }
    let id = this.#o.cluster?.clusterId
    if (id === undefined) {
      const clusterId = java(['kafka.tools.StorageTool', 'random-uuid'], this.#log4jFile)
      if (clusterId.status !== 0) throw new Error(`StorageTool random-uuid failed:\n${clusterId.output}`)
      id = clusterId.output.split('\n').at(-1)!.trim()
    }
    const scram = Object.entries(this.#o.saslSsl?.users ?? {}).flatMap(([name, password]) => [
      '--add-scram',
      `SCRAM-SHA-512=[name=${name},password=${password}]`,
    ])
    const format = java(
      [
        'kafka.tools.StorageTool',
        'format',
        '-t',
        id,
        '-c',
        this.propertiesFile,
        ...scram,
        ...Object.entries(this.#o.features ?? {}).flatMap(([name, level]) => [
          '--feature',
          `${name}=${level}`,
        ]),
      ],
      this.#log4jFile,
    )
    if (format.status !== 0) {
      throw new Error(
        `StorageTool format of ${this.dataDir} failed` +
          `${this.#o.keepData ? ' (the dir is kept: remove it by hand if it is a half-formatted leftover)' : ''}:\n${format.output}`,
      )
    }
  }

  #writeConfigs(): void {
    mkdirSync(this.stateDir, { recursive: true })
    const node = this.#o.cluster ?? {
      nodeId: 1,
      voters: `1@127.0.0.1:${this.controllerPort}`,
      replicationFactor: 1,
    }
    const rf = node.replicationFactor
    const minIsr = Math.max(1, rf - 1)
    const secure = this.#o.saslSsl
    const extra = this.#o.listeners ?? []
    const listeners = [`PLAINTEXT://127.0.0.1:${this.port}`]
    if (secure) listeners.push(`SASL_SSL://127.0.0.1:${secure.port}`)
    const advertised = [...listeners, ...extra.map((l) => `${l.name}://${l.advertised}`)]
    listeners.push(...extra.map((l) => `${l.name}://127.0.0.1:${l.port}`))
    const properties: Record<string, string> = {
      'process.roles': 'broker,controller',
      'node.id': String(node.nodeId),
      'controller.quorum.voters': node.voters,
      listeners: [...listeners, `CONTROLLER://127.0.0.1:${this.controllerPort}`].join(','),
      'advertised.listeners': advertised.join(','),
      'listener.security.protocol.map': [
        'PLAINTEXT:PLAINTEXT',
        'CONTROLLER:PLAINTEXT',
        ...(secure ? ['SASL_SSL:SASL_SSL'] : []),
        ...extra.map((l) => `${l.name}:PLAINTEXT`),
      ].join(','),
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': this.dataDir,
      'num.partitions': '1',
      'default.replication.factor': String(rf),
      'min.insync.replicas': String(minIsr),
      'offsets.topic.replication.factor': String(rf),
      // Fewer internal partitions: a test broker creates __consumer_offsets on the first group use.
      'offsets.topic.num.partitions': '10',
      'transaction.state.log.replication.factor': String(rf),
      'transaction.state.log.min.isr': String(minIsr),
      'transaction.state.log.num.partitions': '5',
      'share.coordinator.state.topic.replication.factor': String(rf),
      'share.coordinator.state.topic.min.isr': String(minIsr),
      'group.initial.rebalance.delay.ms': '0',
      // Lets tests and benchmarks use session timeouts below Kafka's 6 s default floor (fast failover).
      'group.min.session.timeout.ms': '1000',
      'auto.create.topics.enable': 'false',
      'delete.topic.enable': 'true',
      ...(secure
        ? {
            'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
            'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
              'org.apache.kafka.common.security.scram.ScramLoginModule required;',
            'ssl.keystore.type': 'PEM',
            'ssl.keystore.location': secure.keystore,
          }
        : {}),
      ...this.#o.properties,
    }
    writeFileSync(
      this.propertiesFile,
      [
        `# Written by scripts/kafka.ts: ${this.#o.cluster ? `node ${node.nodeId} of a KRaft cluster` : 'a single-node KRaft broker'} for tests and benchmarks.`,
        ...Object.entries(properties).map(([key, value]) => `${key}=${value}`),
        '',
      ].join('\n'),
    )
    writeFileSync(
      this.#log4jFile,
      [
        'status = warn',
        'appender.out.type = Console',
        'appender.out.name = STDOUT',
        'appender.out.layout.type = PatternLayout',
        'appender.out.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = INFO',
        'rootLogger.appenderRef.out.ref = STDOUT',
        // The broker is chatty at INFO; keep the lines that explain a failed start.
        'logger.kafka.name = kafka',
        'logger.kafka.level = WARN',
        'logger.apache.name = org.apache.kafka',
        'logger.apache.level = WARN',
        'logger.server.name = kafka.server.KafkaRaftServer',
        'logger.server.level = INFO',
        '',
      ].join('\n'),
    )
  }
}

function java(args: string[], log4jFile: string): { status: number | null; output: string } {
  const result = spawnSync(
    'java',
    ['-cp', `${libDir}/*`, `-Dlog4j2.configurationFile=${log4jFile}`, ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  if (result.error !== undefined) {
    throw new Error(`cannot run 'java' (${result.error.message}): Kafka needs Java 17 or later on the PATH`)
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() }
}

/** The shared broker: `.services/kafka`, SLUICE_KAFKA_PORT, SLUICE_KAFKA_KEEP_DATA. */
function sharedBroker(): KafkaBroker {
  return new KafkaBroker({
    port: kafkaPort(),
    stateDir,
    keepData: process.env.SLUICE_KAFKA_KEEP_DATA === '1',
  })
}

/**
 * Returns a broker answering on the configured port, starting one when none does.
 * Throws with the broker log's tail when it cannot start.
 */
export async function ensureKafka(): Promise<{ bootstrap: string; startedHere: boolean }> {
  const broker = sharedBroker()
  return { bootstrap: broker.bootstrap, startedHere: await ensureStarted(broker) }
}

/** Stops the broker this script started (per its pid file); a broker started otherwise is left alone. */
export async function stopKafka(): Promise<boolean> {
  return await sharedBroker().stop('SIGTERM')
}

if (import.meta.main) serviceMain('kafka', sharedBroker)
