/**
 * The MongoDB test server for tests and benchmarks: `de.bwaldvogel:mongo-java-server` (in-memory,
 * wire protocol compatible) from Maven Central, run by our launcher scripts/mongo/MongoLauncher.java,
 * which reports MongoDB 6.0 / wire version 17 (the `mongodb` driver 7.x refuses servers below wire 9)
 * and enables the oplog so collection-level change streams work. No Docker, no mongod download.
 *
 *   npx node scripts/mongo.ts start|stop|status
 *
 * - Jars are resolved once with `mvn dependency:copy-dependencies` from scripts/mongo/pom.xml into
 *   `.services/cache/mongo-java-server-<version>/lib` and reused.
 * - The shared server's pid and log live in `.services/mongo/`. It keeps data in memory only: a
 *   restart starts empty.
 * - Tests that stop and restart a server make their own `MongoTestServer` (own port and dir).
 * - `start` reuses a server that already answers on the port; `stop` only stops a server whose pid
 *   file this script wrote, and only if that pid is still our launcher.
 *
 * What the server does not do faithfully (update/replace change events, database- and
 * deployment-wide change streams, transactions) is listed in docs/reference/mongodb-source.md.
 *
 * Environment: SLUICE_MONGO_PORT (default 27117), SLUICE_MONGO_START_TIMEOUT_MS (default 60000),
 * SLUICE_MONGO_HEAP (the JVM's -Xmx, default 512m: documents and the oplog are kept in it).
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
import { MongoClient } from 'mongodb'

/** Pinned: on Maven Central; the version whose limits docs/reference/mongodb-source.md describes. */
export const MONGO_JAVA_SERVER_VERSION = '1.47.0'

const root = resolve(import.meta.dirname, '..')
const servicesDir = join(root, '.services')
const cacheDir = join(servicesDir, 'cache', `mongo-java-server-${MONGO_JAVA_SERVER_VERSION}`)
const libDir = join(cacheDir, 'lib')
const launcher = join(root, 'scripts', 'mongo', 'MongoLauncher.java')
const sharedStateDir = join(servicesDir, 'mongo')
const lockFile = join(sharedStateDir, 'start.lock')

export function mongoPort(): number {
  const raw = process.env.SLUICE_MONGO_PORT
  if (raw === undefined || raw === '') return 27117
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`SLUICE_MONGO_PORT must be a port number, got '${raw}'`)
  }
  return port
}

/** The connection string tests use: one server, no replica set discovery. */
export function mongoUri(port = mongoPort()): string {
  return `mongodb://127.0.0.1:${port}/?directConnection=true`
}

function log(message: string): void {
  process.stderr.write(`[mongo] ${message}\n`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/** Resolves the server's jars into the cache (once). */
export function resolveMongoJars(): void {
  const marker = join(libDir, '.complete')
  if (existsSync(marker)) return
  mkdirSync(cacheDir, { recursive: true })
  const template = readFileSync(join(root, 'scripts', 'mongo', 'pom.xml'), 'utf8')
  writeFileSync(join(cacheDir, 'pom.xml'), template.replaceAll('@VERSION@', MONGO_JAVA_SERVER_VERSION))
  const tmp = join(cacheDir, `lib.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  log(
    `resolving mongo-java-server ${MONGO_JAVA_SERVER_VERSION} from Maven Central (once, cached in ${libDir})`,
  )
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-f', join(cacheDir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  if (mvn.error !== undefined || mvn.status !== 0) {
    rmSync(tmp, { recursive: true, force: true })
    const output = `${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n')
    throw new Error(
      `could not resolve mongo-java-server with Maven (${mvn.error?.message ?? `exit code ${mvn.status}`}); ` +
        `is 'mvn' on the PATH and Maven Central reachable?\n${output}`,
    )
  }
  rmSync(libDir, { recursive: true, force: true })
  renameSync(tmp, libDir)
  writeFileSync(marker, `${MONGO_JAVA_SERVER_VERSION}\n`)
}

/** True when a MongoDB server answers `ping` at `uri` within `timeoutMs`. */
export async function mongoAnswers(uri: string, timeoutMs = 2000): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs })
  try {
    await client.db('admin').command({ ping: 1 })
    return true
  } catch {
    return false
  } finally {
    await client.close().catch(() => {})
  }
}

/** One mongo-java-server JVM on its own port; its pid file and log in `stateDir`. */
export class MongoTestServer {
  readonly port: number
  readonly stateDir: string
  readonly pidFile: string
  readonly logFile: string

  readonly heap: string
  readonly oplog: boolean

  /**
   * `heap`: the JVM's -Xmx (default SLUICE_MONGO_HEAP or 512m); documents and the oplog live in it.
   * `oplog: false` leaves change streams off (the in-memory oplog keeps every write).
   */
  constructor(options: { port: number; stateDir: string; heap?: string; oplog?: boolean }) {
    this.heap = options.heap ?? process.env.SLUICE_MONGO_HEAP ?? '512m'
    this.oplog = options.oplog ?? true
    this.port = options.port
    this.stateDir = resolve(options.stateDir)
    this.pidFile = join(this.stateDir, 'mongo.pid')
    this.logFile = join(this.stateDir, 'mongo.log')
  }

  get uri(): string {
    return mongoUri(this.port)
  }

  /** The pid of the launcher JVM this object (or an earlier process, per the pid file) started, if it runs. */
  get pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim())
    if (!Number.isInteger(pid) || pid <= 0) return undefined
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      return cmdline.includes('MongoLauncher') && cmdline.includes(String(this.port)) ? pid : undefined
    } catch {
      return undefined
    }
  }

  logTail(lines = 30): string {
    if (!existsSync(this.logFile)) return '(no server log yet)'
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  }

  async start(timeoutMs = Number(process.env.SLUICE_MONGO_START_TIMEOUT_MS ?? 60_000)): Promise<void> {
    if (this.pid !== undefined)
      throw new Error(`the MongoDB test server on ${this.port} already runs (pid ${this.pid})`)
    resolveMongoJars()
    mkdirSync(this.stateDir, { recursive: true })
    const out = openSync(this.logFile, 'a')
    const child = spawn(
      'java',
      [
        `-Xmx${this.heap}`,
        '-XX:+UseParallelGC',
        '-cp',
        `${libDir}/*`,
        launcher,
        String(this.port),
        ...(this.oplog ? [] : ['--no-oplog']),
      ],
      { detached: true, stdio: ['ignore', out, out] },
    )
    closeSync(out)
    if (child.pid === undefined) throw new Error('could not spawn java for the MongoDB test server')
    child.unref()
    writeFileSync(this.pidFile, `${child.pid}\n`)
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!isAlive(child.pid)) {
        rmSync(this.pidFile, { force: true })
        throw new Error(`the MongoDB test server exited during start-up. Last log lines:\n${this.logTail()}`)
      }
      if (await mongoAnswers(this.uri, 1000)) {
        log(`mongo-java-server ${MONGO_JAVA_SERVER_VERSION} ready on ${this.uri} (pid ${child.pid})`)
        return
      }
      await sleep(250)
    }
    killQuietly(child.pid, 'SIGKILL')
    rmSync(this.pidFile, { force: true })
    throw new Error(
      `the MongoDB test server did not answer on port ${this.port} within ${timeoutMs} ms ` +
        `(raise SLUICE_MONGO_START_TIMEOUT_MS, or look at ${this.logFile}). Last log lines:\n${this.logTail()}`,
    )
  }

  /** Stops the JVM (SIGTERM, SIGKILL after 10 s). False when it was not running. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<boolean> {
    const pid = this.pid
    rmSync(this.pidFile, { force: true })
    if (pid === undefined) return false
    killQuietly(pid, signal)
    const deadline = Date.now() + 10_000
    while (isAlive(pid) && Date.now() < deadline) await sleep(50)
    if (isAlive(pid)) killQuietly(pid, 'SIGKILL')
    while (isAlive(pid)) await sleep(50)
    return true
  }
}

function sharedServer(): MongoTestServer {
  return new MongoTestServer({ port: mongoPort(), stateDir: sharedStateDir })
}

export interface MongoHandle {
  /** The connection string (`mongodb://127.0.0.1:<port>/?directConnection=true`). */
  uri: string
  startedHere: boolean
}

/** Returns a server answering on the configured port, starting one when none does. */
export async function ensureMongo(): Promise<MongoHandle> {
  const server = sharedServer()
  const uri = server.uri
  if (await mongoAnswers(uri)) return { uri, startedHere: false }
  mkdirSync(sharedStateDir, { recursive: true })
  const deadline = Date.now() + 120_000
  // A parallel run may be starting it: the lock file (O_EXCL) makes one process start, the others wait.
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' })
      break
    } catch {
      const holder = Number(readFileSync(lockFile, 'utf8').trim())
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        rmSync(lockFile, { force: true })
        continue
      }
      if (await mongoAnswers(uri)) return { uri, startedHere: false }
      if (Date.now() > deadline) throw new Error(`process ${holder} has been starting MongoDB for over 120 s`)
      await sleep(250)
    }
  }
  try {
    if (await mongoAnswers(uri)) return { uri, startedHere: false }
    if (server.pid !== undefined) await server.stop('SIGKILL') // ours, but not answering: hung
    await server.start()
    return { uri, startedHere: true }
  } finally {
    rmSync(lockFile, { force: true })
  }
}

/** Stops the server this script started (per its pid file); one started otherwise is left alone. */
export async function stopMongo(): Promise<boolean> {
  return await sharedServer().stop()
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start': {
      const { uri, startedHere } = await ensureMongo()
      console.log(
        startedHere ? `MongoDB test server started: ${uri}` : `MongoDB test server already running: ${uri}`,
      )
      return
    }
    case 'stop':
      console.log(
        (await stopMongo()) ? 'MongoDB test server stopped' : 'no server started by this script is running',
      )
      return
    case 'status': {
      const server = sharedServer()
      const answers = await mongoAnswers(server.uri)
      console.log(
        `${answers ? 'answers' : 'nothing answers'} on ${server.uri}; pid ${server.pid ?? 'not ours'}`,
      )
      return
    }
    default:
      console.error('usage: node scripts/mongo.ts start|stop|status')
      process.exitCode = 2
  }
}

if (import.meta.main) {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
