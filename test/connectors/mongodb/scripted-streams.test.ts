/**
 * What the test server cannot show, with server replies scripted at the wire protocol: database- and
 * deployment-wide change streams carrying events recorded from MongoDB (with `ns`), heartbeats from
 * `postBatchResumeToken`s on a quiet stream, and refused credentials.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, test } from 'node:test'
import { BSON } from 'mongodb'
import { ConnectError } from '../../../src/api/errors.ts'
import { record, startSink, startSource } from './mongo-helpers.ts'
import { type Command, type ScriptedMongo, startScriptedMongo } from './scripted-server.ts'

/** MongoDB's documented insert event on `engineering.users`, as a database-wide stream delivers it. */
const INSERT_EVENT = BSON.EJSON.parse(
  `{"_id": {"_data": "8263A1B2C3000000012B022C0100296E5A1004"}, "operationType": "insert",
    "clusterTime": {"$timestamp": {"t": 1668000000, "i": 1}}, "wallTime": {"$date": "2022-11-09T13:20:00Z"},
    "fullDocument": {"_id": {"$oid": "599af247bb69cd89961c986d"}, "userName": "alice123", "name": "Alice"},
    "ns": {"db": "engineering", "coll": "users"}, "documentKey": {"_id": {"$oid": "599af247bb69cd89961c986d"}}}`,
  { relaxed: false },
)

const stage = (c: Command) =>
  (c.pipeline as Record<string, Record<string, unknown>>[] | undefined)?.[0]?.$changeStream

describe('MongoDB connectors against scripted server replies', () => {
  let server: ScriptedMongo | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  /** Answers the change stream's aggregate with `first`, then empty getMores with moving tokens. */
  async function streamServer(first: BSON.Document[]): Promise<ScriptedMongo> {
    let n = 0
    server = await startScriptedMongo((command) => {
      n++
      const token = { _data: `8263A1B2C40000000${n}` }
      if ('aggregate' in command)
        return {
          cursor: {
            id: BSON.Long.fromNumber(42),
            ns: 'x.$cmd.aggregate',
            firstBatch: first,
            postBatchResumeToken: token,
          },
          ok: 1,
        }
      if ('getMore' in command)
        return {
          cursor: {
            id: BSON.Long.fromNumber(42),
            ns: 'x.$cmd.aggregate',
            nextBatch: [],
            postBatchResumeToken: token,
          },
          ok: 1,
        }
      return { ok: 0, code: 59, errmsg: `no such command: '${Object.keys(command)[0]}'` }
    })
    return server
  }

  test('a database-wide stream watches the database and routes each event by its ns', async () => {
    const s = await streamServer([INSERT_EVENT])
    const { task } = startSource({ 'connection.uri': s.uri, database: 'engineering', 'topic.prefix': 'cdc' })
    const records = (await task.poll()) ?? []
    await task.stop()
    assert.equal(s.commands[0]!.aggregate, 1)
    assert.equal(s.commands[0]!.$db, 'engineering')
    assert.deepEqual(
      records.map((r) => [r.topic, r.key]),
      [['cdc.engineering.users', '{"_id": {"$oid": "599af247bb69cd89961c986d"}}']],
    )
    assert.deepEqual(records[0]!.sourcePartition, { ns: `mongodb://${new URL(s.uri).host}/engineering` })
  })

  test('a deployment-wide stream asks for allChangesForCluster on admin', async () => {
    const s = await streamServer([INSERT_EVENT])
    const { task } = startSource({ 'connection.uri': s.uri, 'offset.partition.name': 'everything' })
    const records = (await task.poll()) ?? []
    await task.stop()
    assert.equal(s.commands[0]!.$db, 'admin')
    assert.equal(stage(s.commands[0]!)?.allChangesForCluster, true)
    assert.deepEqual(
      records.map((r) => [r.topic, r.sourcePartition]),
      [['engineering.users', { ns: 'everything' }]],
    )
  })

  test('a quiet stream sends heartbeats carrying the newest postBatchResumeToken, as the offset too', async () => {
    const s = await streamServer([])
    const { task } = startSource({
      'connection.uri': s.uri,
      database: 'shop',
      collection: 'orders',
      'heartbeat.interval.ms': '1',
    })
    let heartbeat: Awaited<ReturnType<typeof task.poll>> = []
    for (let i = 0; i < 5 && !heartbeat?.length; i++) {
      await new Promise((r) => setTimeout(r, 5))
      heartbeat = await task.poll()
    }
    await task.stop()
    const [h] = heartbeat ?? []
    assert.ok(h, 'a heartbeat record')
    assert.equal(h.topic, '__mongodb_heartbeats')
    assert.equal(h.value, null)
    assert.match(h.key as string, /^\{"_data": "8263A1B2C4/)
    assert.deepEqual(h.sourceOffset, { _id: h.key, HEARTBEAT: 'true' })
  })

  test('refused credentials fail the sink and the source with a message naming connection.uri', async () => {
    server = await startScriptedMongo(() => ({
      ok: 0,
      code: 18,
      codeName: 'AuthenticationFailed',
      errmsg: 'Authentication failed.',
    }))
    const uri = server.uri
      .replace('mongodb://', 'mongodb://app:wrong@')
      .replace('?', '?authMechanism=SCRAM-SHA-256&')
    const sink = startSink({ 'connection.uri': uri, database: 'd', collection: 'c' })
    await assert.rejects(sink.task.put([record('t', null, { a: 1 })]), (e: unknown) => {
      assert.ok(e instanceof ConnectError && e.code === 'CONFIG' && e.key === 'connection.uri', String(e))
      assert.match(
        e.message,
        /refused the credentials of connection\.uri \(mongodb:\/\/127\.0\.0\.1:\d+\).*fix the user, password or authSource/,
      )
      assert.doesNotMatch(e.message, /wrong/)
      return true
    })
    await sink.task.stop()
    const source = startSource({ 'connection.uri': uri, database: 'd', collection: 'c' })
    await assert.rejects(source.task.poll(), (e: unknown) => e instanceof ConnectError && e.code === 'CONFIG')
    await source.task.stop()
  })

  test('after copy_existing the last copied record stores the token the stream was opened at, so a restart streams instead of copying again', async () => {
    server = await startScriptedMongo((command) => {
      const first = (command.pipeline as Record<string, unknown>[] | undefined)?.[0] ?? {}
      if ('aggregate' in command && '$changeStream' in first)
        return {
          cursor: {
            id: BSON.Long.fromNumber(42),
            ns: 'shop.orders',
            firstBatch: [],
            postBatchResumeToken: { _data: '82OPEN' },
          },
          ok: 1,
        }
      if ('aggregate' in command) {
        const copied = [1, 2].map((id) => ({
          _id: { _id: id, copyingData: true },
          operationType: 'insert',
          ns: { db: 'shop', coll: 'orders' },
          documentKey: { _id: id },
          fullDocument: { _id: id },
        }))
        return { cursor: { id: BSON.Long.fromNumber(0), ns: 'shop.orders', firstBatch: copied }, ok: 1 }
      }
      if ('getMore' in command)
        return {
          cursor: {
            id: BSON.Long.fromNumber(42),
            ns: 'shop.orders',
            nextBatch: [],
            postBatchResumeToken: { _data: '82OPEN' },
          },
          ok: 1,
        }
      return { ok: 0, code: 59, errmsg: 'unexpected' }
    })
    const { task } = startSource({
      'connection.uri': server.uri,
      database: 'shop',
      collection: 'orders',
      'startup.mode': 'copy_existing',
    })
    const records = (await task.poll()) ?? []
    await task.stop()
    assert.deepEqual(
      records.map((r) => r.sourceOffset),
      [{ _id: '{"_id": 1, "copyingData": true}', copy: 'true' }, { _id: '{"_data": "82OPEN"}' }],
    )
  })
})
