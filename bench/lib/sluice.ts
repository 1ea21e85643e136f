/**
 * Launches a Sluice worker the way connect-standalone is launched, from the built CLI that the
 * package ships (`dist/src/cli/main.js`, built once per bench run with `tsc`):
 *
 *   node dist/src/cli/main.js standalone worker.properties connector.properties…
 *
 * Running `src/cli/main.ts` instead (SLUICE_BENCH_FROM_SOURCE=1) adds Node's TypeScript stripping,
 * ~30 MB of RSS and ~0.1 s of start-up that users of the package never pay.
 *
 * Node gets the heap flags and the malloc setting the `sluice` launcher adds (src/cli/heap-limit.ts,
 * decisions 0028 and 0031).
 *
 * The Node 24 binary running the benchmark (`npx node` resolves it from the `node` devDependency)
 * is spawned directly rather than through `npx`, so npm's own process is neither timed nor charged
 * to Sluice's RSS.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { cgroupMemoryLimit, heapFlags, mallocEnv } from '../../src/cli/heap-limit.ts'
import { writeProperties } from './properties-file.ts'
import { spawnWorker, type WorkerProcess } from './worker-process.ts'

const root = resolve(import.meta.dirname, '..', '..')
const fromSource = process.env.SLUICE_BENCH_FROM_SOURCE === '1'
export const sluiceMain = fromSource
  ? join(root, 'src', 'cli', 'main.ts')
  : join(root, 'dist', 'src', 'cli', 'main.js')
let built = fromSource

/** Builds the CLI once per process, so the bench measures the current source. */
function ensureBuilt(): void {
  if (built) return
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  )
  built = true
}

export interface SluiceStandaloneOptions {
  cwd: string
  worker: Record<string, string | number>
  connectorFiles: string[]
  /** @default `<cwd>/worker.log` */
  logFile?: string
}

export function sluiceCliExists(): boolean {
  return existsSync(join(root, 'src', 'cli', 'main.ts'))
}

export function startSluiceStandalone(options: SluiceStandaloneOptions): WorkerProcess {
  return launch('standalone', options)
}

/** `sluice distributed worker.properties` (connectors are created over REST). */
export function startSluiceDistributed(
  options: Omit<SluiceStandaloneOptions, 'connectorFiles'>,
): WorkerProcess {
  return launch('distributed', { ...options, connectorFiles: [] })
}

function launch(mode: 'standalone' | 'distributed', options: SluiceStandaloneOptions): WorkerProcess {
  if (!sluiceCliExists()) throw new Error('src/cli/main.ts does not exist yet')
  ensureBuilt()
  // SLUICE_BENCH_WORKER_PROPS: extra worker keys for every Sluice worker of a bench, e.g.
  // `producer.buffer.memory=8388608,consumer.max.partition.fetch.bytes=524288`.
  const extra = Object.fromEntries(
    (process.env.SLUICE_BENCH_WORKER_PROPS ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  )
  const workerFile = writeProperties(
    join(options.cwd, 'worker.properties'),
    { ...options.worker, ...extra },
    `Sluice ${mode} worker, written by bench/lib/sluice.ts`,
  )
  // SLUICE_BENCH_NODE_ARGS: extra Node flags for the worker only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
  // (Node refuses --cpu-prof in NODE_OPTIONS, and there it would profile the bench too).
  const nodeArgs = (process.env.SLUICE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  // The heap flags the `sluice` launcher (bin/sluice.js) would add: the bench runs main directly.
  const heap = heapFlags({
    limitBytes: cgroupMemoryLimit(),
    nodeOptions: process.env.NODE_OPTIONS,
    execArgv: nodeArgs,
  })
  const args = [...heap, ...nodeArgs, sluiceMain, mode, workerFile, ...options.connectorFiles]
  return spawnWorker(process.execPath, args, {
    cwd: options.cwd,
    logFile: options.logFile ?? join(options.cwd, 'worker.log'),
    env: { ...process.env, ...mallocEnv(process.env) },
  })
}
