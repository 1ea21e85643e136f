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
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import {
  ensureStarted,
  envPort,
  fetchOnce,
  type JavaCommand,
  JavaService,
  serviceMain,
  servicesDir,
} from './java-service.ts'

/** Pinned: on Maven Central; the version whose limits docs/reference/mongodb-source.md describes. */
export const MONGO_JAVA_SERVER_VERSION = '1.47.0'

const libDir = join(servicesDir, 'cache', `mongo-java-server-${MONGO_JAVA_SERVER_VERSION}`, 'lib')
const launcher = join(import.meta.dirname, 'mongo', 'MongoLauncher.java')

export function mongoPort(): number {
  return envPort('SLUICE_MONGO_PORT', 27117)
}

/** The connection string tests use: one server, no replica set discovery. */
export function mongoUri(port = mongoPort()): string {
  return `mongodb://127.0.0.1:${port}/?directConnection=true`
}

/** Resolves the server's jars into the cache (once). */
export function resolveMongoJars(): void {
  const template = readFileSync(join(import.meta.dirname, 'mongo', 'pom.xml'), 'utf8')
  fetchOnce({
    service: 'mongo',
    what: `mongo-java-server ${MONGO_JAVA_SERVER_VERSION}`,
    target: libDir,
    pom: template.replaceAll('@VERSION@', MONGO_JAVA_SERVER_VERSION),
    args: ['dependency:copy-dependencies'],
  })
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
export class MongoTestServer extends JavaService {
  readonly heap: string
  readonly oplog: boolean

  /**
   * `heap`: the JVM's -Xmx (default SLUICE_MONGO_HEAP or 512m); documents and the oplog live in it.
   * `oplog: false` leaves change streams off (the in-memory oplog keeps every write).
   */
  constructor(options: { port: number; stateDir: string; heap?: string; oplog?: boolean }) {
    super({
      name: 'mongo',
      title: 'MongoDB test server',
      port: options.port,
      stateDir: options.stateDir,
      startTimeoutMs: Number(process.env.SLUICE_MONGO_START_TIMEOUT_MS ?? 60_000),
      timeoutVariable: 'SLUICE_MONGO_START_TIMEOUT_MS',
      appendLog: true,
    })
    this.heap = options.heap ?? process.env.SLUICE_MONGO_HEAP ?? '512m'
    this.oplog = options.oplog ?? true
  }

  get uri(): string {
    return mongoUri(this.port)
  }

  get address(): string {
    return this.uri
  }

  answers(timeoutMs?: number): Promise<boolean> {
    return mongoAnswers(this.uri, timeoutMs)
  }

  protected get markers(): string[] {
    return ['MongoLauncher', String(this.port)]
  }

  protected prepare(): JavaCommand {
    resolveMongoJars()
    return {
      args: [
        `-Xmx${this.heap}`,
        '-XX:+UseParallelGC',
        '-cp',
        `${libDir}/*`,
        launcher,
        String(this.port),
        ...(this.oplog ? [] : ['--no-oplog']),
      ],
    }
  }
}

function sharedServer(): MongoTestServer {
  return new MongoTestServer({ port: mongoPort(), stateDir: join(servicesDir, 'mongo') })
}

/** Returns a server answering on the configured port, starting one when none does. */
export async function ensureMongo(): Promise<{ uri: string; startedHere: boolean }> {
  const server = sharedServer()
  return { uri: server.uri, startedHere: await ensureStarted(server) }
}

/** Stops the server this script started (per its pid file); one started otherwise is left alone. */
export async function stopMongo(): Promise<boolean> {
  return await sharedServer().stop()
}

if (import.meta.main) serviceMain('mongo', sharedServer)
