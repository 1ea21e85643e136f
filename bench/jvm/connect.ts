/**
 * Apache Kafka Connect, for side-by-side benchmarks only (a measuring tool, never product code).
 *
 * - Jars come from Maven Central: bench/jvm/pom.xml is filled with the broker's version
 *   (scripts/kafka.ts) and resolved once with `mvn dependency:copy-dependencies` into
 *   `.services/cache/connect-<version>/`: `lib/` is the JVM classpath (connect-runtime's closure plus
 *   the log4j2 slf4j binding), `plugins/connect-file/` holds connect-file alone and is the worker's
 *   `plugin.path`, as an operator installs the FileStream connectors since Kafka 3.2.
 * - `startConnectStandalone` runs `org.apache.kafka.connect.cli.ConnectStandalone worker.properties
 *   connector.properties…` with the JVM options of Kafka's `bin/connect-standalone.sh`
 *   (`-Xms256M -Xmx2G`, G1) unless SLUICE_BENCH_CONNECT_HEAP says otherwise.
 *
 *   npx node bench/jvm/connect.ts resolve     # resolve (or show) the cached jars
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { KAFKA_VERSION, LOG4J_VERSION } from '../../scripts/kafka.ts'
import { writeProperties } from '../lib/properties-file.ts'
import { spawnWorker, type WorkerProcess } from '../lib/worker-process.ts'

export const CONNECT_VERSION = KAFKA_VERSION

const root = resolve(import.meta.dirname, '..', '..')
const cacheDir = join(root, '.services', 'cache', `connect-${CONNECT_VERSION}`)
const libDir = join(cacheDir, 'lib')
const pluginDir = join(cacheDir, 'plugins')
const log4jFile = join(cacheDir, 'log4j2.properties')

function log(message: string): void {
  process.stderr.write(`[connect] ${message}\n`)
}

function mvn(pom: string, args: string[]): void {
  const result = spawnSync('mvn', ['-B', '-q', '-f', pom, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15 * 60_000,
  })
  if (result.error !== undefined || result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n')
    throw new Error(
      `could not resolve Kafka Connect jars with Maven (${result.error?.message ?? `exit code ${result.status}`}); ` +
        `is 'mvn' on the PATH and Maven Central reachable?\n${output}`,
    )
  }
}

/** Resolves the jars into the cache (once). Returns the classpath dir and the plugin.path dir. */
export function resolveConnectJars(): { libDir: string; pluginDir: string } {
  const marker = join(cacheDir, '.complete')
  if (existsSync(marker)) return { libDir, pluginDir }
  const started = Date.now()
  mkdirSync(cacheDir, { recursive: true })
  const pom = join(cacheDir, 'pom.xml')
  const template = readFileSync(join(import.meta.dirname, 'pom.xml'), 'utf8')
  writeFileSync(
    pom,
    template.replaceAll('@KAFKA_VERSION@', CONNECT_VERSION).replaceAll('@LOG4J_VERSION@', LOG4J_VERSION),
  )
  log(`resolving Kafka Connect ${CONNECT_VERSION} jars from Maven Central (once, cached in ${cacheDir})`)
  // Into temporary dirs, renamed at the end: an interrupted resolution never looks complete.
  const tmpLib = join(cacheDir, `lib.tmp-${process.pid}`)
  const tmpPlugins = join(cacheDir, `plugins.tmp-${process.pid}`)
  rmSync(tmpLib, { recursive: true, force: true })
  rmSync(tmpPlugins, { recursive: true, force: true })
  try {
    mvn(pom, [
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmpLib}`,
      '-DincludeScope=runtime',
      '-DexcludeArtifactIds=connect-file',
    ])
    mvn(pom, [
      'dependency:copy-dependencies',
      `-DoutputDirectory=${join(tmpPlugins, 'connect-file')}`,
      '-DincludeArtifactIds=connect-file',
      '-DexcludeTransitive=true',
    ])
  } catch (error) {
    rmSync(tmpLib, { recursive: true, force: true })
    rmSync(tmpPlugins, { recursive: true, force: true })
    throw error
  }
  rmSync(libDir, { recursive: true, force: true })
  rmSync(pluginDir, { recursive: true, force: true })
  renameSync(tmpLib, libDir)
  renameSync(tmpPlugins, pluginDir)
  writeFileSync(marker, `${CONNECT_VERSION}\n`)
  log(`resolved jars in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return { libDir, pluginDir }
}

/** Connect's stock connect-log4j2 config, minus the file appender: INFO to stdout. */
function writeLog4jConfig(): void {
  writeFileSync(
    log4jFile,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = STDOUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %X{connector.context}%m (%c:%L)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.out.ref = STDOUT',
      '',
    ].join('\n'),
  )
}

export interface ConnectStandaloneOptions {
  /** The process's working directory; worker.properties and the log are written there. */
  cwd: string
  /** Worker keys; `plugin.path` is added unless given. */
  worker: Record<string, string | number>
  /** Connector `.properties` (or `.json`) files, in order. */
  connectorFiles: string[]
  /** @default `<cwd>/worker.log` */
  logFile?: string
}

/** The JVM options of bin/connect-standalone.sh and kafka-run-class.sh (Kafka 4.x). */
export function connectJvmOptions(): string[] {
  const heap = (process.env.SLUICE_BENCH_CONNECT_HEAP ?? '-Xms256M -Xmx2G').split(/\s+/).filter(Boolean)
  return [
    ...heap,
    '-server',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
  ]
}

/** Launches ConnectStandalone as a child process in its own process group. */
export function startConnectStandalone(options: ConnectStandaloneOptions): WorkerProcess {
  return launch('ConnectStandalone', options)
}

/**
 * Launches ConnectDistributed (no connector files: connectors are created over REST). `worker` needs
 * `group.id` and the three internal topics.
 */
export function startConnectDistributed(
  options: Omit<ConnectStandaloneOptions, 'connectorFiles'>,
): WorkerProcess {
  return launch('ConnectDistributed', { ...options, connectorFiles: [] })
}

function launch(
  main: 'ConnectStandalone' | 'ConnectDistributed',
  options: ConnectStandaloneOptions,
): WorkerProcess {
  const { libDir, pluginDir } = resolveConnectJars()
  if (!existsSync(log4jFile)) writeLog4jConfig()
  const workerFile = writeProperties(
    join(options.cwd, 'worker.properties'),
    { 'plugin.path': pluginDir, ...options.worker },
    `Kafka Connect ${main === 'ConnectStandalone' ? 'standalone' : 'distributed'} worker, written by bench/jvm/connect.ts`,
  )
  return spawnWorker(
    'java',
    [
      ...connectJvmOptions(),
      `-Dlog4j2.configurationFile=${log4jFile}`,
      '-cp',
      `${libDir}/*`,
      `org.apache.kafka.connect.cli.${main}`,
      workerFile,
      ...options.connectorFiles,
    ],
    { cwd: options.cwd, logFile: options.logFile ?? join(options.cwd, 'worker.log') },
  )
}

if (import.meta.main) {
  if (process.argv[2] !== 'resolve') {
    console.error('usage: node bench/jvm/connect.ts resolve')
    process.exitCode = 2
  } else {
    const dirs = resolveConnectJars()
    console.log(`classpath ${dirs.libDir}\nplugin.path ${dirs.pluginDir}`)
  }
}
