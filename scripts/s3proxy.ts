/**
 * An S3-compatible object store for tests and benchmarks: Andrew Gaul's s3proxy
 * (`org.gaul:s3proxy`, the `jar-with-dependencies` from Maven Central), on loopback.
 *
 *   npx node scripts/s3proxy.ts start|stop|status
 *
 * - The jar is copied once with `mvn dependency:copy` into `.services/cache/s3proxy-<version>/`.
 * - The shared store lives in `.services/s3proxy/` (s3proxy.conf, data/ for the filesystem provider,
 *   s3proxy.pid, s3proxy.log), answers on SLUICE_S3PROXY_PORT (default 19380) without authorization
 *   (`s3proxy.authorization=none`: any access key is accepted). Its data is wiped at each start.
 * - Tests that need V4 signing or a store that goes away make their own `S3Proxy` (own port and
 *   state dir, `authorization: 'aws-v2-or-v4'` with an identity and credential; `start()`, `stop()`).
 * - `start` reuses a store that already answers on the port; `stop` only stops a process whose pid
 *   file this script wrote, and only if that pid is still this s3proxy's JVM.
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

/** Pinned: the `jar-with-dependencies` classifier of this version resolves from Maven Central. */
export const S3PROXY_VERSION = '4.1.0'

const root = resolve(import.meta.dirname, '..')
const servicesDir = join(root, '.services')
const cacheDir = join(servicesDir, 'cache', `s3proxy-${S3PROXY_VERSION}`)
const jarFile = join(cacheDir, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`)
const sharedStateDir = join(servicesDir, 's3proxy')

export function s3proxyPort(): number {
  const raw = process.env.SLUICE_S3PROXY_PORT
  if (raw === undefined || raw === '') return 19380
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`SLUICE_S3PROXY_PORT must be a port number, got '${raw}'`)
  }
  return port
}

function log(message: string): void {
  process.stderr.write(`[s3proxy] ${message}\n`)
}

/** Copies the jar into the cache (once). */
export function resolveS3proxyJar(): string {
  if (existsSync(jarFile)) return jarFile
  mkdirSync(cacheDir, { recursive: true })
  const tmp = join(cacheDir, `tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  log(`fetching org.gaul:s3proxy:${S3PROXY_VERSION} from Maven Central (once, cached in ${cacheDir})`)
  const mvn = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      'dependency:copy',
      `-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies`,
      `-DoutputDirectory=${tmp}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: cacheDir },
  )
  const fetched = join(tmp, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`)
  if (mvn.error !== undefined || mvn.status !== 0 || !existsSync(fetched)) {
    rmSync(tmp, { recursive: true, force: true })
    const output = `${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n')
    throw new Error(
      `could not fetch s3proxy with Maven (${mvn.error?.message ?? `exit code ${mvn.status}`}); ` +
        `is 'mvn' on the PATH and Maven Central reachable?\n${output}`,
    )
  }
  renameSync(fetched, jarFile)
  rmSync(tmp, { recursive: true, force: true })
  return jarFile
}

/** True when an HTTP server answers at `url` (any status: a signing store answers 403). */
export async function s3proxyAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    await response.arrayBuffer()
    return response.status > 0
  } catch {
    return false
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

export interface S3ProxyOptions {
  port: number
  /** Holds s3proxy.conf, data/, s3proxy.pid and s3proxy.log. */
  stateDir: string
  /** @default 'none' */
  authorization?: 'none' | 'aws-v2-or-v4'
  /** The access key and secret accepted with `aws-v2-or-v4`. */
  identity?: string
  credential?: string
  /** `filesystem` keeps objects under data/ (across a restart); `transient` in memory. @default 'filesystem' */
  provider?: 'filesystem' | 'transient'
  /** Keep data/ across starts. @default false */
  keepData?: boolean
}

/** One s3proxy JVM with its own port and state dir. */
export class S3Proxy {
  readonly port: number
  readonly stateDir: string
  readonly pidFile: string
  readonly logFile: string
  readonly confFile: string
  readonly #o: S3ProxyOptions

  constructor(options: S3ProxyOptions) {
    this.#o = options
    this.port = options.port
    this.stateDir = resolve(options.stateDir)
    this.pidFile = join(this.stateDir, 's3proxy.pid')
    this.logFile = join(this.stateDir, 's3proxy.log')
    this.confFile = join(this.stateDir, 's3proxy.conf')
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 && this.isOurs(pid) ? pid : undefined
  }

  isOurs(pid: number): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      return cmdline.includes('s3proxy') && cmdline.includes(this.confFile)
    } catch {
      return false
    }
  }

  logTail(lines = 30): string {
    if (!existsSync(this.logFile)) return '(no s3proxy log yet)'
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  }

  async start(timeoutMs = Number(process.env.SLUICE_S3PROXY_START_TIMEOUT_MS ?? 60_000)): Promise<void> {
    if (this.pid !== undefined)
      throw new Error(`the s3proxy in ${this.stateDir} already runs (pid ${this.pid})`)
    const jar = resolveS3proxyJar()
    const dataDir = join(this.stateDir, 'data')
    if (!this.#o.keepData) rmSync(dataDir, { recursive: true, force: true })
    mkdirSync(dataDir, { recursive: true })
    const authorization = this.#o.authorization ?? 'none'
    const lines = [
      '# Written by scripts/s3proxy.ts: an S3-compatible store for tests and benchmarks.',
      `s3proxy.endpoint=${this.url}`,
      `s3proxy.authorization=${authorization}`,
      `jclouds.provider=${this.#o.provider ?? 'filesystem'}`,
      `jclouds.filesystem.basedir=${dataDir}`,
      'jclouds.identity=local-identity',
      'jclouds.credential=local-credential',
    ]
    if (authorization !== 'none') {
      if (!this.#o.identity || !this.#o.credential)
        throw new Error('s3proxy with signing needs an identity and a credential')
      lines.push(`s3proxy.identity=${this.#o.identity}`, `s3proxy.credential=${this.#o.credential}`)
    }
    writeFileSync(this.confFile, `${lines.join('\n')}\n`)
    const out = openSync(this.logFile, 'a')
    const child = spawn(
      'java',
      ['-Xmx256m', '-XX:+UseSerialGC', '-jar', jar, '--properties', this.confFile],
      { detached: true, stdio: ['ignore', out, out] },
    )
    closeSync(out)
    if (child.pid === undefined) throw new Error('could not spawn java for s3proxy')
    child.unref()
    writeFileSync(this.pidFile, `${child.pid}\n`)
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!isAlive(child.pid)) {
        rmSync(this.pidFile, { force: true })
        throw new Error(
          `s3proxy (pid ${child.pid}) exited during start-up. Last log lines:\n${this.logTail()}`,
        )
      }
      if (await s3proxyAnswers(this.url)) {
        log(`started pid ${child.pid} on ${this.url} (${authorization}), log ${this.logFile}`)
        return
      }
      await sleep(200)
    }
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {}
    rmSync(this.pidFile, { force: true })
    throw new Error(
      `s3proxy did not answer on ${this.url} within ${timeoutMs} ms. Last log lines:\n${this.logTail()}`,
    )
  }

  /** Stops the JVM (SIGKILL: it keeps nothing in memory worth a clean shutdown). False when not running. */
  async stop(): Promise<boolean> {
    const pid = this.pid
    rmSync(this.pidFile, { force: true })
    if (pid === undefined) return false
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
    while (isAlive(pid)) await sleep(50)
    return true
  }
}

function sharedProxy(): S3Proxy {
  return new S3Proxy({ port: s3proxyPort(), stateDir: sharedStateDir })
}

export interface S3ProxyHandle {
  /** `http://127.0.0.1:<port>`, for `store.url`. */
  url: string
  startedHere: boolean
}

/** Returns the shared store (no authorization), starting it when nothing answers on its port. */
export async function ensureS3proxy(): Promise<S3ProxyHandle> {
  const proxy = sharedProxy()
  if (await s3proxyAnswers(proxy.url)) return { url: proxy.url, startedHere: false }
  mkdirSync(sharedStateDir, { recursive: true })
  const lockFile = join(sharedStateDir, 'start.lock')
  const deadline = Date.now() + 60_000
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
      if (await s3proxyAnswers(proxy.url)) return { url: proxy.url, startedHere: false }
      if (Date.now() > deadline) throw new Error(`process ${holder} has been starting s3proxy for over 60 s`)
      await sleep(250)
    }
  }
  try {
    if (await s3proxyAnswers(proxy.url)) return { url: proxy.url, startedHere: false }
    await proxy.stop()
    await proxy.start()
    return { url: proxy.url, startedHere: true }
  } finally {
    rmSync(lockFile, { force: true })
  }
}

export async function stopS3proxy(): Promise<boolean> {
  return await sharedProxy().stop()
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start': {
      const { url, startedHere } = await ensureS3proxy()
      console.log(startedHere ? `s3proxy started on ${url}` : `s3proxy already running on ${url}`)
      return
    }
    case 'stop':
      console.log((await stopS3proxy()) ? 's3proxy stopped' : 'no s3proxy started by this script is running')
      return
    case 'status': {
      const proxy = sharedProxy()
      const answers = await s3proxyAnswers(proxy.url)
      console.log(answers ? `s3proxy answers on ${proxy.url}` : `no s3proxy on ${proxy.url}`)
      return
    }
    default:
      console.error('usage: node scripts/s3proxy.ts start|stop|status')
      process.exitCode = 2
  }
}

if (import.meta.main) {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
