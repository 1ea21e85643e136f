/**
 * REST API figures (a benchmark, not a test):
 * 1. p99 latency of `GET /connectors/{name}/status` under 200 concurrent keep-alive clients for
 *    30 s (goal ≤ 10 ms). The load generator runs in this process, the worker in its own, so they
 *    do not share an event loop.
 * 2. Time to create 100 FileStreamSource connectors through `POST /connectors` on the embedded log
 *    until every connector and task is RUNNING (goal ≤ 5 s).
 *
 *   npx node bench/rest-api.ts [--clients 200] [--seconds 30] [--connectors 100]
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { freePort } from './lib/cases.ts'
import { machineInfo } from './lib/machine.ts'
import { startStandaloneWorker } from './lib/worker-process.ts'

// The shipped CLI (`npm run build` first), as users run it: no TypeScript stripping at start.
const MAIN = resolve(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js')

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '30' },
    connectors: { type: 'string', default: '100' },
    /** Drive the load with wrk (C, from Debian's packages) instead of this process's fetch. */
    wrk: { type: 'boolean', default: false },
  },
})

async function stopWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done))
  child.kill('SIGTERM')
  await exited
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

async function statusLatency(url: string, dir: string, clients: number, seconds: number) {
  writeFileSync(join(dir, 'in.txt'), 'x\n')
  const created = await fetch(`${url}/connectors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench',
      config: { 'connector.class': 'FileStreamSource', file: join(dir, 'in.txt'), topic: 'bench' },
    }),
  })
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${await created.text()}`)
  const target = `${url}/connectors/bench/status`
  if (values.wrk) return wrkLatency(target, clients, seconds)
  // Warm-up: connections opened, code paths compiled.
  const warmEnd = Date.now() + 2000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < warmEnd) await (await fetch(target)).arrayBuffer()
    }),
  )
  const latencies: number[] = []
  let errors = 0
  const start = performance.now()
  const end = start + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now()
        const res = await fetch(target)
        await res.arrayBuffer()
        latencies.push(performance.now() - t0)
        if (res.status !== 200) errors++
      }
    }),
  )
  const elapsed = (performance.now() - start) / 1000
  const sorted = Float64Array.from(latencies).sort()
  return {
    requests: sorted.length,
    errors,
    requestsPerSecond: Math.round(sorted.length / elapsed),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: sorted[sorted.length - 1],
  }
}

/**
 * The same measurement with wrk: one wrk thread, `clients` keep-alive connections. wrk costs far
 * less CPU per request than fetch, so on a 2-core machine it measures the worker, not the client.
 */
function wrkLatency(target: string, clients: number, seconds: number) {
  const run = (duration: number, latency: boolean) =>
    execFileSync(
      'wrk',
      ['-t1', `-c${clients}`, `-d${duration}s`, ...(latency ? ['--latency'] : []), target],
      {
        encoding: 'utf8',
      },
    )
  run(2, false)
  const out = run(seconds, true)
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) throw new Error(`no ${label}th percentile in wrk's output:\n${out}`)
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
  }
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN)
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    Number(/Socket errors: .*?(\d+)/.exec(out)?.[1] ?? 0)
  return {
    tool: 'wrk',
    requests,
    errors,
    requestsPerSecond: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN)),
    p50Ms: ms('50'),
    p99Ms: ms('99'),
  }
}

async function createMany(url: string, dir: string, count: number) {
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `in-${i}.txt`), `line ${i}\n`)
  const start = performance.now()
  const posted = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      fetch(`${url}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `src-${i}`,
          config: {
            'connector.class': 'FileStreamSource',
            file: join(dir, `in-${i}.txt`),
            topic: `bench-${i}`,
          },
        }),
      }).then((r) => r.status),
    ),
  )
  const allCreated = performance.now() - start
  if (posted.some((s) => s !== 201))
    throw new Error(`some creates failed: ${posted.filter((s) => s !== 201).length}`)
  const deadline = Date.now() + 120_000
  for (;;) {
    const all = (await (await fetch(`${url}/connectors?expand=status`)).json()) as Record<
      string,
      { status: { connector: { state: string }; tasks: { state: string }[] } }
    >
    const running = Object.values(all).filter(
      (e) =>
        e.status.connector.state === 'RUNNING' &&
        e.status.tasks.length > 0 &&
        e.status.tasks.every((t) => t.state === 'RUNNING'),
    ).length
    if (running === count) break
    if (Date.now() > deadline) throw new Error(`only ${running}/${count} RUNNING after 120 s`)
    await sleep(10)
  }
  return { connectors: count, allCreatedMs: allCreated, allRunningMs: performance.now() - start }
}

const clients = Number(values.clients)
const seconds = Number(values.seconds)
const count = Number(values.connectors)
const results: Record<string, unknown> = { machine: machineInfo(), date: new Date().toISOString() }
for (const [name, run] of [
  ['statusLatency', (url: string, dir: string) => statusLatency(url, dir, clients, seconds)],
  ['create100', (url: string, dir: string) => createMany(url, dir, count)],
] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-rest-'))
  const { url, child } = await startStandaloneWorker(MAIN, dir, await freePort(), 30_000)
  try {
    results[name] = await run(url, dir)
  } finally {
    await stopWorker(child)
    rmSync(dir, { recursive: true, force: true })
  }
  process.stderr.write(`${name}: ${JSON.stringify(results[name])}\n`)
}
console.log(JSON.stringify(results, null, 2))
