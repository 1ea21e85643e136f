/**
 * Bad registry and proxy settings fail the worker's start with the key named and the fix said.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startStandalone } from '../../../src/cli/standalone.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'

test('a listener that is not http(s)://host:port is refused naming the key', () => {
  assert.throws(
    () => new WorkerConfig({ 'schema.registry.listeners': 'tcp://0.0.0.0:8081' }),
    (e: Error & { key?: string }) =>
      e.key === 'schema.registry.listeners' && /http:\/\/host:port/.test(e.message),
  )
  assert.throws(
    () => new WorkerConfig({ 'rest.proxy.listeners': 'localhost:8082' }),
    (e: Error & { key?: string }) => e.key === 'rest.proxy.listeners',
  )
  assert.throws(
    () => new WorkerConfig({ 'schema.registry.compatibility.level': 'SIDEWAYS' }),
    (e: Error & { key?: string }) =>
      e.key === 'schema.registry.compatibility.level' && /BACKWARD/.test(e.message),
  )
})

test('a registry topic with more than one partition stops the start, naming the topic and the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-config-'))
  try {
    const props = {
      'sluice.data.dir': join(dir, 'data'),
      listeners: 'http://127.0.0.1:0',
      'schema.registry.listeners': 'http://127.0.0.1:0',
      'schema.registry.topic': 'two-partitions',
      'log.level': 'error',
    }
    const log = await createLog(new WorkerConfig(props), 'setup')
    await log.createTopics([{ name: 'two-partitions', partitions: 2 }])
    await log.close()
    await assert.rejects(
      startStandalone(new WorkerConfig(props)),
      /'two-partitions' has 2 partitions.*schema\.registry\.topic/,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
