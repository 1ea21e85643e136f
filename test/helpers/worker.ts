/**
 * A real standalone worker for tests, the set-up most suites share: the embedded log (unless `props`
 * set `bootstrap.servers`), the REST listener on a free port of 127.0.0.1, a fresh temporary data
 * dir, offsets flushed every 200 ms, logs at `warn`. `props` add to or override these worker keys.
 * `close()` stops the worker and removes the directory; `dir` is there for a test's own files.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'

export interface TestWorker {
  worker: StandaloneWorker
  /** The REST API's base URL, `http://127.0.0.1:<port>`. */
  base: string
  /** The temporary directory; the worker's data is under `dir/data`. */
  dir: string
  close(): Promise<void>
}

export async function startTestWorker(
  props: Record<string, string> = {},
  protocol: 'http' | 'https' = 'http',
): Promise<TestWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-worker-'))
  let worker: StandaloneWorker
  try {
    worker = await startStandalone(
      new WorkerConfig({
        'sluice.data.dir': join(dir, 'data'),
        listeners: `${protocol}://127.0.0.1:0`,
        'offset.flush.interval.ms': '200',
        'log.level': 'warn',
        ...props,
      }),
    )
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    worker,
    dir,
    base: `${protocol}://127.0.0.1:${worker.rest.port}`,
    async close() {
      await worker.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
