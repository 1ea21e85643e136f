// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${provider:path:key}` references are the subject here
/**
 * A task whose config holds references waits for the providers before it is built; a stop that
 * comes while they have not answered ends it quietly: nothing is built, started or reported.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { ConfigData, ConfigProvider } from '../../src/api/config-provider.ts'
import { createLogger } from '../../src/common/logger.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import type { Log } from '../../src/log/log.ts'
import { builtInPlugins } from '../../src/plugins/built-ins.ts'
import { ConfigProviders } from '../../src/runtime/config-transformer.ts'
import { Worker } from '../../src/runtime/worker.ts'
import { FileOffsetStore } from '../../src/storage/local/file-offset-store.ts'
import { MemoryStatusStore } from '../../src/storage/memory-status-store.ts'

const answer = Promise.withResolvers<void>()
const asked = Promise.withResolvers<void>()

/** A provider whose backend answers only when the test says so (a Kubernetes API under load). */
class SlowProvider implements ConfigProvider {
  configure(): void {}
  async get(_path: string, keys: ReadonlySet<string>): Promise<ConfigData> {
    asked.resolve()
    await answer.promise
    return { data: Object.fromEntries([...keys].map((k) => [k, `value-of-${k}`])) }
  }
}

describe('a task waiting for its config providers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-resolving-task-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('is known to the worker at once, and a stop before the providers answer ends it quietly', async () => {
    const plugins = builtInPlugins().register({
      className: 'test.SlowProvider',
      type: 'config_provider',
      version: '1',
      create: () => new SlowProvider(),
    })
    const statuses = new MemoryStatusStore()
    let producers = 0
    const worker = new Worker({
      config: new WorkerConfig({ 'sluice.data.dir': join(dir, 'data') }),
      log: {
        createProducer: () => {
          producers++
          throw new Error('no task may be built')
        },
      } as unknown as Log,
      plugins,
      offsetStore: await FileOffsetStore.open(join(dir, 'offsets.json')),
      statusListener: statuses,
      logger: createLogger({ level: 'silent' }),
      workerId: 'test:8083',
      configProviders: await ConfigProviders.fromWorkerConfig(
        { 'config.providers': 'slow', 'config.providers.slow.class': 'test.SlowProvider' },
        plugins,
      ),
    })
    const id = { connector: 'c', task: 0 }
    const props = {
      name: 'c',
      'connector.class': 'FileStreamSource',
      topic: 't',
      file: '${slow:path:file}',
    }
    worker.startTask(id, props, props, 'STARTED')
    assert.deepEqual(worker.runningTasks(), [id], 'the worker knows the task before it is built')
    assert.throws(() => worker.startTask(id, props, props, 'STARTED'), /already running/)
    await asked.promise
    const stopping = worker.stopTasks([id])
    answer.resolve()
    await stopping
    assert.deepEqual(worker.runningTasks(), [])
    assert.equal(producers, 0, 'nothing was built')
    assert.equal(statuses.task(id), undefined, 'nothing was reported')
  })
})
