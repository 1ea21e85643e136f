/**
 * The real `sluice standalone` command in a child process, for the tests that kill it with SIGKILL
 * and start it again on the same files and data dir (the sinks', the CDC source's and the runtime's
 * crash tests). The test writes its connector files into `dir`, a fresh temporary dir that `close()`
 * deletes (with every worker still running killed).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { eventually } from './rest.ts'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')

export interface WorkerProcess {
  /** Holds worker.properties, the connector files and the worker's data dir (`data/`). */
  readonly dir: string
  /**
   * Writes `worker.properties`: the data dir, the REST listener on a free port, `log.level=warn`,
   * then `props` (which may override them).
   */
  writeProperties(props: Record<string, string>): void
  /** Starts a worker on worker.properties and the connector files; an error exit prints its stderr's tail. */
  start(): ChildProcess
  /** SIGKILL; resolves once the process has exited. */
  kill(child: ChildProcess): Promise<void>
  /**
   * Starts a worker, waits (up to `timeoutMs`) until `progress` says the load is under way, lets it
   * run up to `jitterMs` longer (at random), and kills it. Resolves once it has exited.
   */
  killMidway(
    progress: () => Promise<boolean> | boolean,
    timeoutMs: number,
    what: string,
    jitterMs?: number,
  ): Promise<void>
  close(): void
}

/**
 * `connectorFiles`: names in `dir`, in the order the command line takes them. `stderr: 'inherit'`
 * shows the worker's log as it runs (for debugging a test).
 */
export function workerProcess(
  connectorFiles: string[],
  options: { stderr?: 'pipe' | 'inherit' } = {},
): WorkerProcess {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-worker-process-'))
  const children: ChildProcess[] = []
  const self: WorkerProcess = {
    dir,
    writeProperties(props) {
      const all = {
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'log.level': 'warn',
        ...props,
      }
      const lines = Object.entries(all).map(([key, value]) => `${key}=${value}\n`)
      writeFileSync(join(dir, 'worker.properties'), lines.join(''))
    },
    start() {
      const files = ['worker.properties', ...connectorFiles].map((file) => join(dir, file))
      const child = spawn(process.execPath, [MAIN, 'standalone', ...files], {
        cwd: dir,
        stdio: ['ignore', 'ignore', options.stderr ?? 'pipe'],
      })
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000)
      })
      child.on('exit', (code) => {
        if (code !== null && code !== 0) process.stderr.write(`worker exited with ${code}: ${stderr}\n`)
      })
      children.push(child)
      return child
    },
    async kill(child) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done))
        child.kill('SIGKILL')
        await exited
      }
    },
    async killMidway(progress, timeoutMs, what, jitterMs = 0) {
      const child = self.start()
      await eventually(async () => ((await progress()) ? true : undefined), timeoutMs, what)
      if (jitterMs > 0) await sleep(Math.floor(Math.random() * jitterMs))
      await self.kill(child)
    },
    close() {
      for (const child of children) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return self
}
