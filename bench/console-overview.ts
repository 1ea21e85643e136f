import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/chromium.ts'
import { freePort } from './lib/cases.ts'
import { machineInfo } from './lib/machine.ts'
import { median, round } from './lib/stats.ts'
import { startStandaloneWorker } from './lib/worker-process.ts'

const MAIN = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const { values } = parseArgs({
  options: {
    connectors: { type: 'string', default: '100' },
    runs: { type: 'string', default: '11' },
    cycles: { type: 'string', default: '200' },
  },
})
const connectorCount = Number(values.connectors)
const runs = Number(values.runs)
const cycles = Number(values.cycles)

/** CPU milliseconds the process has used (user + system), from /proc; clock ticks are 10 ms on Linux. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

async function cpuOver(pid: number, seconds: number): Promise<number> {
  const before = cpuMs(pid)
  const start = performance.now()
  await sleep(seconds * 1000)
  return ((cpuMs(pid) - before) / (performance.now() - start)) * 1000
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-console-'))
const { url, child } = await startStandaloneWorker(MAIN, dir, await freePort(), 60_000)
const browser = await chromium.launch({
  executablePath: await ensureChromium(),
  headless: true,
  args: [...CHROMIUM_ARGS],
})
try {
  for (let i = 0; i < connectorCount; i++) {
    const file = join(dir, `in-${i}.txt`)
    writeFileSync(file, `line of connector ${i}\n`)
    const res = await fetch(`${url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `bench-console-${String(i).padStart(3, '0')}`,
        config: { 'connector.class': 'FileStreamSource', file, topic: `bench-console-${i}` },
      }),
    })
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`)
  }
  // Every connector listed with its status before measuring.
  const deadline = Date.now() + 60_000
  for (;;) {
    const listed = (await (await fetch(`${url}/connectors?expand=status`)).json()) as Record<
      string,
      { status: { tasks: { state: string }[] } }
    >
    const running = Object.values(listed).filter((c) =>
      c.status.tasks.some((t) => t.state === 'RUNNING'),
    ).length
    if (running === connectorCount) break
    if (Date.now() > deadline)
      throw new Error(`only ${running} of ${connectorCount} connectors running after 60 s`)
    await sleep(200)
  }

  const measure = async () => {
    // bypassCSP: Playwright's polling evaluates text, which the console's policy (no eval) forbids.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true })
    const page = await context.newPage()
    await page.goto(`${url}/ui/`, { waitUntil: 'commit' })
    await page.waitForFunction(
      `performance.getEntriesByName('sluice:overview-painted').length > 0 && document.querySelectorAll('tr[data-connector]').length === ${connectorCount}`,
      undefined,
      { timeout: 30_000, polling: 10 },
    )
    const [painted, fcp] = await page.evaluate<[number, number]>(
      `[performance.getEntriesByName('sluice:overview-painted')[0].startTime,
        performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1]`,
    )
    await context.close()
    return { painted, fcp }
  }

  const warmUp = await measure()
  const samples: { painted: number; fcp: number }[] = []
  const load = loadavg()[0]!
  for (let i = 0; i < runs; i++) samples.push(await measure())
  const painted = samples.map((s) => s.painted)

  // The console's cost: the worker's CPU time per poll cycle of an open overview (the two
  // requests it makes every 2 s), with every connector paused so the tasks add nothing.
  for (let i = 0; i < connectorCount; i++) {
    await fetch(`${url}/connectors/bench-console-${String(i).padStart(3, '0')}/pause`, { method: 'PUT' })
  }
  await sleep(3000)
  const pid = child.pid!
  const baseline = await cpuOver(pid, 5)
  const before = cpuMs(pid)
  const started = performance.now()
  for (let i = 0; i < cycles; i++) {
    await Promise.all([
      fetch(`${url}/connectors?expand=status&expand=info`).then((r) => r.arrayBuffer()),
      fetch(`${url}/metrics`).then((r) => r.arrayBuffer()),
    ])
  }
  const elapsedMs = performance.now() - started
  const perCycle = (cpuMs(pid) - before - (baseline * elapsedMs) / 1000) / cycles
  const result = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage1m: round(load, 2),
    connectors: connectorCount,
    runs,
    warmUpMs: round(warmUp.painted),
    overviewPaintedMs: {
      median: round(median(painted)),
      min: round(Math.min(...painted)),
      max: round(Math.max(...painted)),
    },
    firstContentfulPaintMedianMs: round(median(samples.map((s) => s.fcp))),
    samplesMs: painted.map((p) => round(p)),
    consoleCost: {
      workerCpuMsPerSecondPaused: round(baseline),
      cycles,
      workerCpuMsPerPollCycle: round(perCycle, 2),
      shareOfOneCorePercent: round((perCycle / 2000) * 100, 2),
    },
  }
  const out = resolve(import.meta.dirname, 'out')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, `console-overview-${Date.now()}.json`), `${JSON.stringify(result, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
} finally {
  await browser.close()
  const exited = new Promise((done) => child.once('exit', done))
  child.kill('SIGTERM')
  await exited
  rmSync(dir, { recursive: true, force: true })
}
