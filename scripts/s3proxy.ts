/**
 * An S3-compatible object store for tests and benchmarks: Andrew Gaul's s3proxy
 * (`org.gaul:s3proxy`, the `jar-with-dependencies` from Maven Central), on loopback.
 *
 *   npx node scripts/s3proxy.ts start|stop|status
 *
 * - The jar is copied once with `mvn dependency:copy` into `.services/cache/s3proxy-<version>/lib/`.
 * - The shared store lives in `.services/s3proxy/` (s3proxy.conf, data/ for the filesystem provider,
 *   s3proxy.pid, s3proxy.log), answers on SLUICE_S3PROXY_PORT (default 19380) without authorization
 *   (`s3proxy.authorization=none`: any access key is accepted). Its data is wiped at each start.
 * - Tests that need V4 signing or a store that goes away make their own `S3Proxy` (own port and
 *   state dir, `authorization: 'aws-v2-or-v4'` with an identity and credential; `start()`, `stop()`).
 * - `start` reuses a store that already answers on the port; `stop` only stops a process whose pid
 *   file this script wrote, and only if that pid is still this s3proxy's JVM.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
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

/** Pinned: the `jar-with-dependencies` classifier of this version resolves from Maven Central. */
export const S3PROXY_VERSION = '4.1.0'

const libDir = join(servicesDir, 'cache', `s3proxy-${S3PROXY_VERSION}`, 'lib')

export function s3proxyPort(): number {
  return envPort('SLUICE_S3PROXY_PORT', 19380)
}

/** Copies the jar into the cache (once). */
export function resolveS3proxyJar(): string {
  fetchOnce({
    service: 's3proxy',
    what: `org.gaul:s3proxy:${S3PROXY_VERSION}`,
    target: libDir,
    args: ['dependency:copy', `-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies`],
  })
  return join(libDir, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`)
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

/** One s3proxy JVM with its own port and state dir. `stop()` kills it: it keeps nothing worth a clean shutdown. */
export class S3Proxy extends JavaService {
  readonly confFile: string
  readonly #o: S3ProxyOptions

  constructor(options: S3ProxyOptions) {
    super({
      name: 's3proxy',
      title: 's3proxy',
      port: options.port,
      stateDir: options.stateDir,
      startTimeoutMs: Number(process.env.SLUICE_S3PROXY_START_TIMEOUT_MS ?? 60_000),
      timeoutVariable: 'SLUICE_S3PROXY_START_TIMEOUT_MS',
      appendLog: true,
      stopSignal: 'SIGKILL',
    })
    this.#o = options
    this.confFile = join(this.stateDir, 's3proxy.conf')
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get address(): string {
    return this.url
  }

  answers(timeoutMs?: number): Promise<boolean> {
    return s3proxyAnswers(this.url, timeoutMs)
  }

  protected get markers(): string[] {
    return ['s3proxy', this.confFile]
  }

  protected prepare(): JavaCommand {
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
    return { args: ['-Xmx256m', '-XX:+UseSerialGC', '-jar', jar, '--properties', this.confFile] }
  }
}

function sharedProxy(): S3Proxy {
  return new S3Proxy({ port: s3proxyPort(), stateDir: join(servicesDir, 's3proxy') })
}

/** Returns the shared store (no authorization), starting it when nothing answers on its port. */
export async function ensureS3proxy(): Promise<{ url: string; startedHere: boolean }> {
  const proxy = sharedProxy()
  return { url: proxy.url, startedHere: await ensureStarted(proxy) }
}

export async function stopS3proxy(): Promise<boolean> {
  return await sharedProxy().stop()
}

if (import.meta.main) serviceMain('s3proxy', sharedProxy)
