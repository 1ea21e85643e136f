/**
 * A stored resume token the server no longer has (`ChangeStreamHistoryLost`, code 286, with the
 * server's own message), scripted at the wire protocol since the test server never loses one.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, test } from 'node:test'
import { BSON } from 'mongodb'
import { ConnectError } from '../../../src/api/errors.ts'
import { readSourceSettings } from '../../../src/connectors/mongodb/source/config.ts'
import { defaultPartitionName } from '../../../src/connectors/mongodb/source/source-task.ts'
import { startSource } from './mongo-helpers.ts'
import { CHANGE_STREAM_HISTORY_LOST, type ScriptedMongo, startScriptedMongo } from './scripted-server.ts'

const TOKEN = '{"_data": "8263A1B2C3000000012B022C0100296E5A1004"}'

function changeStreamStage(command: Record<string, unknown>): Record<string, unknown> | undefined {
  const pipeline = command.pipeline as Record<string, Record<string, unknown>>[] | undefined
  return pipeline?.[0]?.$changeStream
}

describe('MongoDB source with a resume token that fell off the oplog', () => {
  let server: ScriptedMongo | undefined
  afterEach(async () => {
    await server?.close()
  })

  async function scripted(): Promise<ScriptedMongo> {
    let aggregates = 0
    server = await startScriptedMongo((command) => {
      if (!('aggregate' in command))
        return { ok: 0, errmsg: `unexpected ${Object.keys(command)[0]}`, code: 59 }
      aggregates++
      if (aggregates === 1) return CHANGE_STREAM_HISTORY_LOST
      return {
        cursor: {
          id: BSON.Long.fromNumber(0),
          ns: 'shop.orders',
          firstBatch: [],
          postBatchResumeToken: { _data: '82FF' },
        },
        ok: 1,
      }
    })
    return server
  }

  function offsetsFor(uri: string): Map<string, Record<string, unknown>> {
    const props = { 'connection.uri': uri, database: 'shop', collection: 'orders' }
    const partition = { ns: defaultPartitionName(readSourceSettings(props)) }
    return new Map([[JSON.stringify(partition), { _id: TOKEN }]])
  }

  test('with errors.tolerance=none the task fails saying what was lost and how to start over', async () => {
    const s = await scripted()
    const { task } = startSource(
      { 'connection.uri': s.uri, database: 'shop', collection: 'orders' },
      offsetsFor(s.uri),
    )
    await assert.rejects(task.poll(), (e: unknown) => {
      assert.ok(e instanceof ConnectError && !e.retriable)
      assert.match(e.message, /resume token stored for source partition .* is no longer in the oplog/)
      assert.match(e.message, /DELETE \/connectors\/<name>\/offsets|offset\.partition\.name/)
      return true
    })
    await task.stop()
    assert.deepEqual(changeStreamStage(s.commands[0]!)?.startAfter, JSON.parse(TOKEN))
  })

  test('with errors.tolerance=all it starts again per startup.mode, and says so in the task status', async () => {
    const s = await scripted()
    const { task, problems } = startSource(
      { 'connection.uri': s.uri, database: 'shop', collection: 'orders', 'errors.tolerance': 'all' },
      offsetsFor(s.uri),
    )
    assert.deepEqual(await task.poll(), [])
    assert.match(String(problems[0]), /no longer in the oplog/)
    await task.poll()
    await task.stop()
    assert.equal(problems.length, 1, 'the loss stays in the status after the stream reopened')
    const stages = s.commands.map((c) => changeStreamStage(c))
    assert.deepEqual(stages[0]?.startAfter, JSON.parse(TOKEN))
    assert.ok(
      stages[1] !== undefined && stages[1].startAfter === undefined && stages[1].resumeAfter === undefined,
      JSON.stringify(stages[1]),
    )
  })
})
