import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BSON } from 'mongodb'
import { Struct } from '../../../src/api/data/struct.ts'
import { DataError } from '../../../src/api/errors.ts'
import { mongoSkipReason, mongoUrl } from '../../helpers/services.ts'
import { mongoTestDatabase, pollRecords, startSource } from './mongo-helpers.ts'

const skip = mongoSkipReason()

describe('MongoDB source against the test server (collection change streams)', { skip }, () => {
  const mongo = mongoTestDatabase('source')
  const database = mongo.name

  test('inserts and deletes become records on <db>.<coll>, keyed by documentKey, with resume-token offsets under the official partition', async () => {
    const coll = mongo.client.db(database).collection('orders')
    await coll.insertOne({ _id: 'warmup' as never })
    const { task } = startSource({ database, collection: 'orders' })
    assert.deepEqual(await task.poll(), []) // opens the stream at "now"
    await coll.insertOne({ _id: 'o1' as never, total: BSON.Long.fromNumber(5), at: new Date(0) })
    await coll.deleteOne({ _id: 'o1' as never })
    const records = await pollRecords(task, 2)
    await task.stop()
    assert.equal(records.length, 2)
    const [insert, del] = records as [(typeof records)[0], (typeof records)[0]]
    assert.equal(insert.topic, `${database}.orders`)
    assert.deepEqual(insert.sourcePartition, {
      ns: `mongodb://127.0.0.1:${new URL(mongoUrl()).port}/${database}.orders`,
    })
    assert.equal(insert.key, '{"_id": "o1"}')
    const event = JSON.parse(insert.value as string)
    assert.equal(event.operationType, 'insert')
    assert.deepEqual(event.fullDocument, { _id: 'o1', total: { $numberLong: '5' }, at: { $date: 0 } }) // DefaultJson is JsonMode.STRICT
    assert.deepEqual(JSON.parse(insert.sourceOffset!._id as string), event._id)
    assert.match(insert.sourceOffset!._id as string, /^\{"_data": "[0-9a-f]+"\}$/)
    assert.equal(JSON.parse(del.value as string).operationType, 'delete')
  })

  test('publish.full.document.only with a $match pipeline publishes the inserted documents only; a restart resumes after the stored token', async () => {
    const coll = mongo.client.db(database).collection('outbox')
    const props = {
      database,
      collection: 'outbox',
      pipeline: '[{"$match": {"operationType": "insert"}}]',
      'publish.full.document.only': 'true',
      'output.json.formatter': 'com.mongodb.kafka.connect.source.json.formatter.SimplifiedJson',
    }
    const first = startSource(props)
    assert.deepEqual(await first.task.poll(), [])
    await coll.insertOne({ _id: 1 as never, v: 'a' })
    await coll.deleteOne({ _id: 1 as never })
    await coll.insertOne({ _id: 2 as never, v: 'b' })
    const records = await pollRecords(first.task, 2)
    await first.task.stop()
    assert.deepEqual(
      records.map((r) => JSON.parse(r.value as string)),
      [
        { _id: 1, v: 'a' },
        { _id: 2, v: 'b' },
      ],
    )
    await coll.insertOne({ _id: 3 as never, v: 'c' })
    const last = records.at(-1)!
    const offsets = new Map([
      [JSON.stringify(last.sourcePartition), last.sourceOffset as Record<string, unknown>],
    ])
    const second = startSource(props, offsets)
    const resumed = await pollRecords(second.task, 1)
    await second.task.stop()
    assert.deepEqual(
      resumed.map((r) => JSON.parse(r.value as string)),
      [{ _id: 3, v: 'c' }],
    )
  })

  test('startup.mode=copy_existing publishes the existing documents as insert events, then the changes made since', async () => {
    const coll = mongo.client.db(database).collection('existing')
    await coll.insertMany([
      { _id: 1 as never, n: 1 },
      { _id: 2 as never, n: 2 },
      { _id: 3 as never, n: 3, excluded: true },
    ])
    const { task } = startSource({
      database,
      collection: 'existing',
      'startup.mode': 'copy_existing',
      'startup.mode.copy.existing.pipeline': '[{"$match": {"excluded": {"$exists": false}}}]',
      'output.json.formatter': 'com.mongodb.kafka.connect.source.json.formatter.SimplifiedJson',
    })
    const copied = await pollRecords(task, 2)
    await coll.insertOne({ _id: 4 as never, n: 4 })
    const streamed = await pollRecords(task, 1)
    await task.stop()
    assert.deepEqual(
      copied.map((r) => [JSON.parse(r.value as string).fullDocument._id, r.sourceOffset!.copy]),
      [
        [1, 'true'],
        [2, 'true'],
      ],
    )
    assert.deepEqual(JSON.parse(copied[0]!.value as string)._id, { _id: 1, copyingData: true })
    assert.equal(JSON.parse(copied[0]!.value as string).operationType, 'insert')
    assert.deepEqual(
      streamed.map((r) => [JSON.parse(r.value as string).fullDocument._id, r.sourceOffset!.copy]),
      [[4, undefined]],
    )
  })

  test('output formats: bson bytes, a schema inferred from the document, the default Avro key schema', async () => {
    const coll = mongo.client.db(database).collection('formats')
    const { task } = startSource({
      database,
      collection: 'formats',
      'publish.full.document.only': 'true',
      'output.format.key': 'bson',
      'output.format.value': 'schema',
      'output.schema.infer.value': 'true',
    })
    assert.deepEqual(await task.poll(), [])
    await coll.insertOne({ _id: 7 as never, name: 'x', n: BSON.Long.fromNumber(9), tags: ['a'] })
    const [r] = await pollRecords(task, 1)
    await task.stop()
    assert.ok(r)
    assert.deepEqual(BSON.deserialize(r.key as Uint8Array), { _id: 7 })
    assert.ok(r.value instanceof Struct)
    assert.equal(r.value.get('name'), 'x')
    assert.equal(r.value.get('n'), 9n)
    assert.deepEqual(r.value.get('tags'), ['a'])
    assert.equal(r.valueSchema?.field('n')?.schema.type, 'INT64')

    const keyed = startSource({
      database,
      collection: 'formats',
      'output.format.key': 'schema',
      'output.format.value': 'schema',
    })
    assert.deepEqual(await keyed.task.poll(), [])
    await coll.insertOne({ _id: 8 as never })
    const [k] = await pollRecords(keyed.task, 1)
    await keyed.task.stop()
    assert.ok(k?.key instanceof Struct && k.value instanceof Struct)
    assert.match(k.key.get('_id') as string, /^\{"_data": "/)
    assert.equal(k.value.get('operationType'), 'insert')
    assert.equal(k.value.get('fullDocument'), '{"_id": 8}')
  })

  test('a document that does not fit output.schema.value fails the poll naming the field, or with errors.tolerance=all is skipped', async () => {
    const coll = mongo.client.db(database).collection('strict')
    const props = {
      database,
      collection: 'strict',
      'publish.full.document.only': 'true',
      'output.format.value': 'schema',
      'output.schema.value':
        '{"type": "record", "name": "Order", "fields": [{"name": "_id", "type": "int"}, {"name": "total", "type": "long"}]}',
    }
    const strict = startSource(props)
    assert.deepEqual(await strict.task.poll(), [])
    await coll.insertOne({ _id: 1 as never })
    await assert.rejects(
      pollRecords(strict.task, 1),
      (e: unknown) => e instanceof DataError && /required field 'total'/.test(e.message),
    )
    await strict.task.stop()

    const tolerant = startSource({ ...props, 'errors.tolerance': 'all' })
    assert.deepEqual(await tolerant.task.poll(), [])
    await coll.insertOne({ _id: 2 as never })
    await coll.insertOne({ _id: 3 as never, total: 30 })
    const records = await pollRecords(tolerant.task, 1)
    await tolerant.task.stop()
    assert.deepEqual(
      records.map((r) => [(r.value as Struct).get('_id'), (r.value as Struct).get('total')]),
      [[3, 30]],
    )
  })
})
