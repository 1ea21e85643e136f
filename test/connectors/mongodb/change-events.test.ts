/**
 * Change events the test server cannot produce (update and replace events, database-wide streams),
 * taken from MongoDB's change-event documentation and the official connector's tests
 * (`sink/cdc/mongodb/operations/UpdateTest`, `sink/cdc/debezium/mongodb/MongoDbUpdateTest`), applied
 * by the sink's CDC handlers against the test server, and mapped and formatted as the source does.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BSON, ObjectId } from 'mongodb'
import { readSourceSettings } from '../../../src/connectors/mongodb/source/config.ts'
import { formatJson } from '../../../src/connectors/mongodb/source/json-formatter.ts'
import { TopicMapper } from '../../../src/connectors/mongodb/source/record-output.ts'
import { mongoSkipReason } from '../../helpers/services.ts'
import { mongoTestDatabase, record, startSink } from './mongo-helpers.ts'

const skip = mongoSkipReason()

/** MongoDB's documented update event (users of `engineering`), without `fullDocument`. */
const UPDATE_EVENT = `{"_id": {"_data": "5f15aab12435743f9bd126a4"}, "operationType": "update",
  "clusterTime": {"$timestamp": {"t": 123456789, "i": 42}}, "wallTime": {"$date": "2026-01-02T03:04:05.678Z"},
  "ns": {"db": "engineering", "coll": "users"}, "documentKey": {"_id": {"$oid": "599af247bb69cd89961c986d"}},
  "updateDescription": {"updatedFields": {"email": "alice@10gen.com"}, "removedFields": ["phoneNumber"],
    "truncatedArrays": [{"field": "foo", "newSize": 1}], "disambiguatedPaths": {"home.town": ["home.town"]}}}`
const REPLACE_EVENT = `{"_id": {"_data": "5f15aab12435743f9bd126a5"}, "operationType": "replace",
  "clusterTime": {"$timestamp": {"t": 123456790, "i": 1}}, "ns": {"db": "engineering", "coll": "users"},
  "documentKey": {"_id": {"$oid": "599af247bb69cd89961c986d"}},
  "fullDocument": {"_id": {"$oid": "599af247bb69cd89961c986d"}, "userName": "alice123", "name": "Alice"}}`
const DELETE_EVENT = `{"_id": {"_data": "5f15aab12435743f9bd126a6"}, "operationType": "delete",
  "ns": {"db": "engineering", "coll": "users"}, "documentKey": {"_id": {"$oid": "599af247bb69cd89961c986d"}}}`
const ALICE = new ObjectId('599af247bb69cd89961c986d')

describe('change events recorded from MongoDB, applied by the sink handlers', { skip }, () => {
  const mongo = mongoTestDatabase('events')
  const database = mongo.name

  test('ChangeStreamHandler: an update without fullDocument becomes $set/$unset, a replace replaces, a delete deletes', async () => {
    const users = mongo.client.db(database).collection('users')
    await users.insertOne({ _id: ALICE, name: 'Alice', email: 'old@example.com', phoneNumber: '555' })
    const { task, reported } = startSink({
      database,
      collection: 'users',
      'change.data.capture.handler': 'com.mongodb.kafka.connect.sink.cdc.mongodb.ChangeStreamHandler',
    })
    await task.put([record('t', null, UPDATE_EVENT)])
    assert.deepEqual(await users.findOne({ _id: ALICE }), {
      _id: ALICE,
      name: 'Alice',
      email: 'alice@10gen.com',
    })
    await task.put([record('t', null, REPLACE_EVENT)])
    assert.deepEqual(await users.findOne({ _id: ALICE }), { _id: ALICE, userName: 'alice123', name: 'Alice' })
    await task.put([
      record('t', null, DELETE_EVENT),
      record(
        't',
        null,
        '{"operationType": "update", "documentKey": {"_id": 1}, "updateDescription": {"updatedFields": {}, "removedFields": [], "surprise": 1}}',
      ),
    ])
    await task.stop()
    assert.equal(await users.countDocuments(), 0)
    assert.equal(reported.length, 1)
    assert.match(reported[0]!.error.message, /unexpected field\(s\) in updateDescription \[surprise\]/)
  })

  test("MongoDbHandler: Debezium's MongoDB events (oplog patches as Extended JSON strings) insert, patch and delete", async () => {
    const coll = mongo.client.db(database).collection('debezium')
    const { task, reported } = startSink({
      database,
      collection: 'debezium',
      'change.data.capture.handler': 'com.mongodb.kafka.connect.sink.cdc.debezium.mongodb.MongoDbHandler',
    })
    await task.put([
      record(
        't',
        { id: '1234' },
        { op: 'c', after: '{"_id": 1234, "first_name": "Grace", "last_name": "Hopper"}' },
      ),
      record('t', { id: '1234' }, { op: 'u', patch: '{"$v": 1, "$set": {"first_name": "Amazing Grace"}}' }),
      record('t', { id: '5' }, { op: 'c', after: '{"_id": 5, "x": 1}' }),
      record('t', { id: '5' }, { op: 'd' }),
      record('t', { id: '5' }, null), // Debezium's tombstone: skipped
    ])
    await task.stop()
    assert.deepEqual(reported, [])
    assert.deepEqual(await coll.find({}).toArray(), [
      { _id: 1234, first_name: 'Amazing Grace', last_name: 'Hopper' },
    ])
  })

  test('RdbmsHandler: a table without a key uses the before image; without it the error says what to change', async () => {
    const { task, reported } = startSink({
      database,
      collection: 'keyless',
      'change.data.capture.handler': 'com.mongodb.kafka.connect.sink.cdc.debezium.rdbms.RdbmsHandler',
    })
    await task.put([
      record('t', null, { op: 'c', before: null, after: { a: 1, b: 'x' } }),
      record('t', null, { op: 'u', before: null, after: { a: 1, b: 'y' } }),
    ])
    await task.stop()
    assert.equal(reported.length, 1)
    assert.match(reported[0]!.error.message, /REPLICA IDENTITY FULL/)
  })
})

describe('source topic mapping and JSON of events from database- and deployment-wide streams', () => {
  const event = BSON.EJSON.parse(UPDATE_EVENT, { relaxed: false }) as Record<string, unknown>
  const settings = (props: Record<string, string>) =>
    readSourceSettings({ 'connection.uri': 'mongodb://h1,h2', ...props })

  test('the namespace map: an exact namespace, a database, the * catch-all, then prefix and suffix', () => {
    assert.equal(new TopicMapper(settings({})).topic(event), 'engineering.users')
    assert.equal(
      new TopicMapper(settings({ 'topic.namespace.map': '{"engineering": "eng"}' })).topic(event),
      'eng.users',
    )
    assert.equal(
      new TopicMapper(
        settings({ 'topic.namespace.map': '{"engineering.users": "people", "engineering": "eng"}' }),
      ).topic(event),
      'people',
    )
    assert.equal(
      new TopicMapper(settings({ 'topic.namespace.map': '{"*": "everything"}' })).topic(event),
      'everything',
    )
    assert.equal(
      new TopicMapper(
        settings({ 'topic.prefix': 'pre', 'topic.suffix': 'suf', 'topic.separator': '-' }),
      ).topic(event),
      'pre-engineering-users-suf',
    )
    // dropDatabase events name only the database
    assert.equal(
      new TopicMapper(settings({})).topic({ operationType: 'dropDatabase', ns: { db: 'engineering' } }),
      'engineering',
    )
  })

  test('DefaultJson writes what the official connector writes (JsonMode.STRICT), ExtendedJson the canonical form', () => {
    assert.equal(
      formatJson(event, 'default'),
      '{"_id": {"_data": "5f15aab12435743f9bd126a4"}, "operationType": "update", "clusterTime": {"$timestamp": {"t": 123456789, "i": 42}}, ' +
        '"wallTime": {"$date": 1767323045678}, "ns": {"db": "engineering", "coll": "users"}, "documentKey": {"_id": {"$oid": "599af247bb69cd89961c986d"}}, ' +
        '"updateDescription": {"updatedFields": {"email": "alice@10gen.com"}, "removedFields": ["phoneNumber"], "truncatedArrays": [{"field": "foo", "newSize": 1}], ' +
        '"disambiguatedPaths": {"home.town": ["home.town"]}}}',
    )
    assert.equal(
      formatJson({ n: new BSON.Int32(1), l: BSON.Long.fromNumber(2), d: new BSON.Double(1) }, 'extended'),
      '{"n": {"$numberInt": "1"}, "l": {"$numberLong": "2"}, "d": {"$numberDouble": "1.0"}}',
    )
    assert.equal(
      formatJson({ n: new BSON.Int32(1), l: BSON.Long.fromNumber(2), d: new BSON.Double(1) }, 'default'),
      '{"n": 1, "l": {"$numberLong": "2"}, "d": 1.0}',
    )
    assert.equal(
      formatJson({ id: ALICE, at: new Date(0) }, 'simplified'),
      '{"id": "599af247bb69cd89961c986d", "at": "1970-01-01T00:00:00.000Z"}',
    )
  })
})
