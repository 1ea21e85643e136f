/**
 * Debezium's PostgreSQL connector on Apache Kafka Connect, for golden captures and side-by-side
 * benchmarks only (a measuring tool, never product code).
 *
 * - The connector comes from Maven Central as Debezium ships it for Kafka Connect: the
 *   `io.debezium:debezium-connector-postgres:<version>:tar.gz:plugin` archive, fetched with
 *   `mvn dependency:copy` and unpacked into `.services/cache/debezium-postgres-<version>/`, which is
 *   added to the worker's `plugin.path` next to connect-file.
 * - The worker itself is bench/jvm/connect.ts's ConnectStandalone.
 *
 *   npx node bench/jvm/debezium.ts resolve
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { WorkerProcess } from '../lib/worker-process.ts'
import { resolveConnectJars, startConnectDistributed, startConnectStandalone } from './connect.ts'

export const DEBEZIUM_VERSION = process.env.SLUICE_BENCH_DEBEZIUM_VERSION ?? '3.6.1.Final'

const root = resolve(import.meta.dirname, '..', '..')
const cacheDir = join(root, '.services', 'cache', `debezium-postgres-${DEBEZIUM_VERSION}`)

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 15 * 60_000 })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n` +
        `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n'),
    )
  }
}

/** Fetches and unpacks the Debezium plugin archive once. Returns the directory to add to plugin.path. */
export function resolveDebeziumPlugin(): string {
  const plugins = join(cacheDir, 'plugins')
  const marker = join(cacheDir, '.complete')
  if (existsSync(marker)) return plugins
  rmSync(cacheDir, { recursive: true, force: true })
  mkdirSync(plugins, { recursive: true })
  process.stderr.write(
    `[debezium] fetching debezium-connector-postgres ${DEBEZIUM_VERSION} from Maven Central\n`,
  )
  run(
    'mvn',
    [
      '-B',
      '-q',
      'dependency:copy',
      `-Dartifact=io.debezium:debezium-connector-postgres:${DEBEZIUM_VERSION}:tar.gz:plugin`,
      `-DoutputDirectory=${cacheDir}`,
    ],
    cacheDir,
  )
  const archive = readdirSync(cacheDir).find((f) => f.endsWith('.tar.gz'))
  if (!archive) throw new Error(`no plugin archive in ${cacheDir}`)
  run('tar', ['xzf', join(cacheDir, archive), '-C', plugins], cacheDir)
  writeFileSync(marker, `${DEBEZIUM_VERSION}\n`)
  return plugins
}

/** The worker's keys with connect-file and Debezium's PostgreSQL connector on its plugin.path. */
function withDebezium(worker: Record<string, string | number>): Record<string, string | number> {
  return { 'plugin.path': `${resolveConnectJars().pluginDir},${resolveDebeziumPlugin()}`, ...worker }
}

/** ConnectStandalone with Debezium's PostgreSQL connector. */
export function startDebeziumConnect(options: {
  cwd: string
  worker: Record<string, string | number>
  connectorFiles: string[]
}): WorkerProcess {
  return startConnectStandalone({ ...options, worker: withDebezium(options.worker) })
}

/** ConnectDistributed with Debezium's PostgreSQL connector (connectors are created over REST). */
export function startDebeziumConnectDistributed(options: {
  cwd: string
  worker: Record<string, string | number>
}): WorkerProcess {
  return startConnectDistributed({ ...options, worker: withDebezium(options.worker) })
}

if (import.meta.main) {
  if (process.argv[2] !== 'resolve') {
    console.error('usage: node bench/jvm/debezium.ts resolve')
    process.exitCode = 2
  } else {
    console.log(`plugin dir ${resolveDebeziumPlugin()}`)
  }
}
