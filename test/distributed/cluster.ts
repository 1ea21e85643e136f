/**
 * Real distributed workers for tests and benchmarks: each a `sluice distributed` child process with
 * its own REST port (listeners on port 0; the port is read from its "ready" log line), all with the
 * same unique group id and internal topics, on the shared Kafka.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

export interface ClusterWorker {
  readonly index: number
  readonly child: ChildProcess
  readonly logFile: string
  /** `http://127.0.0.1:<port>` once ready. */
  url: string
  /** `127.0.0.1:<port>`, the worker id in statuses. */
  id: string
  exited: boolean
  kill9(): Promise<void>
  /** Sends a signal (SIGSTOP freezes the worker, SIGCONT resumes it). */
  signal(signal: NodeJS.Signals): void
  /** SIGTERM (a clean stop: tasks commit, the worker leaves the group). */
  stop(): Promise<void>
}

export interface ClusterOptions {
  dir: string
  bootstrap: string
  /** Extra worker properties. */
  props?: Record<string, string>
  /** The command that runs the CLI. @default [process.execPath, src/cli/main.ts] */
  command?: string[]
}

export class Cluster {
  readonly groupId = `sluice-dist-${randomUUID().slice(0, 8)}`
  readonly workers: ClusterWorker[] = []
  readonly #o: ClusterOptions
  #next = 0

  constructor(options: ClusterOptions) {
    this.#o = options
  }

  get propertiesFile(): string {
    return join(this.#o.dir, `${this.groupId}.properties`)
  }

  writeProperties(): void {
    this.#write(this.propertiesFile, {})
  }

  #write(file: string, overrides: Record<string, string>): void {
    const props: Record<string, string> = {
      'bootstrap.servers': this.#o.bootstrap,
      'group.id': this.groupId,
      'config.storage.topic': `${this.groupId}-configs`,
      'offset.storage.topic': `${this.groupId}-offsets`,
      'status.storage.topic': `${this.groupId}-status`,
      'config.storage.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'status.storage.replication.factor': '1',
      'offset.storage.partitions': '5',
      'status.storage.partitions': '2',
      'session.timeout.ms': '6000',
      'heartbeat.interval.ms': '1000',
      'rebalance.timeout.ms': '20000',
      'scheduled.rebalance.max.delay.ms': '3000',
      'offset.flush.interval.ms': '500',
      'consumer.session.timeout.ms': '6000',
      'consumer.heartbeat.interval.ms': '1000',
      listeners: 'http://127.0.0.1:0',
      'log.level': 'info',
      ...this.#o.props,
      ...overrides,
    }
    writeFileSync(
      file,
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    )
  }

  /**
   * Starts a worker and resolves once it has joined the group and serves REST. `props` are this
   * worker's own (e.g. a `bootstrap.servers` through a proxy), over the cluster's.
   */
  async start(timeoutMs = 60_000, props?: Record<string, string>): Promise<ClusterWorker> {
    if (this.workers.length === 0) this.writeProperties()
    const index = this.#next++
    let propertiesFile = this.propertiesFile
    if (props !== undefined) {
      propertiesFile = join(this.#o.dir, `${this.groupId}-worker-${index}.properties`)
      this.#write(propertiesFile, props)
    }
    const logFile = join(this.#o.dir, `${this.groupId}-worker-${index}.log`)
    const out = openSync(logFile, 'w')
    const [cmd, ...args] = this.#o.command ?? [process.execPath, MAIN]
    const child = spawn(cmd, [...args, 'distributed', propertiesFile], {
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    })
    closeSync(out)
    const exit = new Promise<void>((done) => child.once('exit', () => done()))
    const worker: ClusterWorker = {
      index,
      child,
      logFile,
      url: '',
      id: '',
      exited: false,
      signal(signal: NodeJS.Signals) {
        child.kill(signal)
      },
      async kill9() {
        child.kill('SIGKILL')
        await exit
      },
      async stop() {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        await exit
        clearTimeout(timer)
      },
    }
    void exit.then(() => {
      worker.exited = true
    })
    this.workers.push(worker)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = readFileSync(logFile, 'utf8')
      const m = /distributed worker (\S+) ready in group .* on (https?:\/\/\S+?)"/.exec(text)
      if (m) {
        worker.id = m[1]
        worker.url = m[2].replace('0.0.0.0', '127.0.0.1')
        return worker
      }
      if (worker.exited) throw new Error(`worker ${index} exited while starting:\n${text.slice(-3000)}`)
      if (Date.now() > deadline)
        throw new Error(`worker ${index} not ready after ${timeoutMs} ms:\n${text.slice(-3000)}`)
      await sleep(100)
    }
  }

  alive(): ClusterWorker[] {
    return this.workers.filter((w) => !w.exited)
  }

  /** The group's internal topics plus `extra`, best effort (the broker is shared by every test run). */
  async deleteTopics(extra: string[] = []): Promise<void> {
    const { createKafkaLog } = await import('../../src/log/kafka/kafka-log.ts')
    const log = createKafkaLog({ bootstrapServers: [this.#o.bootstrap], clientId: 'cluster-cleanup' })
    try {
      await log.deleteTopics([
        ...['configs', 'offsets', 'status'].map((t) => `${this.groupId}-${t}`),
        ...extra,
      ])
    } catch {
      // left for the broker's next wipe
    } finally {
      await log.close()
    }
  }

  async stopAll(): Promise<void> {
    for (const w of this.alive()) w.signal('SIGCONT')
    await Promise.all(this.alive().map((w) => w.stop()))
  }
}

export interface ClusterView {
  generation: number
  leader: boolean
  leaderUrl: string | null
  rebalancing: boolean
  connectors: string[]
  tasks: string[]
  counters: { rebalances: number; taskStarts: number; taskStops: number }
}

export async function clusterView(worker: ClusterWorker): Promise<ClusterView> {
  const res = await fetch(`${worker.url}/sluice/cluster`)
  return (await res.json()) as ClusterView
}

/** A REST call that retries 409s (a rebalance in progress), as Kafka Connect clients must. */
export async function restWithRetry(
  url: string,
  method: string,
  body?: unknown,
  timeoutMs = 60_000,
): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (res.status !== 409 || /already exists/.test(text) || Date.now() > deadline) {
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null }
    }
    await sleep(delay)
  }
}
