/**
 * A worker under measurement: a child process started in its own process group, its output in a
 * log file, and the instant it was spawned (every figure of a run is measured from there).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

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
