import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { MongoClient } from 'mongodb'
import { MongoTestServer } from '../../../scripts/mongo.ts'
import { ConnectError, RetriableError } from '../../../src/api/errors.ts'
import { eventually, request } from '../../helpers/rest.ts'
import { mongoSkipReason } from '../../helpers/services.ts'
import { startTestWorker } from '../../helpers/worker.ts'
import { pollRecords, record, startSink, startSource } from './mongo-helpers.ts'

const skip = mongoSkipReason()
const root = join(import.meta.dirname, '..', '..', '..')

describe('MongoDB connectors when the server goes away and comes back', { skip }, () => {
  const server = new MongoTestServer({ port: 27119, stateDir: join(root, '.services', 'mongo-restart-test') })
  const uri = `${server.uri}&serverSelectionTimeoutMS=1000`
  before(async () => {
    await server.stop('SIGKILL') // left by an interrupted run
    await server.start()
  })
  after(async () => {
    await server.stop('SIGKILL')
  })

  test('the sink asks for the batch again with a growing backoff while the server is down, and writes it once it is back', async () => {
    const { task, timeouts } = startSink({
      'connection.uri': uri,
      database: 'restart',
      collection: 'c',
      'document.id.strategy': 'com.mongodb.kafka.connect.sink.processor.id.strategy.ProvidedInValueStrategy',
    })
    await task.put([record('t', null, { _id: 1 })])
    await server.stop('SIGKILL')
    const batch = [record('t', null, { _id: 2 }), record('t', null, { _id: 3 })]
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        task.put(batch),
        (e: unknown) =>
          e instanceof RetriableError && /unreachable while writing to restart\.c/.test(e.message),
      )
    }
    assert.deepEqual(timeouts, [1000, 2000])
    await server.start()
    await task.put(batch) // the runtime redelivers the same batch
    await task.stop()
    const client = new MongoClient(server.uri)
    const ids = (await client.db('restart').collection('c').find({}).toArray()).map((d) => d._id)
    await client.close()
    assert.deepEqual(ids.sort(), [2, 3]) // the in-memory server restarted empty: only what came after
  })

  test('the source reports the outage in its status, keeps polling, and streams again once the server is back', async () => {
    const client = new MongoClient(uri)
    const coll = client.db('restart').collection('events')
    const { task, problems } = startSource({
      'connection.uri': uri,
      database: 'restart',
      collection: 'events',
    })
    assert.deepEqual(await task.poll(), [])
    await coll.insertOne({ _id: 'before' as never })
    assert.equal((await pollRecords(task, 1)).length, 1)
    await server.stop('SIGKILL')
    const during = await pollRecords(task, 1, 3000)
    assert.deepEqual(during, [])
    assert.ok(
      problems[0] instanceof ConnectError && problems[0].retriable,
      `problems: ${problems.map(String).join(', ')}`,
    )
    assert.match(problems[0]!.message, /unreachable while reading the change stream/)
    await server.start()
    await coll.insertOne({ _id: 'after' as never })
    const records = await pollRecords(task, 1, 20_000)
    await task.stop()
    await client.close()
    assert.deepEqual(
      records.map((r) => r.key),
      ['{"_id": "after"}'],
    )
    assert.equal(problems.at(-1), null) // cleared once streaming again
  })

  test("in a worker, the source's outage shows as the trace of its RUNNING task status and clears once the server is back", async () => {
    const w = await startTestWorker()
    try {
      const created = await request(w.base, 'POST', '/connectors', {
        name: 'mongo-outage',
        config: {
          'connector.class': 'MongoSourceConnector',
          'connection.uri': uri,
          database: 'restart',
          collection: 'status',
          'poll.await.time.ms': '300',
        },
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const status = async () =>
        (
          await request<{ tasks: { state: string; trace?: string }[] }>(
            w.base,
            'GET',
            '/connectors/mongo-outage/status',
          )
        ).body.tasks[0]
      await eventually(
        async () => ((await status())?.state === 'RUNNING' ? true : undefined),
        30_000,
        'the task to run',
      )
      await server.stop('SIGKILL')
      const down = await eventually(
        async () => {
          const t = await status()
          return t?.trace?.includes('unreachable while reading the change stream') ? t : undefined
        },
        30_000,
        'the outage in the status',
      )
      assert.equal(down.state, 'RUNNING')
      await server.start()
      await eventually(
        async () => {
          const t = await status()
          return t?.state === 'RUNNING' && t.trace === undefined ? true : undefined
        },
        60_000,
        'the trace to clear',
      )
    } finally {
      await w.close()
    }
  })
})
