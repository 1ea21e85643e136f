/**
 * Debezium's JDBC sink connector as a Kafka Connect plugin, for side-by-side benchmarks only (a
 * measuring tool, never product code). bench/jvm/debezium-jdbc-pom.xml is filled with the version
 * and resolved once from Maven Central with `mvn dependency:copy-dependencies` into
 * `.services/cache/debezium-jdbc-<version>/plugins/debezium-connector-jdbc/`; that `plugins/` dir is
 * added to the worker's `plugin.path` next to Connect's own (bench/jvm/connect.ts).
 *
 *   npx node bench/jvm/debezium-jdbc.ts resolve
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The Debezium release the comparison runs (3.x supports Kafka Connect 4.x). */
export const DEBEZIUM_VERSION = process.env.SLUICE_BENCH_DEBEZIUM_VERSION ?? '3.4.0.Final'

const root = resolve(import.meta.dirname, '..', '..')
const cacheDir = join(root, '.services', 'cache', `debezium-jdbc-${DEBEZIUM_VERSION}`)
const pluginsDir = join(cacheDir, 'plugins')

/** Resolves the plugin (once) and returns the dir to add to plugin.path. */
export function resolveDebeziumJdbc(): string {
  const marker = join(cacheDir, '.complete')
  if (existsSync(marker)) return pluginsDir
  mkdirSync(cacheDir, { recursive: true })
  const pom = join(cacheDir, 'pom.xml')
  writeFileSync(
    pom,
    readFileSync(join(import.meta.dirname, 'debezium-jdbc-pom.xml'), 'utf8').replaceAll(
      '@DEBEZIUM_VERSION@',
      DEBEZIUM_VERSION,
    ),
  )
  process.stderr.write(
    `[debezium] resolving debezium-connector-jdbc ${DEBEZIUM_VERSION} from Maven Central\n`,
  )
  const tmp = join(cacheDir, `plugins.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  const result = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pom,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${join(tmp, 'debezium-connector-jdbc')}`,
      '-DincludeScope=runtime',
      // Connect's classpath provides these; a second copy in the plugin clashes with them (Jackson's
      // ServiceLoader finds Connect's BlackbirdModule, built against Connect's own jackson-databind).
      '-DexcludeGroupIds=org.apache.kafka,org.slf4j,com.fasterxml.jackson.core,com.fasterxml.jackson.module',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 },
  )
  if (result.error !== undefined || result.status !== 0) {
    rmSync(tmp, { recursive: true, force: true })
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n')
    throw new Error(`could not resolve debezium-connector-jdbc ${DEBEZIUM_VERSION} with Maven:\n${output}`)
  }
  rmSync(pluginsDir, { recursive: true, force: true })
  renameSync(tmp, pluginsDir)
  writeFileSync(marker, `${DEBEZIUM_VERSION}\n`)
  return pluginsDir
}

if (import.meta.main) {
  if (process.argv[2] !== 'resolve') {
    console.error('usage: node bench/jvm/debezium-jdbc.ts resolve')
    process.exitCode = 2
  } else {
    console.log(`plugin.path entry ${resolveDebeziumJdbc()}`)
  }
}
