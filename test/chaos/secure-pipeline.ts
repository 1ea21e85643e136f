/**
 * The harness of the tests of Sluice's own produce path (produce-request.ts, produce-sender.ts,
 * record-batch.ts) and Fetch path on a 3-node cluster over SASL_SSL (SCRAM-SHA-512, TLS),
 * replication factor 3, min.insync.replicas 2 (`ownSecureCluster`): a numbered file → Kafka
 * (3 partitions) → file pipeline through the real `sluice standalone` command while lines are
 * appended, through faults, then the checks:
 *
 * - after each fault, the lines written since reach the sink (bounded wait);
 * - faults of the brokers only (kill -9 or restart of a node, leader changes, connections cut with
 *   `ss -K`): the idempotent producer leaves no duplicate and no reordering in any partition;
 * - a kill -9 of the worker: at-least-once, so lines may come again, but each partition goes back
 *   at most once per kill (a replay), and nothing is missing;
 * - at the end every line is in the output file and every connector and task is RUNNING without a
 *   hand restart.
 *
 * SLUICE_FAULTS_ROUNDS=n repeats a test's faults n times (default 1, for CI).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createLog } from '../../src/log/create-log.ts'
import { tpKey } from '../../src/log/log.ts'
import { lineNumber, numberedLine } from '../helpers/files.ts'
import { kafkaSkipReason } from '../helpers/services.ts'
import { checkStatuses, note } from './pipeline.ts'
import { freePort, ownSecureCluster, type SecureCluster } from './services.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const PARTITIONS = 3
export const ROUNDS = Number(process.env.SLUICE_FAULTS_ROUNDS ?? 1)

/** Appends numbered lines to a file, 40 every 40 ms, while it runs. */
class Writer {
  written = 0
  readonly #file: string
  #timer: NodeJS.Timeout | undefined
  constructor(file: string) {
    this.#file = file
    writeFileSync(file, '')
  }
  start(): void {
    this.#timer = setInterval(() => {
      const lines: string[] = []
      for (let i = 0; i < 40; i++) lines.push(numberedLine(++this.written, 60))
      appendFileSync(this.#file, `${lines.join('\n')}\n`)
    }, 40)
  }
  stop(): void {
    clearInterval(this.#timer)
  }
}

/** The sink's output file, read as it grows: which line numbers arrived, and how many lines. */
class Output {
  readonly seen = new Set<number>()
  lines = 0
  readonly #file: string
  #position = 0
  #partial = ''
  constructor(file: string) {
    this.#file = file
  }
  read(): void {
    let fd: number
    try {
      fd = openSync(this.#file, 'r')
    } catch {
      return // not created yet
    }
    try {
      const buffer = Buffer.alloc(1 << 20)
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#position)
        if (n === 0) break
        this.#position += n
        const text = this.#partial + buffer.toString('utf8', 0, n)
        const parts = text.split('\n')
        this.#partial = parts.pop()!
        for (const line of parts) {
          this.lines++
          this.seen.add(lineNumber(line))
        }
      }
    } finally {
      closeSync(fd)
    }
  }
  /** Resolves once lines 1..`upTo` all arrived; throws after `timeoutMs` naming the first missing. */
  async has(upTo: number, timeoutMs: number, what: string): Promise<void> {
    const started = Date.now()
    for (;;) {
      this.read()
      let missing = 0
      for (let n = upTo; n >= 1 && missing === 0; n--) if (!this.seen.has(n)) missing = n
      if (missing === 0) {
        note(`${what}: lines 1..${upTo} at the sink in ${Date.now() - started} ms`)
        return
      }
      if (Date.now() - started > timeoutMs)
        throw new Error(`${what}: line ${missing} of 1..${upTo} not at the sink after ${timeoutMs} ms`)
      await sleep(100)
    }
  }
}

/** The real `sluice standalone` on the cluster's SASL_SSL listener, with a file source and sink. */
export class Worker {
  readonly url: string
  readonly logs: string[] = []
  child: ChildProcess | undefined
  readonly #dir: string
  constructor(dir: string, port: number) {
    this.#dir = dir
    this.url = `http://127.0.0.1:${port}`
  }
  static async create(
    dir: string,
    cluster: SecureCluster,
    topic: string,
    extra: Record<string, string>,
  ): Promise<Worker> {
    const worker = new Worker(dir, await freePort())
    const props = {
      'bootstrap.servers': cluster.secure,
      ...cluster.clientProperties,
      'sluice.data.dir': join(dir, 'data'),
      listeners: worker.url,
      'offset.flush.interval.ms': '200',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'consumer.session.timeout.ms': '6000',
      'consumer.heartbeat.interval.ms': '1000',
      'log.level': 'info',
      ...extra,
    }
    writeFileSync(
      join(dir, 'worker.properties'),
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    )
    const connector = (name: string, config: Record<string, string>) =>
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ name, config }))
    connector('source', {
      'connector.class': 'FileStreamSource',
      file: join(dir, 'in.txt'),
      topic,
      'batch.size': '200',
    })
    connector('sink', { 'connector.class': 'FileStreamSink', file: join(dir, 'out.txt'), topics: topic })
    return worker
  }
  async start(): Promise<void> {
    const logFile = join(this.#dir, `worker-${this.logs.length}.log`)
    this.logs.push(logFile)
    const out = openSync(logFile, 'w')
    const files = ['worker.properties', 'source.json', 'sink.json'].map((f) => join(this.#dir, f))
    const child = spawn(process.execPath, [MAIN, 'standalone', ...files], {
      cwd: this.#dir,
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    })
    closeSync(out)
    this.child = child
    const deadline = Date.now() + 60_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the worker exited while starting; see ${logFile}`)
      const problems = await checkStatuses(this.url, ['source', 'sink']).catch((e: unknown) => [String(e)])
      if (problems.length === 0) return
      if (Date.now() > deadline) throw new Error(`the worker did not run its connectors in 60 s: ${problems}`)
      await sleep(200)
    }
  }
  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((done) => child.once('exit', done))
    child.kill(signal)
    await Promise.race([exited, sleep(20_000)])
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  }
}

/** Per partition, the line numbers in the topic, read over PLAINTEXT from offset 0 to the end. */
export async function readTopic(cluster: SecureCluster, topic: string): Promise<number[][]> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': cluster.plaintext }), 'faults-check')
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }))
    const ends = await log.endOffsets(partitions)
    const consumer = log.createConsumer({ groupId: `faults-check-${Date.now()}`, clientId: 'faults-check' })
    const lines: number[][] = partitions.map(() => [])
    try {
      await consumer.assign(partitions)
      for (const p of partitions) consumer.seek(p, 0)
      const deadline = Date.now() + 60_000
      while (!partitions.every((p) => consumer.position(p) >= (ends.get(tpKey(p)) ?? 0))) {
        if (Date.now() > deadline) throw new Error(`could not read ${topic} to its end in 60 s`)
        for (const r of await consumer.poll(500))
          lines[r.partition].push(lineNumber(Buffer.from(r.value!).toString()))
      }
    } finally {
      await consumer.close()
    }
    return lines
  } finally {
    await log.close()
  }
}

/**
 * What the topic shows: a line that is missing, a partition that went back more often than
 * `replays` (a worker kill may replay once per partition; a broker fault never), and duplicates.
 */
export function topicProblems(
  lines: number[][],
  upTo: number,
  replays: number,
): { problems: string[]; duplicates: number } {
  const problems: string[] = []
  const seen = new Set<number>()
  let total = 0
  lines.forEach((partition, p) => {
    let back = 0
    for (let i = 0; i < partition.length; i++) {
      total++
      seen.add(partition[i])
      if (i > 0 && partition[i] <= partition[i - 1] && ++back > replays)
        problems.push(
          `partition ${p} goes back from line ${partition[i - 1]} to line ${partition[i]} at its record ${i} ` +
            `(${back} times, at most ${replays} allowed): ${partition.slice(Math.max(0, i - 3), i + 3).join(' ')}`,
        )
    }
  })
  const missing: number[] = []
  for (let n = 1; n <= upTo; n++) if (!seen.has(n)) missing.push(n)
  if (missing.length)
    problems.push(`${missing.length} lines missing in the topic: ${missing.slice(0, 20).join(', ')}`)
  const duplicates = total - seen.size
  if (replays === 0 && duplicates > 0)
    problems.push(
      `${duplicates} duplicates in the topic with no worker kill: the idempotent producer let them in`,
    )
  return { problems: problems.slice(0, 20), duplicates }
}

/** Partition `partition`'s leader and preferred leader (its first replica). */
export async function leadership(
  cluster: SecureCluster,
  topic: string,
  partition: number,
): Promise<{ leader: number; preferred: number }> {
  const admin = new Admin({
    clientId: 'faults-leaders',
    // The running nodes only: a killed one would stall the first connection.
    bootstrapBrokers: cluster.nodes.filter((n) => n.pid !== undefined).map((n) => n.bootstrap),
    connectTimeout: 2000,
    retries: 1,
  })
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    const p = metadata.topics.get(topic)!.partitions[partition]
    return { leader: p.leader, preferred: p.replicas[0] }
  } finally {
    await admin.close()
  }
}

export async function until<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(250)
  }
}

export type Fault = [string, (worker: Worker, topic: string) => Promise<void>]

export interface SecureSuite {
  cluster(): SecureCluster
  /**
   * Runs the pipeline on a fresh topic through `faults` (`rounds` times), then checks the topic
   * (at most `replays` replays per partition), the output and the statuses.
   */
  run(name: string, extra: Record<string, string>, faults: Fault[], replays: number): Promise<void>
}

/** A describe block with a 3-node SASL_SSL cluster of its own, started before its tests. */
export function describeOnSecureCluster(title: string, body: (suite: SecureSuite) => void): void {
  describe(title, { skip: kafkaSkipReason(), timeout: 600_000 }, () => {
    let cluster: SecureCluster
    const dirs: string[] = []
    const workers: Worker[] = []
    let failed = false

    before(async () => {
      cluster = await ownSecureCluster(3)
      note(`cluster: PLAINTEXT ${cluster.plaintext}, SASL_SSL ${cluster.secure}`)
    })
    after(async () => {
      for (const w of workers) await w.kill('SIGKILL')
      await cluster?.destroy(failed)
      if (!failed) for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    })

    /**
     * Runs the pipeline on a fresh topic through `faults` (after each, every line written so far must
     * reach the sink), then checks the topic, the output and the statuses.
     */
    async function run(
      name: string,
      extra: Record<string, string>,
      faults: Fault[],
      replays: number,
    ): Promise<void> {
      const dir = mkdtempSync(join(tmpdir(), `sluice-faults-${name}-`))
      dirs.push(dir)
      const topic = `faults-${name}-${Date.now()}`
      const log = await createLog(new WorkerConfig({ 'bootstrap.servers': cluster.plaintext }), 'faults')
      try {
        await log.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 3 }])
      } finally {
        await log.close()
      }
      const writer = new Writer(join(dir, 'in.txt'))
      const output = new Output(join(dir, 'out.txt'))
      const worker = await Worker.create(dir, cluster, topic, extra)
      workers.push(worker)
      try {
        writer.start()
        await worker.start()
        await output.has(writer.written, 60_000, 'the start')
        for (let round = 1; round <= ROUNDS; round++) {
          for (const [what, fault] of faults) {
            note(`round ${round}: ${what}`)
            await fault(worker, topic)
            // Lines written after the fault must come through, not only those before it.
            await sleep(1000)
            await output.has(writer.written, 90_000, what)
          }
        }
        writer.stop()
        await output.has(writer.written, 60_000, 'the last line')
        const statuses = await checkStatuses(worker.url, ['source', 'sink'], 10_000)
        const { problems, duplicates } = topicProblems(
          await readTopic(cluster, topic),
          writer.written,
          replays,
        )
        note(
          `${name}: ${writer.written} lines, ${duplicates} duplicates in the topic, ` +
            `${output.lines - output.seen.size} at the sink`,
        )
        problems.push(...statuses)
        if (problems.length)
          assert.fail(
            `${problems.join('\n')}\nworker logs: ${worker.logs.join(', ')}; broker logs: ` +
              cluster.nodes.map((n) => n.logFile).join(', '),
          )
      } catch (error) {
        failed = true
        throw error
      } finally {
        writer.stop()
        await worker.kill('SIGTERM')
      }
    }

    body({ cluster: () => cluster, run })
  })
}
