/**
 * What the scripts that run a service in a JVM share (scripts/kafka.ts, mongo.ts, s3proxy.ts,
 * apicurio.ts); each of them keeps only what is its own: the artifacts, the command line, the
 * readiness check.
 *
 * - `fetchOnce`: fetches from Maven Central with `mvn` once into `.services/cache/<name>-<version>/`;
 *   an interrupted fetch never looks complete.
 * - `JavaService`: one JVM with its own port and state dir (`<name>.pid`, `<name>.log`): `start()`
 *   resolves once it answers, `stop()` stops only the process its pid file names, and only while that
 *   pid is still this instance's JVM (its command line holds the instance's markers: pids are recycled).
 * - `ensureStarted`: the shared instance, reused when it answers; a lock file (O_EXCL) in its state dir
 *   makes one of several parallel runs start it while the others wait.
 * - `serviceMain`: the `start|stop|status` command line.
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
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** The checkout's `.services/`: the shared instances' state dirs and the download cache. */
export const servicesDir = join(resolve(import.meta.dirname, '..'), '.services')

/** The port number in the environment variable `variable`, `fallback` when it is unset or empty. */
export function envPort(variable: string, fallback: number, highest = 65535): number {
  const raw = process.env[variable]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > highest) {
    const range = highest < 65535 ? ` below ${highest + 1}` : ''
    throw new Error(`${variable} must be a port number${range}, got '${raw}'`)
  }
  return port
}

export function logger(service: string): (message: string) => void {
  return (message) => process.stderr.write(`[${service}] ${message}\n`)
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

export interface MavenFetch {
  /** The log prefix. */
  service: string
  /** What is fetched, for the log and the errors. */
  what: string
  /** The directory to fill, in the cache; `.complete` in it marks it done. */
  target: string
  /** The goal and its properties (`-DoutputDirectory` is added: a temporary dir beside `target`). */
  args: string[]
  /** A POM to run the goal on, written beside `target`. */
  pom?: string
  /** Moves what is needed from the output dir into the (empty) `target`; default: the dir becomes it. */
  install?: (output: string, target: string) => void
}

/** Fills `fetch.target` from Maven Central, once. Returns how long it took, 0 when cached. */
export function fetchOnce(fetch: MavenFetch): number {
  const marker = join(fetch.target, '.complete')
  if (existsSync(marker)) return 0
  const log = logger(fetch.service)
  const started = Date.now()
  const cacheDir = dirname(fetch.target)
  mkdirSync(cacheDir, { recursive: true })
  const args = ['-B', '-q']
  if (fetch.pom !== undefined) {
    writeFileSync(join(cacheDir, 'pom.xml'), fetch.pom)
    args.push('-f', join(cacheDir, 'pom.xml'))
  }
  // Into a temporary dir, moved into place once complete.
  const output = join(cacheDir, `fetch.tmp-${process.pid}`)
  rmSync(output, { recursive: true, force: true })
  log(`fetching ${fetch.what} from Maven Central (once, cached in ${fetch.target})`)
  try {
    const mvn = spawnSync('mvn', [...args, ...fetch.args, `-DoutputDirectory=${output}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: cacheDir,
    })
    if (mvn.error !== undefined || mvn.status !== 0) {
      const tail = `${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n')
      throw new Error(
        `could not fetch ${fetch.what} with Maven (${mvn.error?.message ?? `exit code ${mvn.status}`}); ` +
          `is 'mvn' on the PATH and Maven Central reachable?\n${tail}`,
      )
    }
    rmSync(fetch.target, { recursive: true, force: true })
    if (fetch.install === undefined) {
      renameSync(output, fetch.target)
    } else {
      mkdirSync(fetch.target, { recursive: true })
      fetch.install(output, fetch.target)
    }
    writeFileSync(marker, `${fetch.what}\n`)
  } finally {
    rmSync(output, { recursive: true, force: true })
  }
  const elapsed = Date.now() - started
  log(`fetched in ${(elapsed / 1000).toFixed(1)} s`)
  return elapsed
}

/** How a JVM is started: `java` (default: the one on the PATH), its arguments, its working dir. */
export interface JavaCommand {
  java?: string
  args: string[]
  cwd?: string
}

export interface JavaServiceOptions {
  /** The log prefix, and the names of the pid and log files: `<name>.pid`, `<name>.log`. */
  name: string
  /** What messages call it ('Kafka broker'). */
  title: string
  port: number
  /** Holds the pid file, the log and whatever else the service writes. */
  stateDir: string
  startTimeoutMs: number
  /** The environment variable that raises `startTimeoutMs`, named when a start times out. */
  timeoutVariable: string
  /** Keep the log of earlier runs (what a restart found) rather than starting it afresh. */
  appendLog: boolean
  /** How `stop()` stops the JVM, and how long it waits before SIGKILL. @default SIGTERM, 10 s */
  stopSignal?: 'SIGTERM' | 'SIGKILL'
  stopTimeoutMs?: number
}

/** One JVM with its own port and state dir; a subclass says how it starts and when it is ready. */
export abstract class JavaService {
  readonly name: string
  readonly title: string
  readonly port: number
  readonly stateDir: string
  readonly pidFile: string
  readonly logFile: string
  readonly startTimeoutMs: number
  protected readonly log: (message: string) => void
  readonly #o: JavaServiceOptions

  constructor(options: JavaServiceOptions) {
    this.#o = options
    this.name = options.name
    this.title = options.title
    this.port = options.port
    this.stateDir = resolve(options.stateDir)
    this.pidFile = join(this.stateDir, `${options.name}.pid`)
    this.logFile = join(this.stateDir, `${options.name}.log`)
    this.startTimeoutMs = options.startTimeoutMs
    this.log = logger(options.name)
  }

  /** Where it answers (an address or a URL), as its users write it. */
  abstract get address(): string

  /** True when it answers a request within `timeoutMs`. */
  abstract answers(timeoutMs?: number): Promise<boolean>

  /** Fetches what a start needs, writes its config into the state dir, and says how to run it. */
  protected abstract prepare(): JavaCommand

  /** Parts of the JVM's command line that only this instance has. */
  protected abstract get markers(): string[]

  /** The pid of the JVM this object (or an earlier process, per the pid file) started, if it runs. */
  get pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 && this.isOurs(pid) ? pid : undefined
  }

  /** True when `pid` runs and is this instance's JVM (false once it has exited, even unreaped). */
  isOurs(pid: number): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      return this.markers.every((marker) => cmdline.includes(marker))
    } catch {
      return false
    }
  }

  logTail(lines = 40): string {
    if (!existsSync(this.logFile)) return `(no ${this.title} log yet)`
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  }

  /** Starts the JVM and resolves once it answers; kills it when it does not in `timeoutMs`. */
  async start(timeoutMs = this.startTimeoutMs): Promise<void> {
    const running = this.pid
    if (running !== undefined)
      throw new Error(`the ${this.title} in ${this.stateDir} already runs (pid ${running})`)
    rmSync(this.pidFile, { force: true }) // stale: that process is gone
    const command = this.prepare()
    mkdirSync(this.stateDir, { recursive: true })
    const started = Date.now()
    const out = openSync(this.logFile, this.#o.appendLog ? 'a' : 'w')
    const java = command.java ?? 'java'
    const child = spawn(java, command.args, { detached: true, stdio: ['ignore', out, out], cwd: command.cwd })
    closeSync(out)
    if (child.pid === undefined) throw new Error(`could not spawn ${java} for the ${this.title}`)
    child.unref()
    writeFileSync(this.pidFile, `${child.pid}\n`)
    this.log(`started pid ${child.pid} on ${this.address}, log ${this.logFile}`)
    try {
      await this.waitReady(child.pid, timeoutMs)
    } catch (error) {
      killQuietly(child.pid, 'SIGKILL')
      rmSync(this.pidFile, { force: true })
      throw error
    }
    this.log(`ready on ${this.address} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }

  async waitReady(pid: number, timeoutMs = this.startTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!this.isOurs(pid)) {
        throw new Error(
          `the ${this.title} (pid ${pid}) exited during start-up. Last log lines:\n${this.logTail()}`,
        )
      }
      if (await this.answers(1000)) return
      await sleep(250)
    }
    throw new Error(
      `the ${this.title} did not answer on ${this.address} within ${timeoutMs} ms ` +
        `(raise ${this.#o.timeoutVariable}, or look at ${this.logFile}). Last log lines:\n${this.logTail()}`,
    )
  }

  /**
   * Stops the JVM: SIGTERM (a controlled shutdown; SIGKILL after `timeoutMs`) or SIGKILL (a crash).
   * Resolves once the process is gone. False when it was not running.
   */
  async stop(
    signal = this.#o.stopSignal ?? 'SIGTERM',
    timeoutMs = this.#o.stopTimeoutMs ?? 10_000,
  ): Promise<boolean> {
    const pid = this.pid
    if (pid === undefined) {
      rmSync(this.pidFile, { force: true })
      return false
    }
    killQuietly(pid, signal)
    const deadline = Date.now() + timeoutMs
    while (this.isOurs(pid) && Date.now() < deadline) await sleep(50)
    if (this.isOurs(pid)) {
      this.log(`pid ${pid} ignored ${signal} for ${timeoutMs} ms; killing it`)
      killQuietly(pid, 'SIGKILL')
      while (this.isOurs(pid)) await sleep(50)
    }
    rmSync(this.pidFile, { force: true })
    return true
  }
}

/**
 * The shared instance: reused when it answers, else started. Of parallel runs one starts it (it holds
 * `start.lock`), the others wait and reuse it. A JVM an earlier run started that does not answer yet
 * is waited for rather than raced, and killed if it never answers. True when this call started it
 * (so the caller should stop it).
 */
export async function ensureStarted(service: JavaService): Promise<boolean> {
  if (await service.answers()) return false
  mkdirSync(service.stateDir, { recursive: true })
  const lockFile = join(service.stateDir, 'start.lock')
  // The holder may be fetching from Maven Central first.
  const waitMs = 2 * service.startTimeoutMs
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' })
      break
    } catch {
      const holder = Number(existsSync(lockFile) ? readFileSync(lockFile, 'utf8').trim() : '')
      if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
        rmSync(lockFile, { force: true }) // left by a process that died while starting it
        continue
      }
      if (await service.answers()) return false
      if (Date.now() > deadline)
        throw new Error(`process ${holder} has been starting the ${service.title} for over ${waitMs} ms`)
      await sleep(250)
    }
  }
  try {
    if (await service.answers()) return false
    const existing = service.pid
    if (existing !== undefined) {
      try {
        await service.waitReady(existing)
        return false
      } catch {
        // It exited, or hangs: start a fresh one.
        if (service.isOurs(existing)) {
          logger(service.name)(`pid ${existing}, started earlier, does not answer: killing it`)
          await service.stop('SIGKILL')
        }
      }
    }
    await service.start()
    return true
  } finally {
    rmSync(lockFile, { force: true })
  }
}

/**
 * `node scripts/<name>.ts start|stop|status` on the shared instance. `start` prints the address
 * (`export <exportVariable>=<address>` when given, for a shell's `eval`).
 */
export function serviceMain(script: string, shared: () => JavaService, exportVariable?: string): void {
  const commands = {
    async start() {
      const service = shared()
      if (exportVariable !== undefined) {
        await ensureStarted(service)
        return `export ${exportVariable}=${service.address}`
      }
      return (await ensureStarted(service))
        ? `${service.title} started on ${service.address}`
        : `${service.title} already running on ${service.address}`
    },
    async stop() {
      const service = shared()
      return (await service.stop())
        ? `${service.title} stopped`
        : `no ${service.title} started by this script is running`
    },
    async status() {
      const service = shared()
      const answers = await service.answers()
      const pid = service.pid
      const who = pid === undefined ? 'not started by this script' : `started by this script (pid ${pid})`
      return answers
        ? `${service.title} answers on ${service.address}, ${who}`
        : `no ${service.title} on ${service.address}${pid === undefined ? '' : `; ${who}`}`
    },
  }
  const name = process.argv[2]
  if (name !== 'start' && name !== 'stop' && name !== 'status') {
    console.error(`usage: node scripts/${script}.ts start|stop|status`)
    process.exitCode = 2
    return
  }
  commands[name]().then(
    (line) => console.log(line),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    },
  )
}
