/**
 * A real standalone worker for tests, the set-up most suites share: the embedded log (unless `props`
 * set `bootstrap.servers`), the REST listener on a free port of 127.0.0.1, a fresh temporary data
 * dir, offsets flushed every 200 ms, logs at `warn`. `props` add to or override these worker keys.
 * `close()` stops the worker and removes the directory; `dir` is there for a test's own files.
 * `distributedTestConfig` is the config of a distributed worker on the test broker.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { DistributedConfig } from '../../src/config/distributed-config.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { kafkaBootstrap } from './services.ts'

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

/**
 * A distributed worker of group `group` on the test broker: its internal topics `<group>-configs`,
 * `-offsets` and `-status` with replication factor 1, the REST listener on a free port of
 * 127.0.0.1, logs at `warn`. `props` add to or override these keys.
 */
export function distributedTestConfig(group: string, props: Record<string, string> = {}): DistributedConfig {
  return new DistributedConfig({
    'bootstrap.servers': kafkaBootstrap(),
    'group.id': group,
    'config.storage.topic': `${group}-configs`,
    'offset.storage.topic': `${group}-offsets`,
    'status.storage.topic': `${group}-status`,
    'config.storage.replication.factor': '1',
    'offset.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    listeners: 'http://127.0.0.1:0',
    'log.level': 'warn',
    ...props,
  })
}
