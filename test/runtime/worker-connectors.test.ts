/**
 * The worker's connector life cycle on its own (no log is touched: a connector instance needs none): a
 * connector stopped while its `start()` still runs must not come back as RUNNING when `start()` returns.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ConfigDef } from '../../src/api/config-def.ts'
import { type Props, SourceConnector } from '../../src/api/connector.ts'
import { createLogger } from '../../src/common/logger.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import type { Log } from '../../src/log/log.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { Worker } from '../../src/runtime/worker.ts'
import { FileOffsetStore } from '../../src/storage/local/file-offset-store.ts'
import { MemoryStatusStore } from '../../src/storage/memory-status-store.ts'
import { IdleSourceTask } from '../helpers/idle-source-task.ts'

const release = Promise.withResolvers<void>()
const started = Promise.withResolvers<void>()
let stops = 0

/** A connector whose external system answers only when the test says so. */
class SlowStartSource extends SourceConnector {
  version(): string {
    return '1'
  }
  config(): ConfigDef {
    return new ConfigDef()
  }
  async start(_props: Props): Promise<void> {
    started.resolve()
    await release.promise
  }
  taskConfigs(): Props[] {
    return [{}]
  }
  stop(): void {
    stops++
  }
  taskClass(): typeof IdleSourceTask {
    return IdleSourceTask
  }
}

describe('worker connectors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-worker-connectors-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('stops, and never reports RUNNING, a connector stopped while its start() was still running', async () => {
    const statuses = new MemoryStatusStore()
    const worker = new Worker({
      config: new WorkerConfig({ 'sluice.data.dir': join(dir, 'data') }),
      log: {} as Log,
      plugins: builtInPlugins().register({
        className: 'test.SlowStartSource',
        type: 'source',
        version: '1',
        create: () => new SlowStartSource(),
      }),
      offsetStore: await FileOffsetStore.open(join(dir, 'offsets.json')),
      statusListener: statuses,
      logger: createLogger({ level: 'silent' }),
      workerId: 'test:8083',
    })
    const starting = worker.startConnector(
      'slow',
      { name: 'slow', 'connector.class': 'test.SlowStartSource' },
      'STARTED',
      { onReconfigurationRequested: () => {} },
    )
    await started.promise
    await worker.stopConnector('slow')
    release.resolve()
    assert.equal(await starting, false, 'startConnector reports the connector did not start')
    assert.notEqual(statuses.connector('slow')?.state, 'RUNNING')
    assert.equal(stops, 1, 'the instance start() left running was stopped')
  })
})
