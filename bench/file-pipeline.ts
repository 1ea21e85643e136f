/**
 * File source → log → file sink, side by side on one machine:
 *
 *   (a) Sluice on Kafka, (b) Sluice on its embedded log (no bootstrap.servers),
 *   (c) Apache Kafka Connect (same version as the broker) with its own FileStream connectors, on Kafka.
 *
 *   npx node bench/file-pipeline.ts [--lines 1000000] [--line-bytes 200] [--cases a,b,c]
 *     [--idle-repeats 1] [--idle-settle-ms 5000] [--offset-flush-interval-ms 10000]
 *     [--batch-size N] [--timeout-ms 600000] [--keep] [--tasks 1] [--task-threads 0|N|auto]
 *
 * Every worker is launched like connect-standalone (`standalone worker.properties source.properties
 * sink.properties`) with the same worker keys, JsonConverter with schemas off for keys and values.
 * Each case has its own topic (1 partition, created beforehand: the broker has auto-create off),
 * REST port and directory. Records are counted where they land: the run ends when every sequence
 * number of the input was written to the destination file at least once.
 *
 * `--tasks 2` runs two pipelines side by side in the one worker: two file sources reading the
 * same input into two topics, two file sinks writing two files; records are counted in both files
 * (2 × lines), first line of either → last line of both. `--task-threads` sets Sluice's
 * `task.threads` (decision 0029); Kafka Connect's case ignores it.
 *
 * Per case: start→REST-ready and idle RSS of a worker without connectors (a separate short run),
 * then the pipeline: peak RSS of the worker's process tree, time from spawn to the first and to the
 * last line at the destination, records/s over first→last line and over spawn→last line.
 * Prints a Markdown table; writes the JSON to bench/out/file-pipeline-<time>.json.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureKafka, KAFKA_VERSION, kafkaPaths } from '../scripts/kafka.ts'
import { type BenchCase, benchCase, type CaseName, freePort, parseCases } from './lib/cases.ts'
import { treeCpuSeconds } from './lib/cpu-time.ts'
import { DestinationWatcher } from './lib/destination-file.ts'
import { errorSummary } from './lib/error-summary.ts'
import { type IdleMeasurement, idleDir, measureIdle } from './lib/idle-worker.ts'
import { ensureInputFile, type InputFile } from './lib/input-file.ts'
import { machineInfo } from './lib/machine.ts'
import { writeProperties } from './lib/properties-file.ts'
import { sluiceRevision } from './lib/revision.ts'
import { mib, RssSampler } from './lib/rss.ts'
import { sluiceCliExists, sluiceMain } from './lib/sluice.ts'
import { median, round } from './lib/stats.ts'
import { createTopics, deleteTopics } from './lib/topics.ts'
import { connectorStatus, waitRestReady } from './lib/worker-process.ts'

const benchDir = import.meta.dirname
const outDir = join(benchDir, 'out')

interface PipelineMeasurement {
  readyMs: number
  firstLineMs?: number
  lastLineMs?: number
  /** Spawn → 99 % of the lines at the destination: throughput without the last flush's wait. */
  p99LineMs?: number
  peakRssBytes: number
  cpuSeconds: number
  /** CPU the Kafka broker used during the run (it shares the machine's cores with the worker). */
  brokerCpuSeconds?: number
  lines: number
  unique: number
  duplicates: number
  malformed: number
  recordsPerSecond?: number
  recordsPerSecondFromSpawn?: number
  /** `[ms since spawn, lines at the destination]`, about every 500 ms. */
  timeline: [number, number][]
}

interface CaseResult {
  case: CaseName
  label: string
  topic: string
  /** 1-minute load average when the case started: other work on the machine skews the figures. */
  loadAverageAtStart: number
  idle: IdleMeasurement[]
  idleMedian?: { readyMs: number; idleRssBytes: number }
  pipeline?: PipelineMeasurement
  error?: string
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${raw}'`)
  return n
}

async function runPipeline(
  bench: BenchCase,
  options: {
    dir: string
    input: InputFile
    topic: string
    bootstrap?: string
    offsetFlushIntervalMs: number
    batchSize?: number
    timeoutMs: number
    /** Pipelines side by side (`topic` is the first's topic, `topics[i]` each one's). */
    topics: string[]
    taskThreads?: string
  },
): Promise<PipelineMeasurement> {
  const { dir, input } = options
  mkdirSync(dir, { recursive: true })
  const connectorFiles: string[] = []
  const watchers: DestinationWatcher[] = []
  options.topics.forEach((topic, i) => {
    const n = options.topics.length === 1 ? '' : `-${i}`
    const destination = join(dir, `sink${n}.txt`)
    rmSync(destination, { force: true })
    connectorFiles.push(
      writeProperties(join(dir, `source${n}.properties`), {
        name: `bench-file-source${n}`,
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
        'tasks.max': 1,
        file: input.path,
        topic,
        ...(options.batchSize === undefined ? {} : { 'batch.size': options.batchSize }),
      }),
      writeProperties(join(dir, `sink${n}.properties`), {
        name: `bench-file-sink${n}`,
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': 1,
        file: destination,
        topics: topic,
      }),
    )
    watchers.push(new DestinationWatcher(destination, input.lines))
  })
  const port = await freePort()
  const worker = bench.start({
    cwd: dir,
    port,
    bootstrap: options.bootstrap,
    connectorFiles,
    offsetFlushIntervalMs: options.offsetFlushIntervalMs,
    taskThreads: options.taskThreads,
  })
  const sampler = new RssSampler(worker.pid, 100)
  const brokerPid = options.bootstrap === undefined ? undefined : ourBrokerPid()
  const brokerCpuBefore = brokerPid === undefined ? 0 : treeCpuSeconds(brokerPid)
  try {
    const readyMs = await waitRestReady(worker, port, 120_000)
    log(
      `${bench.label}: REST ready after ${round(readyMs / 1000, 2)} s; waiting for ${input.lines} lines × ${watchers.length}`,
    )
    const all = await Promise.all(
      watchers.map((watcher) =>
        watcher.waitComplete({
          timeoutMs: options.timeoutMs,
          pollMs: 20,
          stallMs: 60_000,
          abort: () => (worker.exit() === undefined ? undefined : `worker exited (${worker.exit()})`),
        }),
      ),
    )
    const progress = combined(all)
    sampler.sample()
    const cpuSeconds = treeCpuSeconds(worker.pid)
    const brokerCpuSeconds = brokerPid === undefined ? undefined : treeCpuSeconds(brokerPid) - brokerCpuBefore
    const rss = sampler.stop()
    if (progress.completeAt === undefined) {
      throw new Error(
        `${progress.stopped}: ${progress.unique}/${input.lines} distinct records at the destination ` +
          `(${progress.lines} lines, ${progress.duplicates} duplicates, ${progress.malformed} malformed; ` +
          `missing e.g. ${progress.missingSample.join(', ')}).\n` +
          `connectors: ${await connectorStatus(port)}\nworker log (${worker.logFile}):\n${worker.logTail(40)}`,
      )
    }
    const records = input.lines * watchers.length
    const firstLineMs = progress.firstLineAt! - worker.spawnedAt
    const lastLineMs = progress.completeAt - worker.spawnedAt
    const p99LineMs = progress.p99At! - worker.spawnedAt
    return {
      readyMs,
      firstLineMs,
      lastLineMs,
      p99LineMs,
      peakRssBytes: rss.peakBytes,
      cpuSeconds,
      brokerCpuSeconds,
      lines: progress.lines,
      unique: progress.unique,
      duplicates: progress.duplicates,
      malformed: progress.malformed,
      recordsPerSecond: records / ((lastLineMs - firstLineMs) / 1000),
      recordsPerSecondFromSpawn: records / (lastLineMs / 1000),
      timeline: progress.timeline.map(([at, lines]) => [Math.round(at - worker.spawnedAt), lines]),
    }
  } finally {
    sampler.stop()
    for (const watcher of watchers) watcher.close()
    await worker.stop()
  }
}

type Progress = Awaited<ReturnType<DestinationWatcher['waitComplete']>>

/** Several destinations as one: counts added, first line of any, 99 % and last line of all (when all finished). */
function combined(all: Progress[]): Progress {
  if (all.length === 1) return all[0]
  const failed = all.find((p) => p.completeAt === undefined)
  const sum = (f: (p: Progress) => number): number => all.reduce((n, p) => n + f(p), 0)
  const latest = (f: (p: Progress) => number | undefined): number | undefined =>
    all.some((p) => f(p) === undefined) ? undefined : Math.max(...all.map((p) => f(p)!))
  const firsts = all.map((p) => p.firstLineAt).filter((t): t is number => t !== undefined)
  return {
    ...(failed ?? all[0]),
    lines: sum((p) => p.lines),
    unique: sum((p) => p.unique),
    duplicates: sum((p) => p.duplicates),
    malformed: sum((p) => p.malformed),
    firstLineAt: firsts.length === 0 ? undefined : Math.min(...firsts),
    p99At: latest((p) => p.p99At),
    completeAt: latest((p) => p.completeAt),
    timeline: all[0].timeline,
  }
}

/** The broker's pid when scripts/kafka.ts started it (else its CPU is not reported). */
function ourBrokerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(kafkaPaths.pidFile, 'utf8').trim())
    return Number.isInteger(pid) &&
      pid > 0 &&
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')
      ? pid
      : undefined
  } catch {
    return undefined
  }
}

function table(results: CaseResult[]): string {
  const s = (ms: number | undefined): string => (ms === undefined ? '–' : round(ms / 1000, 2).toFixed(2))
  const n = (v: number | undefined): string => (v === undefined ? '–' : Math.round(v).toLocaleString('en-US'))
  const m = (bytes: number | undefined): string => (bytes === undefined ? '–' : mib(bytes).toFixed(1))
  const rows = [
    '| case | start→REST-ready (s) | idle RSS (MiB) | peak RSS (MiB) | spawn→first line (s) | spawn→99 % (s) | spawn→last line (s) | records/s first→last line | records/s incl. start | worker CPU (s) | broker CPU (s) | dups |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const r of results) {
    const p = r.pipeline
    rows.push(
      `| ${r.label} | ${s(r.idleMedian?.readyMs)} | ${m(r.idleMedian?.idleRssBytes)} | ${m(p?.peakRssBytes)} | ` +
        `${s(p?.firstLineMs)} | ${s(p?.p99LineMs)} | ${s(p?.lastLineMs)} | ${n(p?.recordsPerSecond)} | ${n(p?.recordsPerSecondFromSpawn)} | ` +
        `${p === undefined ? '–' : p.cpuSeconds.toFixed(1)} | ${p?.brokerCpuSeconds === undefined ? '–' : p.brokerCpuSeconds.toFixed(1)} | ` +
        `${p === undefined ? '–' : p.duplicates} |`,
    )
  }
  const failed = results.filter((r) => r.error !== undefined)
  for (const r of failed) rows.push('', `**${r.label} failed:** ${errorSummary(r.error!)}`)
  return rows.join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string' },
      'line-bytes': { type: 'string' },
      cases: { type: 'string' },
      'idle-repeats': { type: 'string' },
      'idle-settle-ms': { type: 'string' },
      'offset-flush-interval-ms': { type: 'string' },
      'batch-size': { type: 'string' },
      'timeout-ms': { type: 'string' },
      tasks: { type: 'string' },
      'task-threads': { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  })
  const lines = positiveInt(values.lines, 1_000_000, 'lines')
  const lineBytes = positiveInt(values['line-bytes'], 200, 'line-bytes')
  const idleRepeats = positiveInt(values['idle-repeats'], 1, 'idle-repeats')
  const idleSettleMs = positiveInt(values['idle-settle-ms'], 5000, 'idle-settle-ms')
  const offsetFlushIntervalMs = positiveInt(
    values['offset-flush-interval-ms'],
    10_000,
    'offset-flush-interval-ms',
  )
  const batchSize =
    values['batch-size'] === undefined ? undefined : positiveInt(values['batch-size'], 0, 'batch-size')
  const timeoutMs = positiveInt(values['timeout-ms'], 600_000, 'timeout-ms')
  const cases = parseCases(values.cases)
  const tasks = positiveInt(values.tasks, 1, 'tasks')
  const taskThreads = values['task-threads']

  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const suffix = Math.random().toString(36).slice(2, 8)
  const runDir = join(outDir, 'runs', `file-pipeline-${stamp}`)
  mkdirSync(runDir, { recursive: true })

  log(`input: ${lines} lines of ${lineBytes} bytes`)
  const input = ensureInputFile(join(outDir, 'data'), lines, lineBytes)
  const needsKafka = cases.some((c) => benchCase(c).kafka)
  const kafka = needsKafka ? await ensureKafka() : undefined

  const results: CaseResult[] = []
  for (const name of cases) {
    const bench = benchCase(name)
    const topic = `bench-file-${suffix}-${name}`
    const result: CaseResult = {
      case: name,
      label: bench.label,
      topic,
      loadAverageAtStart: loadavg()[0],
      idle: [],
    }
    results.push(result)
    if (name.startsWith('sluice') && !sluiceCliExists()) {
      result.error = `${sluiceMain} does not exist yet`
      log(`${bench.label}: skipped, ${result.error}`)
      continue
    }
    try {
      for (let r = 0; r < idleRepeats; r++) {
        const idle = await measureIdle(bench, {
          dir: idleDir(runDir, name, r),
          bootstrap: kafka?.bootstrap,
          settleMs: idleSettleMs,
          offsetFlushIntervalMs,
        })
        log(
          `${bench.label}: idle run ${r + 1}: ready ${round(idle.readyMs)} ms, idle RSS ${mib(idle.idleRssBytes)} MiB`,
        )
        result.idle.push(idle)
      }
      result.idleMedian = {
        readyMs: median(result.idle.map((i) => i.readyMs)),
        idleRssBytes: median(result.idle.map((i) => i.idleRssBytes)),
      }
      const topics = tasks === 1 ? [topic] : Array.from({ length: tasks }, (_, i) => `${topic}-${i}`)
      if (bench.kafka) await createTopics(kafka!.bootstrap, topics, 1)
      const dir = join(runDir, name)
      try {
        result.pipeline = await runPipeline(bench, {
          dir,
          input,
          topic,
          bootstrap: bench.kafka ? kafka!.bootstrap : undefined,
          offsetFlushIntervalMs,
          batchSize,
          timeoutMs,
          topics,
          taskThreads,
        })
      } finally {
        if (!values.keep) {
          for (const f of topics.map((_, i) => (tasks === 1 ? 'sink.txt' : `sink-${i}.txt`)))
            rmSync(join(dir, f), { force: true })
          rmSync(join(dir, 'data'), { recursive: true, force: true })
        }
        if (bench.kafka && !values.keep) await deleteTopics(kafka!.bootstrap, topics)
      }
      const p = result.pipeline
      log(
        `${bench.label}: ${lines * tasks} records in ${round(p.lastLineMs! / 1000, 2)} s from spawn, ` +
          `${Math.round(p.recordsPerSecond!)} records/s first→last line, peak RSS ${mib(p.peakRssBytes)} MiB`,
      )
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error)
      log(`${bench.label} failed: ${result.error}`)
    }
  }

  const report = {
    benchmark: 'file-pipeline',
    at: new Date().toISOString(),
    machine: machineInfo(),
    sluice: sluiceRevision(),
    kafkaVersion: KAFKA_VERSION,
    params: {
      lines,
      lineBytes,
      inputBytes: input.bytes,
      idleRepeats,
      idleSettleMs,
      offsetFlushIntervalMs,
      batchSize,
      tasks,
      taskThreads,
    },
    runDir,
    results,
  }
  const outFile = join(outDir, `file-pipeline-${stamp}.json`)
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`)
  console.log(table(results))
  console.log(`\nJSON: ${resolve(outFile)}`)
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
})
