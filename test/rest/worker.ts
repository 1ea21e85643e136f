import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'

export interface TestWorker {
  worker: StandaloneWorker
  base: string
  dir: string
  close(): Promise<void>
}

/** A real standalone worker on the embedded log: port 0, a temp data dir, quiet logs. */
export async function startTestWorker(
  props: Record<string, string> = {},
  protocol: 'http' | 'https' = 'http',
): Promise<TestWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rest-'))
  const config = new WorkerConfig({
    'sluice.data.dir': join(dir, 'data'),
    listeners: `${protocol}://127.0.0.1:0`,
    'offset.flush.interval.ms': '200',
    'log.level': 'warn',
    ...props,
  })
  const worker = await startStandalone(config)
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
