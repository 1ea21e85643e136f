import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { startDistributed } from '../../src/cli/distributed.ts'
import { startStandalone } from '../../src/cli/standalone.ts'
import { DistributedConfig } from '../../src/config/distributed-config.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'

const refusal = (key: string) => (e: Error & { key?: string }) =>
  e.key === key && e.message.includes(key) && e.message.includes('Installed:')

describe('a worker config naming a converter that is not installed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-worker-plugins-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('stops a standalone worker from starting, naming the key and the installed classes', async () => {
    await assert.rejects(
      startStandalone(
        new WorkerConfig({
          'sluice.data.dir': join(dir, 'data'),
          listeners: 'http://127.0.0.1:0',
          'key.converter': 'com.example.Missing',
          'log.level': 'error',
        }),
      ),
      refusal('key.converter'),
    )
  })

  it('stops a distributed worker from starting, before it contacts Kafka', async () => {
    await assert.rejects(
      startDistributed(
        new DistributedConfig({
          'bootstrap.servers': '127.0.0.1:1',
          'group.id': 'g',
          'config.storage.topic': 'c',
          'offset.storage.topic': 'o',
          'status.storage.topic': 's',
          'value.converter': 'com.example.Missing',
          'log.level': 'error',
        }),
      ),
      refusal('value.converter'),
    )
  })
})
