/**
 * Launches a Sluice worker the way connect-standalone is launched:
 *
 *   node src/cli/main.ts standalone worker.properties connector.properties…
 *
 * The Node 24 binary running the benchmark (`npx node` resolves it from the `node` devDependency)
 * is spawned directly rather than through `npx`, so npm's own process is neither timed nor charged
 * to Sluice's RSS.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeProperties } from './properties-file.ts'
import { spawnWorker, type WorkerProcess } from './worker-process.ts'

const root = resolve(import.meta.dirname, '..', '..')
export const sluiceMain = join(root, 'src', 'cli', 'main.ts')

export interface SluiceStandaloneOptions {
  cwd: string
  worker: Record<string, string | number>
  connectorFiles: string[]
  /** @default `<cwd>/worker.log` */
  logFile?: string
}

export function sluiceCliExists(): boolean {
  return existsSync(sluiceMain)
}

export function startSluiceStandalone(options: SluiceStandaloneOptions): WorkerProcess {
  if (!sluiceCliExists()) throw new Error(`${sluiceMain} does not exist yet`)
  const workerFile = writeProperties(
    join(options.cwd, 'worker.properties'),
    options.worker,
    'Sluice standalone worker, written by bench/lib/sluice.ts',
  )
  return spawnWorker(process.execPath, [sluiceMain, 'standalone', workerFile, ...options.connectorFiles], {
    cwd: options.cwd,
    logFile: options.logFile ?? join(options.cwd, 'worker.log'),
  })
}
