/**
 * Where a worker's memory is, sampled inside it: load with
 *
 *   SLUICE_BENCH_NODE_ARGS="--import=./bench/lib/memory-probe.ts" SLUICE_MEMORY_PROBE_OUT=/tmp/probe.json \
 *     node bench/file-pipeline.ts --cases sluice-kafka
 *
 * Every 100 ms: RSS, V8's heap (total, used, per space), memory outside the heap (`external`,
 * `arrayBuffers`); every GC (kind and duration, through `PerformanceObserver`). Once a second, and
 * at exit, the probe writes to SLUICE_MEMORY_PROBE_OUT: the sample with the largest RSS, the
 * largest of each figure, and the GC counts and milliseconds by kind. Bench-only: never part of a
 * worker users run.
 */
import { writeFileSync } from 'node:fs'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'

const out = process.env.SLUICE_MEMORY_PROBE_OUT
const MIB = 1024 * 1024
const mib = (bytes: number) => Math.round((bytes / MIB) * 10) / 10

interface Sample {
  atMs: number
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  spaces: Record<string, { size: number; used: number }>
}

const started = performance.now()
let peak: Sample | undefined
const maxima: Record<string, number> = {}
const gc: Record<string, { count: number; ms: number }> = {}
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental-marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
}

function sample(): void {
  const m = process.memoryUsage()
  const spaces: Sample['spaces'] = {}
  for (const s of getHeapSpaceStatistics()) {
    spaces[s.space_name] = { size: mib(s.space_size), used: mib(s.space_used_size) }
    maxima[`${s.space_name}.size`] = Math.max(maxima[`${s.space_name}.size`] ?? 0, mib(s.space_size))
  }
  const s: Sample = {
    atMs: Math.round(performance.now() - started),
    rss: mib(m.rss),
    heapTotal: mib(m.heapTotal),
    heapUsed: mib(m.heapUsed),
    external: mib(m.external),
    arrayBuffers: mib(m.arrayBuffers),
    spaces,
  }
  for (const key of ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const) {
    maxima[key] = Math.max(maxima[key] ?? 0, s[key])
  }
  if (peak === undefined || s.rss > peak.rss) peak = s
}

function write(): void {
  if (out === undefined) return
  const gcRounded = Object.fromEntries(
    Object.entries(gc).map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms) }]),
  )
  writeFileSync(
    out,
    `${JSON.stringify({ execArgv: process.execArgv, peak, maxima, gc: gcRounded }, null, 1)}\n`,
  )
}

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[(entry as { detail?: { kind: number } }).detail?.kind ?? -1] ?? 'other'
    const g = gc[kind] ?? { count: 0, ms: 0 }
    gc[kind] = g
    g.count++
    g.ms += entry.duration
  }
}).observe({ entryTypes: ['gc'] })

setInterval(sample, 100).unref()
setInterval(write, 1000).unref()
process.on('exit', write)
