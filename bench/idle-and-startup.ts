/**
 * Start→REST-ready and idle RSS of a standalone worker with no connectors, repeated, median.
 *
 *   npx node bench/idle-and-startup.ts [--cases sluice-embedded,connect-kafka] [--repeats 5]
 *     [--settle-ms 5000]
 *
 * Start→REST-ready: from spawn until `GET /` on the REST listener answers 200 (polled every 10 ms).
 * Idle RSS: median of 10 samples of the process tree's RSS, taken `--settle-ms` after REST-ready.
 * Default cases: Sluice on the embedded log (the goals: ≤ 0.5 s, ≤ 80 MB) and Kafka Connect
 * on Kafka for comparison. Writes bench/out/idle-and-startup-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureKafka, KAFKA_VERSION } from '../scripts/kafka.ts'
import { benchCase, type CaseName, parseCases } from './lib/cases.ts'
import { errorSummary } from './lib/error-summary.ts'
import { type IdleMeasurement, idleDir, measureIdle } from './lib/idle-worker.ts'
import { machineInfo } from './lib/machine.ts'
import { sluiceRevision } from './lib/revision.ts'
import { mib } from './lib/rss.ts'
import { median, round } from './lib/stats.ts'

const outDir = join(import.meta.dirname, 'out')

interface CaseResult {
  case: CaseName
  label: string
  loadAverageAtStart: number
  runs: IdleMeasurement[]
  median?: IdleMeasurement
  error?: string
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string' },
      repeats: { type: 'string' },
      'settle-ms': { type: 'string' },
    },
  })
  const cases = parseCases(values.cases ?? 'sluice-embedded,connect-kafka')
  const repeats = Number(values.repeats ?? 5)
  const settleMs = Number(values['settle-ms'] ?? 5000)
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) throw new Error('--repeats must be 1..100')
  if (!Number.isInteger(settleMs) || settleMs < 0 || settleMs > 600_000)
    throw new Error('--settle-ms: 0..600000')

  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const runDir = join(outDir, 'runs', `idle-and-startup-${stamp}`)
  mkdirSync(runDir, { recursive: true })
  const kafka = cases.some((c) => benchCase(c).kafka) ? await ensureKafka() : undefined

  const results: CaseResult[] = []
  for (const name of cases) {
    const bench = benchCase(name)
    const result: CaseResult = { case: name, label: bench.label, loadAverageAtStart: loadavg()[0], runs: [] }
    results.push(result)
    try {
      for (let r = 0; r < repeats; r++) {
        const idle = await measureIdle(bench, {
          dir: idleDir(runDir, name, r),
          bootstrap: kafka?.bootstrap,
          settleMs,
          offsetFlushIntervalMs: 10_000,
        })
        log(
          `${bench.label} #${r + 1}: ready ${round(idle.readyMs)} ms, idle RSS ${mib(idle.idleRssBytes)} MiB`,
        )
        result.runs.push(idle)
      }
      result.median = {
        readyMs: median(result.runs.map((i) => i.readyMs)),
        rssAtReadyBytes: median(result.runs.map((i) => i.rssAtReadyBytes)),
        idleRssBytes: median(result.runs.map((i) => i.idleRssBytes)),
      }
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error)
      log(`${bench.label} failed: ${result.error}`)
    }
  }

  const outFile = join(outDir, `idle-and-startup-${stamp}.json`)
  const report = {
    benchmark: 'idle-and-startup',
    at: new Date().toISOString(),
    machine: machineInfo(),
    sluice: sluiceRevision(),
    kafkaVersion: KAFKA_VERSION,
    params: { repeats, settleMs },
    runDir,
    results,
  }
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`)

  const rows = [
    `| case | start→REST-ready, median of ${repeats} (ms) | min–max (ms) | RSS at ready (MiB) | idle RSS, median (MiB) |`,
    '|---|--:|--:|--:|--:|',
  ]
  for (const r of results) {
    if (r.median === undefined) {
      rows.push(`| ${r.label} | failed: ${errorSummary(r.error ?? '')} | | | |`)
      continue
    }
    const ready = r.runs.map((i) => i.readyMs)
    rows.push(
      `| ${r.label} | ${Math.round(r.median.readyMs)} | ${Math.round(Math.min(...ready))}–${Math.round(Math.max(...ready))} | ` +
        `${mib(r.median.rssAtReadyBytes).toFixed(1)} | ${mib(r.median.idleRssBytes).toFixed(1)} |`,
    )
  }
  console.log(rows.join('\n'))
  console.log(`\nJSON: ${resolve(outFile)}`)
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
})
