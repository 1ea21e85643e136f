/**
 * A worker under measurement: a child process started in its own process group, its output in a
 * log file, and the instant it was spawned (every figure of a run is measured from there).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { treeCpuSeconds } from './cpu-time.ts'
import { mib, RssSampler } from './rss.ts'
import { round } from './stats.ts'

export interface WorkerProcess {
  readonly pid: number
  readonly child: ChildProcess
  /** `performance.now()` just before spawn. */
  readonly spawnedAt: number
  readonly logFile: string
  /** Set once the process has exited: its code or signal. */
  exit(): string | undefined
  /** SIGTERM to the process group, then SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>
  logTail(lines?: number): string
}

export function spawnWorker(
  command: string,
  args: string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): WorkerProcess {
  const out = openSync(options.logFile, 'w')
  const spawnedAt = performance.now()
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`)
  const pid = child.pid
  let exited: string | undefined
  const done = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal !== null ? `signal ${signal}` : `exit code ${code}`
      resolve()
    })
    child.once('error', (error) => {
      exited = `spawn error: ${error.message}`
      resolve()
    })
  })

  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal)
    } catch {
      // the group is gone already
    }
  }

  return {
    pid,
    child,
    spawnedAt,
    logFile: options.logFile,
    exit: () => exited,
    async stop(graceMs = 15_000) {
      if (exited !== undefined) return
      signalGroup('SIGTERM')
      const timer = sleep(graceMs).then(() => 'timeout' as const)
      if ((await Promise.race([done.then(() => 'done' as const), timer])) === 'timeout') {
        signalGroup('SIGKILL')
        await Promise.race([done, sleep(5_000)])
      }
    },
    logTail(lines = 30) {
      if (!existsSync(options.logFile)) return '(no log)'
      return readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
    },
  }
}

/**
 * Polls `GET http://127.0.0.1:<port>/` until it answers 200 and returns the milliseconds since the
 * worker was spawned. Throws with the worker's log tail when it exits or the timeout passes.
 */
export async function waitRestReady(
  worker: WorkerProcess,
  port: number,
  timeoutMs = 120_000,
  pollMs = 10,
): Promise<number> {
  const deadline = worker.spawnedAt + timeoutMs
  while (performance.now() < deadline) {
    if (worker.exit() !== undefined) {
      throw new Error(`worker exited (${worker.exit()}) before its REST API answered:\n${worker.logTail()}`)
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200) return performance.now() - worker.spawnedAt
    } catch {
      // not listening yet
    }
    await sleep(pollMs)
  }
  throw new Error(
    `worker REST API on port ${port} did not answer within ${timeoutMs} ms:\n${worker.logTail()}`,
  )
}

/** Connector and task states from `GET /connectors?expand=status`, for failure messages. */
export async function connectorStatus(port: number): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/connectors?expand=status`, {
      signal: AbortSignal.timeout(2000),
    })
    return `${response.status} ${await response.text()}`
  } catch (error) {
    return `(no answer: ${error instanceof Error ? error.message : String(error)})`
  }
}

/** What `measureDrain` saw; times in milliseconds since the worker was spawned. */
export interface Drain {
  readyMs: number
  /** The last count read. */
  count: number
  /** The first count above 0, and the count at the target (undefined when the time ran out). */
  firstMs?: number
  lastMs?: number
  /** The target over first→last, and over spawn→last. */
  perSecond?: number
  perSecondFromSpawn?: number
  cpuSeconds: number
  peakRssMiB: number
}

/**
 * Waits for the worker's REST API, then reads `count()` every `pollMs` until it reaches `target` or
 * `timeoutMs` passes (a negative count is read again at once); the worker's CPU and peak RSS
 * (sampled every 200 ms from now) up to then. Throws, with the log's tail, when the worker exits or
 * the count stays put for 120 s.
 */
export async function measureDrain(
  worker: WorkerProcess,
  port: number,
  o: { count: () => Promise<number>; target: number; timeoutMs: number; pollMs: number; unit: string },
): Promise<Drain> {
  const sampler = new RssSampler(worker.pid, 200)
  try {
    const readyMs = await waitRestReady(worker, port, 180_000)
    const deadline = performance.now() + o.timeoutMs
    let count = 0
    let firstMs: number | undefined
    let lastMs: number | undefined
    let lastProgress = performance.now()
    while (performance.now() < deadline) {
      const now = await o.count()
      if (now < 0) continue
      const at = performance.now() - worker.spawnedAt
      if (now > 0 && firstMs === undefined) firstMs = at
      if (now !== count) lastProgress = performance.now()
      count = now
      if (count >= o.target) {
        lastMs = at
        break
      }
      if (worker.exit() !== undefined)
        throw new Error(`worker exited (${worker.exit()}):\n${worker.logTail(40)}`)
      if (performance.now() - lastProgress > 120_000) {
        throw new Error(
          `no progress for 120 s at ${count} ${o.unit}\nconnectors: ${await connectorStatus(port)}\n${worker.logTail(40)}`,
        )
      }
      await sleep(o.pollMs)
    }
    sampler.sample()
    const drain: Drain = {
      readyMs,
      count,
      firstMs,
      lastMs,
      cpuSeconds: round(treeCpuSeconds(worker.pid), 1),
      peakRssMiB: round(mib(sampler.stop().peakBytes), 1),
    }
    if (lastMs !== undefined && firstMs !== undefined) {
      drain.perSecond = Math.round(o.target / ((lastMs - firstMs) / 1000))
      drain.perSecondFromSpawn = Math.round(o.target / (lastMs / 1000))
    }
    return drain
  } finally {
    sampler.stop()
  }
}

/**
 * `node <main> standalone` with no connectors, its data in `dir/data`, logs at warn, on `port` of
 * 127.0.0.1, output ignored; resolves once `GET /health` answers (killed if not in `timeoutMs`).
 */
export async function startStandaloneWorker(
  main: string,
  dir: string,
  port: number,
  timeoutMs: number,
): Promise<{ url: string; child: ChildProcess }> {
  const url = `http://127.0.0.1:${port}`
  writeFileSync(
    join(dir, 'worker.properties'),
    `sluice.data.dir=${join(dir, 'data')}\nlisteners=${url}\nlog.level=warn\n`,
  )
  const child = spawn(process.execPath, [main, 'standalone', join(dir, 'worker.properties')], {
    stdio: 'ignore',
  })
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child }
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  child.kill('SIGKILL')
  throw new Error(`worker did not start within ${timeoutMs / 1000} s`)
}
