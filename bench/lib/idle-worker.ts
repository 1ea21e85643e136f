/**
 * Start-up and idle memory of a worker with no connectors: spawn, poll `GET /` until it answers
 * (start→REST-ready), let it settle, then take the median of a few RSS samples (idle RSS).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type BenchCase, freePort } from './cases.ts'
import { treeRssBytes } from './rss.ts'
import { median } from './stats.ts'
import { waitRestReady } from './worker-process.ts'

export interface IdleMeasurement {
  readyMs: number
  rssAtReadyBytes: number
  idleRssBytes: number
}

export async function measureIdle(
  bench: BenchCase,
  options: { dir: string; bootstrap?: string; settleMs: number; offsetFlushIntervalMs: number },
): Promise<IdleMeasurement> {
  mkdirSync(options.dir, { recursive: true })
  const port = await freePort()
  const worker = bench.start({
    cwd: options.dir,
    port,
    bootstrap: bench.kafka ? options.bootstrap : undefined,
    connectorFiles: [],
    offsetFlushIntervalMs: options.offsetFlushIntervalMs,
  })
  try {
    const readyMs = await waitRestReady(worker, port, 120_000)
    const rssAtReadyBytes = treeRssBytes(worker.pid)
    await sleep(options.settleMs)
    const samples: number[] = []
    for (let i = 0; i < 10; i++) {
      samples.push(treeRssBytes(worker.pid))
      await sleep(100)
    }
    if (worker.exit() !== undefined) {
      throw new Error(`${bench.label} exited (${worker.exit()}) while idle:\n${worker.logTail()}`)
    }
    return { readyMs, rssAtReadyBytes, idleRssBytes: median(samples) }
  } finally {
    await worker.stop()
  }
}

export function idleDir(runDir: string, caseName: string, repeat: number): string {
  return join(runDir, `${caseName}-idle-${repeat}`)
}
