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
 * - Tests that restart PostgreSQL make their own `PostgresCluster` (own port and dir; `start()`,
 *   `restart()`, `destroy()`); the shared one is never restarted.
 *
 * Environment: SLUICE_PG_PORT (default 15432), SLUICE_PG_BIN (the directory of initdb/pg_ctl; found
 * under /usr/lib/postgresql/<newest> when unset).
 */
import { spawn, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const stateDir = join(root, '.services', 'postgres')
const dataDir = join(stateDir, 'data')
const logFile = join(stateDir, 'postgres.log')
const MARKER = 'sluice-test-cluster'
const marker = join(dataDir, MARKER)

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

/** The command line of a PostgreSQL binary, run as the `postgres` system user when we are root. */
function pgCommand(tool: string, args: string[]): [string, string[]] {
  const executable = join(binDir(), tool)
  return isRoot ? ['runuser', ['-u', 'postgres', '--', executable, ...args]] : [executable, args]
}

/** Runs a PostgreSQL binary, as the `postgres` system user when we are root. */
function runPg(tool: string, args: string[], timeoutMs = 60_000): { status: number | null; output: string } {
  const [command, commandArgs] = pgCommand(tool, args)
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

export interface PostgresClusterOptions {
  port: number
  /** Holds data/, postgres.log and the Unix socket. Made (and given to `postgres` under root) if missing. */
  stateDir: string
  /** Keep an existing data/ (a cluster made by an earlier start) instead of making it afresh. */
  keepData: boolean
  /** Settings added to (or overriding) the defaults of a new cluster, e.g. `{ wal_sender_timeout: "'5s'" }`. */
  settings?: Record<string, string>
}

/**
 * One PostgreSQL cluster with its own port and dir. `ensurePostgres` runs the shared one through it;
 * a test that restarts PostgreSQL makes its own (`start()`, `restart()`, `destroy()`).
 */
export class PostgresCluster {
  readonly port: number
  readonly stateDir: string
  readonly dataDir: string
  readonly logFile: string
  readonly #o: PostgresClusterOptions

  constructor(options: PostgresClusterOptions) {
    this.#o = options
    this.port = options.port
    this.stateDir = resolve(options.stateDir)
    this.dataDir = join(this.stateDir, 'data')
    this.logFile = join(this.stateDir, 'postgres.log')
  }

  /** A libpq URL for a database of the cluster as its superuser. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  /** Makes the cluster (unless kept) and starts the server; resolves once it accepts connections. */
  start(): void {
    const started = Date.now()
    const keep = this.#o.keepData && existsSync(join(this.dataDir, 'PG_VERSION'))
    mkdirSync(this.stateDir, { recursive: true })
    chownToPostgres(this.stateDir)
    if (!keep) this.#init()
    if (existsSync(this.logFile)) chownToPostgres(this.logFile)
    else {
      writeFileSync(this.logFile, '')
      chownToPostgres(this.logFile)
    }
    const start = runPg(
      'pg_ctl',
      ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', '-o', `-p ${this.port}`, 'start'],
      90_000,
    )
    if (start.status !== 0)
      throw new Error(`pg_ctl start failed (exit ${start.status}):\n${start.output}\nsee ${this.logFile}`)
    log(`started on 127.0.0.1:${this.port} in ${Date.now() - started} ms (data ${this.dataDir})`)
  }

  /**
   * `pg_ctl restart` (fast: open transactions are rolled back, every connection is cut) in a child
   * process, so the caller's event loop keeps running while the server is down.
   */
  restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const args = ['-D', this.dataDir, '-m', mode, '-w', '-t', '90', '-o', `-p ${this.port}`, 'restart']
    const [command, commandArgs] = pgCommand('pg_ctl', [...args, '-l', this.logFile])
    const child = spawn(command, commandArgs, { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    return new Promise((resolveRestart, reject) => {
      child.once('error', reject)
      child.once('exit', (code) =>
        code === 0
          ? resolveRestart()
          : reject(new Error(`pg_ctl restart exited ${code}: ${stderr.trim()} (see ${this.logFile})`)),
      )
    })
  }

  /** Stops the server if it runs (fast mode, or immediate: a crash without a checkpoint). */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) return
    const stop = runPg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop'])
    if (stop.status !== 0) log(`pg_ctl stop: ${stop.output.trim()}`)
  }

  /** Stops the server and deletes the state dir. */
  destroy(): void {
    this.stop('immediate')
    rmSync(this.stateDir, { recursive: true, force: true })
  }

  #init(): void {
    rmSync(this.dataDir, { recursive: true, force: true })
    const init = runPg('initdb', [
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ])
    if (init.status !== 0) throw new Error(`initdb failed (exit ${init.status}):\n${init.output}`)
    const conf = Object.entries({ ...SETTINGS, ...this.#o.settings }).map(([k, v]) => `${k} = ${v}`)
    conf.push(`port = ${this.port}`, `unix_socket_directories = '${this.stateDir}'`)
    writeFileSync(join(this.dataDir, 'postgresql.auto.conf'), `${conf.join('\n')}\n`)
    writeFileSync(
      join(this.dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        'host all all 127.0.0.1/32 trust',
        'local replication all trust',
        'host replication all 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    )
    writeFileSync(join(this.dataDir, MARKER), 'made by scripts/postgres.ts\n')
    for (const f of ['postgresql.auto.conf', 'pg_hba.conf', MARKER]) chownToPostgres(join(this.dataDir, f))
  }
}

/** The shared cluster: `.services/postgres`, SLUICE_PG_PORT, SLUICE_PG_KEEP_DATA. */
function sharedCluster(): PostgresCluster {
  return new PostgresCluster({
    port: postgresPort(),
    stateDir,
    keepData: process.env.SLUICE_PG_KEEP_DATA === '1',
  })
}

/** Starts the cluster, or reuses a server answering on the port. */
export async function ensurePostgres(): Promise<PostgresHandle> {
  const port = postgresPort()
  const handle = { url: postgresUrl(), port }
  if (await portOpen(port)) return { ...handle, startedHere: false }
  mkdirSync(stateDir, { recursive: true })
  chownToPostgres(join(root, '.services'))
  sharedCluster().start()
  return { ...handle, startedHere: true }
}

/** Stops the cluster if this script made it and it runs. */
export function stopPostgres(): void {
  if (!existsSync(marker)) return
  sharedCluster().stop()
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
