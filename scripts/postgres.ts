/**
 * A throwaway PostgreSQL cluster with `wal_level=logical` for tests and benchmarks, made with the
 * machine's own `initdb` and `pg_ctl` on a port of its own (the machine's server on 5432 has
 * `wal_level=replica` and is left alone).
 *
 *   npx node scripts/postgres.ts start|stop|status
 *
 * - The cluster lives in `.services/postgres/` (data/, postgres.log, the Unix socket). It is made
 *   afresh at each start (no slots or tables left from an earlier run) unless SLUICE_PG_KEEP_DATA=1.
 * - `start` reuses a server that already answers on the port; `stop` only stops a cluster this
 *   script made (its data dir holds our marker file).
 * - Superuser `postgres`, trust authentication for loopback and replication connections.
 * - Run as root (as CI is), the server runs as the `postgres` system user: PostgreSQL refuses root.
 *
 * Environment: SLUICE_PG_PORT (default 15432), SLUICE_PG_BIN (the directory of initdb/pg_ctl; found
 * under /usr/lib/postgresql/<newest> when unset).
 */
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const stateDir = join(root, '.services', 'postgres')
const dataDir = join(stateDir, 'data')
const logFile = join(stateDir, 'postgres.log')
const marker = join(dataDir, 'sluice-test-cluster')

export function postgresPort(): number {
  const raw = process.env.SLUICE_PG_PORT
  if (raw === undefined || raw === '') return 15432
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`SLUICE_PG_PORT must be a port number, got '${raw}'`)
  }
  return port
}

/** A libpq URL for the cluster's `postgres` database as its superuser. */
export function postgresUrl(database = 'postgres'): string {
  return `postgres://postgres@127.0.0.1:${postgresPort()}/${database}`
}

export const postgresPaths = { stateDir, dataDir, logFile } as const

function log(message: string): void {
  process.stderr.write(`[postgres] ${message}\n`)
}

function binDir(): string {
  if (process.env.SLUICE_PG_BIN) return process.env.SLUICE_PG_BIN
  const base = '/usr/lib/postgresql'
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0] !== undefined) return join(base, versions[0], 'bin')
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  if (which.status === 0 && which.stdout.trim() !== '') return resolve(which.stdout.trim(), '..')
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package or set SLUICE_PG_BIN',
  )
}

const isRoot = process.getuid?.() === 0

/** Runs a PostgreSQL binary, as the `postgres` system user when we are root. */
function runPg(tool: string, args: string[], timeoutMs = 60_000): { status: number | null; output: string } {
  const executable = join(binDir(), tool)
  const [command, commandArgs] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', executable, ...args]]
    : [executable, args]
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', timeout: timeoutMs, cwd: '/' })
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}`,
  }
}

/** True when something accepts TCP connections on the port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ port, host })
    socket.setTimeout(1000)
    socket.once('connect', () => {
      socket.destroy()
      resolveOpen(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolveOpen(false)
    })
    socket.once('error', () => resolveOpen(false))
  })
}

function chownToPostgres(path: string): void {
  if (!isRoot) return
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (id.status !== 0)
    throw new Error('running as root but there is no `postgres` system user to run the server')
  chownSync(path, Number(id.stdout.trim()), Number(gid.stdout.trim()))
}

const SETTINGS: Record<string, string> = {
  wal_level: 'logical',
  max_wal_senders: '20',
  max_replication_slots: '40',
  max_connections: '300',
  listen_addresses: "'127.0.0.1'",
  // A throwaway cluster: durability of the test server itself is not under test.
  fsync: 'off',
  full_page_writes: 'off',
  shared_buffers: "'256MB'",
  wal_sender_timeout: "'60s'",
  timezone: "'UTC'",
  log_min_messages: 'warning',
}

export interface PostgresHandle {
  url: string
  port: number
  /** True when this call started the server (the caller then stops it). */
  startedHere: boolean
}

/** Starts the cluster, or reuses a server answering on the port. */
export async function ensurePostgres(): Promise<PostgresHandle> {
  const port = postgresPort()
  const handle = { url: postgresUrl(), port }
  if (await portOpen(port)) return { ...handle, startedHere: false }
  const started = Date.now()
  const keep = process.env.SLUICE_PG_KEEP_DATA === '1' && existsSync(join(dataDir, 'PG_VERSION'))
  mkdirSync(stateDir, { recursive: true })
  chownToPostgres(join(root, '.services'))
  chownToPostgres(stateDir)
  if (!keep) {
    rmSync(dataDir, { recursive: true, force: true })
    const init = runPg('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ])
    if (init.status !== 0) throw new Error(`initdb failed (exit ${init.status}):\n${init.output}`)
    const conf = Object.entries(SETTINGS).map(([k, v]) => `${k} = ${v}`)
    conf.push(`port = ${port}`, `unix_socket_directories = '${stateDir}'`)
    writeFileSync(join(dataDir, 'postgresql.auto.conf'), `${conf.join('\n')}\n`)
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        'host all all 127.0.0.1/32 trust',
        'local replication all trust',
        'host replication all 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    )
    writeFileSync(marker, 'made by scripts/postgres.ts\n')
    for (const f of ['postgresql.auto.conf', 'pg_hba.conf', 'sluice-test-cluster'])
      chownToPostgres(join(dataDir, f))
  }
  if (existsSync(logFile)) chownToPostgres(logFile)
  else {
    writeFileSync(logFile, '')
    chownToPostgres(logFile)
  }
  const start = runPg(
    'pg_ctl',
    ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`, 'start'],
    90_000,
  )
  if (start.status !== 0)
    throw new Error(`pg_ctl start failed (exit ${start.status}):\n${start.output}\nsee ${logFile}`)
  log(`started on 127.0.0.1:${port} in ${Date.now() - started} ms (data ${dataDir})`)
  return { ...handle, startedHere: true }
}

/** Stops the cluster if this script made it and it runs. */
export function stopPostgres(): void {
  if (!existsSync(marker) || !existsSync(join(dataDir, 'postmaster.pid'))) return
  const stop = runPg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'])
  if (stop.status !== 0) log(`pg_ctl stop: ${stop.output.trim()}`)
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'status'
  if (command === 'start') {
    const handle = await ensurePostgres()
    process.stdout.write(`${handle.url}${handle.startedHere ? '' : ' (already running)'}\n`)
  } else if (command === 'stop') {
    stopPostgres()
  } else if (command === 'status') {
    const up = await portOpen(postgresPort())
    process.stdout.write(`${up ? 'running' : 'stopped'} ${postgresUrl()}\n`)
    if (existsSync(dataDir))
      process.stdout.write(`data ${dataDir} (${statSync(dataDir).mtime.toISOString()})\n`)
  } else {
    process.stderr.write('usage: node scripts/postgres.ts start|stop|status\n')
    process.exitCode = 2
  }
}

if (import.meta.main) await main()
