/**
 * A source connector's own `offsets.storage.topic` on a standalone worker (the embedded log): as in
 * Kafka Connect the key has no effect there. The connector is accepted, its offsets are kept in the
 * worker's offset store (the offsets endpoint shows them, a restart resumes from them), and no topic
 * of that name is created.
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type StandaloneWorker, startStandalone } from '../../src/cli/standalone.ts'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { eventually, request } from '../helpers/rest.ts'

describe("a source connector's offsets.storage.topic on a standalone worker", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-offsets-topic-standalone-'))
  let worker: StandaloneWorker | undefined
  after(async () => {
    await worker?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async () => {
    worker = await startStandalone(
      new WorkerConfig({
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'offset.flush.interval.ms': '200',
        'log.level': 'warn',
      }),
    )
    return `http://127.0.0.1:${worker.rest.port}`
  }

  it('is accepted and has no effect: offsets stay in the worker store, no topic is created', async () => {
    let base = await start()
    const file = join(dir, 'in.txt')
    writeFileSync(file, '1\n2\n3\n')
    const created = await request(base, 'POST', '/connectors', {
      name: 'src',
      config: {
        'connector.class': 'FileStreamSource',
        file,
        topic: 'lines',
        'offsets.storage.topic': 'offsets-topic-src-offsets',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const offsets = () =>
      eventually(async () => {
        const res = await request<{ offsets: { offset: { position: number } }[] }>(
          base,
          'GET',
          '/connectors/src/offsets',
        )
        return res.body.offsets[0]?.offset.position === statSync(file).size ? res.body : undefined
      })
    await offsets()
    assert.ok(!(await worker!.log.listTopics()).includes('offsets-topic-src-offsets'))
    await worker!.stop()
    appendFileSync(file, '4\n')
    base = await start()
    await offsets()
    // Resumed after line 3: the topic has each line once.
    const end = await worker!.log.endOffsets([{ topic: 'lines', partition: 0 }])
    assert.equal([...end.values()][0], 4)
    assert.ok(!(await worker!.log.listTopics()).includes('offsets-topic-src-offsets'))
  })
})
