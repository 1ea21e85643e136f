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
 * - `start` reuses a broker that already answers on the port; `stop` only stops a broker whose pid
 *   file this script wrote, and only if that pid is still a `kafka.Kafka` JVM.
 *
 * Environment: SLUICE_KAFKA_PORT (default 19092; the controller listens on port+1),
 * SLUICE_KAFKA_START_TIMEOUT_MS (default 90000), SLUICE_KAFKA_HEAP (default 512m).
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'

/** Pinned: exists on Maven Central; its POM depends on slf4j-api 1.7.x, hence log4j-slf4j-impl. */
export const KAFKA_VERSION = '4.3.1'
export const LOG4J_VERSION = '2.24.3'

const root = resolve(import.meta.dirname, '..')
const servicesDir = join(root, '.services')
const cacheDir = join(servicesDir, 'cache', `kafka-${KAFKA_VERSION}`)
const libDir = join(cacheDir, 'lib')
/** The shared broker's state (the CLI's and the test suite's); a test's own broker has its own dir. */
const stateDir = join(servicesDir, 'kafka')
const dataDir = join(stateDir, 'data')
const pidFile = join(stateDir, 'kafka.pid')
const logFile = join(stateDir, 'kafka.log')
/** Held (O_EXCL) while a process starts the broker, so concurrent test runs do not start two. */
const lockFile = join(stateDir, 'start.lock')

export function kafkaPort(): number {
  const raw = process.env.SLUICE_KAFKA_PORT
  if (raw === undefined || raw === '') return 19092
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new Error(`SLUICE_KAFKA_PORT must be a port number below 65535, got '${raw}'`)
  }
  return port
}

export function kafkaBootstrapAddress(): string {
  return `127.0.0.1:${kafkaPort()}`
}

/** Paths a human (or a test failure message) may want. */
export const kafkaPaths = { libDir, stateDir, dataDir, pidFile, logFile } as const

function log(message: string): void {
  process.stderr.write(`[kafka] ${message}\n`)
}

/** Resolves the broker's jars into the cache (once). Returns how long it took, 0 when cached. */
export function resolveKafkaJars(): number {
  const marker = join(libDir, '.complete')
  if (existsSync(marker)) return 0
  const started = Date.now()
  mkdirSync(cacheDir, { recursive: true })
  const template = readFileSync(join(root, 'scripts', 'kafka', 'pom.xml'), 'utf8')
  writeFileSync(
    join(cacheDir, 'pom.xml'),
    template.replaceAll('@KAFKA_VERSION@', KAFKA_VERSION).replaceAll('@LOG4J_VERSION@', LOG4J_VERSION),
  )
  // Copy into a temporary dir and rename, so an interrupted resolution never looks complete.
  const tmp = join(cacheDir, `lib.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  log(`resolving Kafka ${KAFKA_VERSION} jars from Maven Central (once, cached in ${libDir})`)
  const mvn = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      join(cacheDir, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  if (mvn.error !== undefined || mvn.status !== 0) {
    rmSync(tmp, { recursive: true, force: true })
    const output = `${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n')
    throw new Error(
      `could not resolve Kafka jars with Maven (${mvn.error?.message ?? `exit code ${mvn.status}`}); ` +
        `is 'mvn' on the PATH and Maven Central reachable?\n${output}`,
    )
  }
  rmSync(libDir, { recursive: true, force: true })
  renameSync(tmp, libDir)
  writeFileSync(marker, `${KAFKA_VERSION}\n`)
  const elapsed = Date.now() - started
  log(`resolved jars in ${(elapsed / 1000).toFixed(1)} s`)
  return elapsed
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
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
  /** @default SLUICE_KAFKA_HEAP or 512m */
  heap?: string
  /** @default SLUICE_KAFKA_START_TIMEOUT_MS or 90000 */
  startTimeoutMs?: number
}

/**
 * One KRaft broker+controller JVM with its own port and state dir. `ensureKafka` runs the shared one
 * through it; a test that restarts a broker makes its own (`new KafkaBroker({...}).start()`, then
 * `stop('SIGTERM' | 'SIGKILL')` and `start()` again on the same data).
 */
export class KafkaBroker {
  readonly port: number
  readonly controllerPort: number
  readonly stateDir: string
  readonly dataDir: string
  readonly pidFile: string
  readonly logFile: string
  readonly propertiesFile: string
  readonly #log4jFile: string
  readonly #o: KafkaBrokerOptions

  constructor(options: KafkaBrokerOptions) {
    this.#o = options
    this.port = options.port
    this.controllerPort = options.controllerPort ?? options.port + 1
    this.stateDir = resolve(options.stateDir)
    this.dataDir = join(this.stateDir, 'data')
    this.pidFile = join(this.stateDir, 'kafka.pid')
    this.logFile = join(this.stateDir, 'kafka.log')
    this.propertiesFile = join(this.stateDir, 'server.properties')
    this.#log4jFile = join(this.stateDir, 'log4j2.properties')
  }

  /** `127.0.0.1:<port>`, the PLAINTEXT listener. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`
  }

  /** The cluster id of the data dir (undefined before the first format). */
  get clusterId(): string | undefined {
    return readClusterId(this.dataDir)
  }

  /** The pid of the JVM this object (or an earlier process, per the pid file) started, if it runs. */
  get pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 && this.isOurs(pid) ? pid : undefined
  }

  /** True when `pid` is alive and is this broker's JVM (guards against recycled pids). */
  isOurs(pid: number): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      return cmdline.includes('kafka.Kafka') && cmdline.includes(this.propertiesFile)
    } catch {
      return false
    }
  }

  logTail(lines = 40): string {
    if (!existsSync(this.logFile)) return '(no broker log yet)'
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  }

  /** Formats the data dir when needed, starts the JVM and resolves once it answers metadata requests. */
  async start(): Promise<void> {
    if (this.pid !== undefined)
      throw new Error(`the broker in ${this.stateDir} already runs (pid ${this.pid})`)
    rmSync(this.pidFile, { force: true }) // stale: that process is gone
    resolveKafkaJars()
    this.#writeConfigs()
    const started = Date.now()
    this.#formatStorage()
    const heap = this.#o.heap ?? process.env.SLUICE_KAFKA_HEAP ?? '512m'
    // Appends: the log of the run before a restart explains what the restart found.
    const out = openSync(this.logFile, this.#o.keepData ? 'a' : 'w')
    const child = spawn(
      'java',
      [
        `-Xms${heap}`,
        `-Xmx${heap}`,
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${this.#log4jFile}`,
        '-cp',
        `${libDir}/*`,
        'kafka.Kafka',
        this.propertiesFile,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    )
    closeSync(out)
    if (child.pid === undefined) throw new Error('could not spawn java for the Kafka broker')
    child.unref()
    writeFileSync(this.pidFile, `${child.pid}\n`)
    log(`started broker pid ${child.pid} on ${this.bootstrap}, log ${this.logFile}`)
    try {
      await this.waitReady(child.pid)
    } catch (error) {
      killQuietly(child.pid)
      rmSync(this.pidFile, { force: true })
      throw error
    }
    log(`broker ready in ${((Date.now() - started) / 1000).toFixed(1)} s (format + start)`)
  }

  /**
   * Stops the JVM: SIGTERM (a controlled shutdown; SIGKILL after `timeoutMs`) or SIGKILL (a crash).
   * Resolves once the process is gone. False when it was not running.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 30_000): Promise<boolean> {
    const pid = this.pid
    if (pid === undefined) {
      rmSync(this.pidFile, { force: true })
      return false
    }
    killQuietly(pid, signal)
    const deadline = Date.now() + timeoutMs
    while (isAlive(pid) && Date.now() < deadline) await sleep(100)
    if (isAlive(pid)) {
      log(`broker pid ${pid} ignored ${signal} for ${timeoutMs} ms; killing it`)
      killQuietly(pid)
      while (isAlive(pid)) await sleep(100)
    }
    rmSync(this.pidFile, { force: true })
    return true
  }

  async waitReady(pid: number, timeoutMs = this.#startTimeoutMs()): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!isAlive(pid)) {
        throw new Error(
          `the Kafka broker (pid ${pid}) exited during start-up. Last log lines:\n${this.logTail()}`,
        )
      }
      if (await kafkaAnswers(this.bootstrap, 1000)) return
      await sleep(250)
    }
    throw new Error(
      `the Kafka broker did not answer on ${this.bootstrap} within ${timeoutMs} ms ` +
        `(raise SLUICE_KAFKA_START_TIMEOUT_MS, or look at ${this.logFile}). Last log lines:\n${this.logTail()}`,
    )
  }

  #startTimeoutMs(): number {
    return this.#o.startTimeoutMs ?? Number(process.env.SLUICE_KAFKA_START_TIMEOUT_MS ?? 90_000)
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
    const clusterId = java(['kafka.tools.StorageTool', 'random-uuid'], this.#log4jFile)
    if (clusterId.status !== 0) throw new Error(`StorageTool random-uuid failed:\n${clusterId.output}`)
    const id = clusterId.output.split('\n').at(-1)!.trim()
    const format = java(
      ['kafka.tools.StorageTool', 'format', '-t', id, '-c', this.propertiesFile],
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
    writeFileSync(
      this.propertiesFile,
      [
        '# Written by scripts/kafka.ts: a single-node KRaft broker for tests and benchmarks.',
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${this.dataDir}`,
        'num.partitions=1',
        'default.replication.factor=1',
        'min.insync.replicas=1',
        'offsets.topic.replication.factor=1',
        // Fewer internal partitions: a test broker creates __consumer_offsets on the first group use.
        'offsets.topic.num.partitions=10',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=5',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        // Lets tests and benchmarks use session timeouts below Kafka's 6 s default floor (fast failover).
        'group.min.session.timeout.ms=1000',
        'auto.create.topics.enable=false',
        'delete.topic.enable=true',
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

export interface KafkaHandle {
  /** `host:port` of the PLAINTEXT listener. */
  bootstrap: string
  /** True when this call started the broker (so the caller should stop it). */
  startedHere: boolean
}

/**
 * Returns a broker answering on the configured port, starting one when none does.
 * Throws with the broker log's tail when it cannot start.
 */
export async function ensureKafka(): Promise<KafkaHandle> {
  const broker = sharedBroker()
  const bootstrap = broker.bootstrap
  if (await kafkaAnswers(bootstrap)) return { bootstrap, startedHere: false }
  const timeoutMs = Number(process.env.SLUICE_KAFKA_START_TIMEOUT_MS ?? 90_000)
  // Another process (a parallel test run) may be starting the broker: wait for it, then reuse.
  mkdirSync(stateDir, { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' })
      break
    } catch {
      const holder = Number(readFileSync(lockFile, 'utf8').trim())
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        rmSync(lockFile, { force: true }) // left by a process that died while starting
        continue
      }
      if (await kafkaAnswers(bootstrap)) return { bootstrap, startedHere: false }
      if (Date.now() > deadline)
        throw new Error(`process ${holder} has been starting Kafka for over ${timeoutMs} ms`)
      await sleep(250)
    }
  }
  try {
    if (await kafkaAnswers(bootstrap)) return { bootstrap, startedHere: false }
    const existing = broker.pid
    if (existing !== undefined) {
      // Our broker from an earlier run is still starting (or hung): wait for it rather than racing it.
      log(`waiting for the broker already started by this script (pid ${existing})`)
      try {
        await broker.waitReady(existing, timeoutMs)
        return { bootstrap, startedHere: false }
      } catch (error) {
        if (isAlive(existing)) throw error
        log('that broker exited; starting a fresh one')
      }
    }
    await broker.start()
    return { bootstrap, startedHere: true }
  } finally {
    rmSync(lockFile, { force: true })
  }
}

/** Stops the broker this script started (per its pid file); a broker started otherwise is left alone. */
export async function stopKafka(): Promise<boolean> {
  return await sharedBroker().stop('SIGTERM')
}

export async function kafkaStatus(): Promise<string> {
  const bootstrap = kafkaBootstrapAddress()
  const answers = await kafkaAnswers(bootstrap)
  const pid = sharedBroker().pid
  const ours = pid !== undefined
  const who = ours ? `started by this script (pid ${pid})` : 'not started by this script'
  return answers
    ? `Kafka answers on ${bootstrap}, ${who}`
    : `no Kafka on ${bootstrap}${ours ? `; ${who}` : ''}`
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start': {
      const { bootstrap, startedHere } = await ensureKafka()
      console.log(startedHere ? `Kafka started on ${bootstrap}` : `Kafka already running on ${bootstrap}`)
      return
    }
    case 'stop':
      console.log((await stopKafka()) ? 'Kafka stopped' : 'no broker started by this script is running')
      return
    case 'status':
      console.log(await kafkaStatus())
      return
    default:
      console.error('usage: node scripts/kafka.ts start|stop|status')
      process.exitCode = 2
  }
}

if (import.meta.main) {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
