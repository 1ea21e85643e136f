/**
 * Apicurio Registry (in-memory storage) as an independent, Confluent-compatible schema registry for
 * the converter tests: its Confluent API answers at `http://127.0.0.1:<port>/apis/ccompat/v7`.
 *
 *   npx node scripts/apicurio.ts start|stop|status
 *
 * - `io.apicurio:apicurio-registry-app:<version>:tar.gz:all` (the Quarkus fast-jar) is fetched once
 *   from Maven Central with `mvn dependency:copy` and unpacked into `.services/cache/apicurio-<version>`.
 * - It needs Java 21 or later: SLUICE_JAVA21_HOME, else the newest JDK ≥ 21 under /usr/lib/jvm.
 * - State lives in `.services/apicurio/` (apicurio.pid, apicurio.log); schemas live in memory, so
 *   every start is empty. The management interface (a build-time switch, on in the release) listens
 *   on 127.0.0.1 at the port after the API's, so two registries on one machine do not collide on 9000.
 * - `start` reuses a registry that already answers on the port; `stop` only stops the JVM whose pid
 *   file this script wrote.
 *
 * Environment: SLUICE_APICURIO_PORT (default 18381), SLUICE_APICURIO_START_TIMEOUT_MS (default 90000).
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export const APICURIO_VERSION = '3.3.3'

const root = resolve(import.meta.dirname, '..')
const servicesDir = join(root, '.services')
const cacheDir = join(servicesDir, 'cache', `apicurio-${APICURIO_VERSION}`)
const stateDir = join(servicesDir, 'apicurio')
const pidFile = join(stateDir, 'apicurio.pid')
const logFile = join(stateDir, 'apicurio.log')

export function apicurioPort(): number {
  const raw = process.env.SLUICE_APICURIO_PORT
  if (raw === undefined || raw === '') return 18381
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`SLUICE_APICURIO_PORT must be a port number, got '${raw}'`)
  }
  return port
}

/** The Confluent-compatible base URL, what `schema.registry.url` is set to. */
export function apicurioUrl(port = apicurioPort()): string {
  return `http://127.0.0.1:${port}/apis/ccompat/v7`
}

function log(message: string): void {
  process.stderr.write(`[apicurio] ${message}\n`)
}

/** Fetches and unpacks the registry once. Returns the directory holding `quarkus-run.jar`. */
export function resolveApicurio(): string {
  const appDir = join(cacheDir, 'app')
  const marker = join(appDir, '.complete')
  if (existsSync(marker)) return appDir
  mkdirSync(cacheDir, { recursive: true })
  const tmp = join(cacheDir, `download.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  log(`fetching apicurio-registry-app ${APICURIO_VERSION} from Maven Central (once, ~160 MB)`)
  const mvn = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      'dependency:copy',
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${tmp}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: cacheDir },
  )
  if (mvn.error !== undefined || mvn.status !== 0) {
    rmSync(tmp, { recursive: true, force: true })
    const output = `${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n')
    throw new Error(
      `could not fetch Apicurio Registry with Maven (${mvn.error?.message ?? `exit code ${mvn.status}`}); ` +
        `is 'mvn' on the PATH and Maven Central reachable?\n${output}`,
    )
  }
  const archive = join(tmp, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`)
  rmSync(appDir, { recursive: true, force: true })
  mkdirSync(appDir, { recursive: true })
  const tar = spawnSync('tar', ['xzf', archive, '-C', appDir], { encoding: 'utf8' })
  rmSync(tmp, { recursive: true, force: true })
  if (tar.status !== 0) throw new Error(`could not unpack ${archive}: ${tar.stderr}`)
  if (!existsSync(join(appDir, 'quarkus-run.jar'))) {
    throw new Error(`${archive} holds no quarkus-run.jar: is it the 'all' classifier?`)
  }
  writeFileSync(marker, `${APICURIO_VERSION}\n`)
  return appDir
}

/** A `java` of version 21 or later: SLUICE_JAVA21_HOME, else the newest under /usr/lib/jvm. */
export function findJava21(): string {
  const fromEnv = process.env.SLUICE_JAVA21_HOME
  if (fromEnv) return join(fromEnv, 'bin', 'java')
  const jvmDir = '/usr/lib/jvm'
  const candidates = existsSync(jvmDir)
    ? readdirSync(jvmDir)
        .map((name) => {
          const release = join(jvmDir, name, 'release')
          if (!existsSync(release)) return undefined
          const m = /^JAVA_VERSION="(\d+)/m.exec(readFileSync(release, 'utf8'))
          return m ? { java: join(jvmDir, name, 'bin', 'java'), major: Number(m[1]) } : undefined
        })
        .filter((c): c is { java: string; major: number } => c !== undefined && c.major >= 21)
        .sort((a, b) => b.major - a.major)
    : []
  if (candidates.length === 0) {
    throw new Error(
      'Apicurio Registry needs Java 21 or later and none was found under /usr/lib/jvm: ' +
        'install one (e.g. a Temurin JDK) or set SLUICE_JAVA21_HOME',
    )
  }
  return candidates[0].java
}

/** True when a Confluent-compatible registry answers `GET /subjects` at `url`. */
export async function registryAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) })
    await response.arrayBuffer()
    return response.ok
  } catch {
    return false
  }
}

function isOurs(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(cacheDir, 'app'))
  } catch {
    return false
  }
}

function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  return Number.isInteger(pid) && pid > 0 && isOurs(pid) ? pid : undefined
}

function logTail(lines = 30): string {
  if (!existsSync(logFile)) return '(no log yet)'
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}

export interface ApicurioHandle {
  /** The Confluent-compatible base URL. */
  url: string
  /** True when this call started the registry (so the caller should stop it). */
  startedHere: boolean
}

/** Returns a registry answering on the configured port, starting one when none does. */
export async function ensureApicurio(): Promise<ApicurioHandle> {
  const port = apicurioPort()
  const url = apicurioUrl(port)
  if (await registryAnswers(url)) return { url, startedHere: false }
  const appDir = resolveApicurio()
  const java = findJava21()
  mkdirSync(stateDir, { recursive: true })
  const previous = runningPid()
  if (previous !== undefined) throw new Error(`Apicurio (pid ${previous}) runs but does not answer at ${url}`)
  const started = Date.now()
  const out = openSync(logFile, 'w')
  const child = spawn(
    java,
    [
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.http.host=127.0.0.1',
      // Build-time in Quarkus, so on whatever `enabled=false` says: give it a port next to ours.
      `-Dquarkus.management.port=${port + 1}`,
      '-Dquarkus.management.host=127.0.0.1',
      '-Dquarkus.log.level=WARN',
      '-jar',
      join(appDir, 'quarkus-run.jar'),
    ],
    { detached: true, stdio: ['ignore', out, out], cwd: appDir },
  )
  closeSync(out)
  if (child.pid === undefined) throw new Error(`could not spawn ${java} for Apicurio Registry`)
  child.unref()
  writeFileSync(pidFile, `${child.pid}\n`)
  const timeoutMs = Number(process.env.SLUICE_APICURIO_START_TIMEOUT_MS ?? 90_000)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isOurs(child.pid)) {
      rmSync(pidFile, { force: true })
      throw new Error(`Apicurio Registry exited during start-up. Last log lines:\n${logTail()}`)
    }
    if (await registryAnswers(url)) {
      log(`ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${child.pid})`)
      return { url, startedHere: true }
    }
    await sleep(250)
  }
  try {
    process.kill(child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
  rmSync(pidFile, { force: true })
  throw new Error(
    `Apicurio Registry did not answer at ${url} within ${timeoutMs} ms (raise ` +
      `SLUICE_APICURIO_START_TIMEOUT_MS, or look at ${logFile}). Last log lines:\n${logTail()}`,
  )
}

/** Stops the registry this script started (per its pid file). False when none ran. */
export async function stopApicurio(): Promise<boolean> {
  const pid = runningPid()
  rmSync(pidFile, { force: true })
  if (pid === undefined) return false
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 20_000
  while (isOurs(pid) && Date.now() < deadline) await sleep(100)
  if (isOurs(pid)) process.kill(pid, 'SIGKILL')
  return true
}

if (import.meta.main) {
  const command = process.argv[2]
  if (command === 'start') {
    const { url } = await ensureApicurio()
    process.stdout.write(`export SLUICE_TEST_APICURIO=${url}\n`)
  } else if (command === 'stop') {
    await stopApicurio()
  } else if (command === 'status') {
    const url = apicurioUrl()
    process.stdout.write(`${(await registryAnswers(url)) ? 'running' : 'not running'} at ${url}\n`)
  } else {
    process.stderr.write('usage: node scripts/apicurio.ts start|stop|status\n')
    process.exitCode = 2
  }
}
