/**
 * A standalone worker restarted with the connector files it was started with resumes those connectors
 * from its data dir once; it does not stop and start them again to apply an identical file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'

const starts = () => (globalThis as { sluiceTestStarts?: { count: number } }).sluiceTestStarts?.count ?? 0

describe('standalone worker restarted with its connector files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-standalone-restart-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const config = () =>
    new WorkerConfig({
      'sluice.data.dir': join(dir, 'data'),
      listeners: 'http://127.0.0.1:0',
      'log.level': 'warn',
      'plugin.path': resolve(import.meta.dirname, 'fixtures'),
    })
  const file = join(dir, 'counting.properties')

  it('starts a stored connector once when its file is unchanged, and again when the file changed', async () => {
    writeFileSync(file, 'name=counting\nconnector.class=test.CountingSource\ntasks.max=1\n')
    let worker = await startStandalone(config(), [file])
    await worker.stop()
    assert.equal(starts(), 1)
    worker = await startStandalone(config(), [file])
    await worker.stop()
    assert.equal(starts(), 2, 'the unchanged connector was started twice by one worker start')
    writeFileSync(file, 'name=counting\nconnector.class=test.CountingSource\ntasks.max=2\n')
    worker = await startStandalone(config(), [file])
    try {
      assert.equal(starts(), 4, 'a changed file replaces the stored config (stop, start)')
      assert.equal(worker.herder.connectorConfig('counting')['tasks.max'], '2')
    } finally {
      await worker.stop()
    }
  })
})
