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
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ensureStarted,
  envPort,
  fetchOnce,
  type JavaCommand,
  JavaService,
  serviceMain,
  servicesDir,
} from './java-service.ts'

export const APICURIO_VERSION = '3.3.3'

const appDir = join(servicesDir, 'cache', `apicurio-${APICURIO_VERSION}`, 'app')

export function apicurioPort(): number {
  return envPort('SLUICE_APICURIO_PORT', 18381)
}

/** The Confluent-compatible base URL, what `schema.registry.url` is set to. */
export function apicurioUrl(port = apicurioPort()): string {
  return `http://127.0.0.1:${port}/apis/ccompat/v7`
}

/** Fetches and unpacks the registry once. Returns the directory holding `quarkus-run.jar`. */
export function resolveApicurio(): string {
  fetchOnce({
    service: 'apicurio',
    what: `apicurio-registry-app ${APICURIO_VERSION} (~160 MB)`,
    target: appDir,
    args: ['dependency:copy', `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`],
    install(output, target) {
      const archive = join(output, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`)
      const tar = spawnSync('tar', ['xzf', archive, '-C', target], { encoding: 'utf8' })
      if (tar.status !== 0) throw new Error(`could not unpack ${archive}: ${tar.stderr}`)
      if (!existsSync(join(target, 'quarkus-run.jar'))) {
        throw new Error(`${archive} holds no quarkus-run.jar: is it the 'all' classifier?`)
      }
    },
  })
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

/** One registry JVM (schemas in memory: every start is empty); its management interface on port + 1. */
export class ApicurioRegistry extends JavaService {
  constructor(options: { port: number; stateDir: string }) {
    super({
      name: 'apicurio',
      title: 'Apicurio Registry',
      port: options.port,
      stateDir: options.stateDir,
      startTimeoutMs: Number(process.env.SLUICE_APICURIO_START_TIMEOUT_MS ?? 90_000),
      timeoutVariable: 'SLUICE_APICURIO_START_TIMEOUT_MS',
      appendLog: false,
      stopTimeoutMs: 20_000,
    })
  }

  get address(): string {
    return apicurioUrl(this.port)
  }

  answers(timeoutMs?: number): Promise<boolean> {
    return registryAnswers(this.address, timeoutMs)
  }

  protected get markers(): string[] {
    return [appDir, `-Dquarkus.http.port=${this.port}`]
  }

  protected prepare(): JavaCommand {
    const app = resolveApicurio()
    return {
      java: findJava21(),
      cwd: app,
      args: [
        '-Xmx384m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dquarkus.http.port=${this.port}`,
        '-Dquarkus.http.host=127.0.0.1',
        // Build-time in Quarkus, so on whatever `enabled=false` says: give it a port next to ours.
        `-Dquarkus.management.port=${this.port + 1}`,
        '-Dquarkus.management.host=127.0.0.1',
        '-Dquarkus.log.level=WARN',
        '-jar',
        join(app, 'quarkus-run.jar'),
      ],
    }
  }
}

function sharedRegistry(): ApicurioRegistry {
  return new ApicurioRegistry({ port: apicurioPort(), stateDir: join(servicesDir, 'apicurio') })
}

/** Returns a registry answering on the configured port, starting one when none does. */
export async function ensureApicurio(): Promise<{ url: string; startedHere: boolean }> {
  const registry = sharedRegistry()
  return { url: registry.address, startedHere: await ensureStarted(registry) }
}

/** Stops the registry this script started (per its pid file). False when none ran. */
export async function stopApicurio(): Promise<boolean> {
  return await sharedRegistry().stop()
}

if (import.meta.main) serviceMain('apicurio', sharedRegistry, 'SLUICE_TEST_APICURIO')
