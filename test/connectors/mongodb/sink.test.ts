import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Decimal128, Double, Long, ObjectId } from 'mongodb'
import { BigDecimal } from '../../../src/api/data/big-decimal.ts'
import { Decimal, TimestampType } from '../../../src/api/data/logical-types.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { ConfigError, DataError } from '../../../src/api/errors.ts'
import { MongoSinkConnector } from '../../../src/connectors/mongodb/sink/connector.ts'
import { mongoSkipReason } from '../../helpers/services.ts'
import { mongoTestDatabase, record, startSink } from './mongo-helpers.ts'

const skip = mongoSkipReason()
const S = 'com.mongodb.kafka.connect.sink.processor.id.strategy.'
const W = 'com.mongodb.kafka.connect.sink.writemodel.strategy.'
const PP = 'com.mongodb.kafka.connect.sink.processor.'

describe('MongoDB sink against the test server', { skip }, () => {
  const mongo = mongoTestDatabase('sink')
  const database = mongo.name
  const docs = (coll: string) =>
    mongo.client.db(database).collection(coll).find({}).sort({ _id: 1 }).toArray()

  test('the defaults: a new ObjectId per record, ReplaceOne upsert, collection named after the topic', async () => {
    const { task, reported } = startSink({ database })
    await task.put([
      record('people', null, { name: 'ada', age: 36 }),
      record('people', null, '{"name": "bob", "n": {"$numberLong": "7"}}'),
    ])
    await task.stop()
    const written = await docs('people')
    assert.equal(written.length, 2)
    assert.deepEqual(reported, [])
    assert.ok(written.every((d) => d._id instanceof ObjectId))
    const ada = written.find((d) => d.name === 'ada')!
    assert.equal(ada.age, 36) // schemaless integers are int64, as Java's JsonConverter hands them over
  })

  test('a Struct value keeps its schema types: int64, double, decimal128, date, nested struct and arrays', async () => {
    const address = SchemaBuilder.struct().field('city', SchemaBuilder.string().build()).build()
    const schema = SchemaBuilder.struct()
      .field('_id', SchemaBuilder.int32().build())
      .field('big', SchemaBuilder.int64().build())
      .field('ratio', SchemaBuilder.float64().build())
      .field('price', Decimal.schema(2))
      .field('at', TimestampType.schema())
      .field('address', address)
      .field('tags', SchemaBuilder.array(SchemaBuilder.string().build()).build())
      .build()
    const value = new Struct(schema)
      .put('_id', 1)
      .put('big', 9007199254740993n)
      .put('ratio', 2)
      .put('price', new BigDecimal(12345n, 2))
      .put('at', new Date('2026-01-02T03:04:05.678Z'))
      .put('address', new Struct(address).put('city', 'Lyon'))
      .put('tags', ['a', 'b'])
    const { task } = startSink({ database, collection: 'typed' })
    await task.put([record('t', null, value, { valueSchema: schema })])
    await task.stop()
    const raw = await mongo.client
      .db(database)
      .collection('typed')
      .findOne({ _id: 1 as never }, { promoteLongs: false, promoteValues: false })
    assert.ok(raw)
    assert.ok(raw.big instanceof Long && raw.big.toString() === '9007199254740993')
    assert.ok(raw.ratio instanceof Double && raw.ratio.value === 2)
    assert.ok(raw.price instanceof Decimal128 && raw.price.toString() === '123.45')
    assert.deepEqual(raw.at, new Date('2026-01-02T03:04:05.678Z'))
    assert.equal(String((raw.address as { city: unknown }).city), 'Lyon')
  })

  test('ProvidedInKeyStrategy upserts by the key _id, a replay changes nothing, and tombstones delete with delete.on.null.values', async () => {
    const props = {
      database,
      collection: 'provided',
      'document.id.strategy': `${S}ProvidedInKeyStrategy`,
      'delete.on.null.values': 'true',
    }
    const { task } = startSink(props)
    const batch = [
      record('t', { _id: 'a' }, { v: 1 }),
      record('t', { _id: 'b' }, { v: 1 }),
      record('t', { _id: 'a' }, { v: 2 }),
    ]
    await task.put(batch)
    await task.put(batch)
    assert.deepEqual(
      (await docs('provided')).map((d) => [d._id, Number(d.v)]),
      [
        ['a', 2],
        ['b', 1],
      ],
    )
    await task.put([record('t', { _id: 'b' }, null)])
    await task.stop()
    assert.deepEqual(
      (await docs('provided')).map((d) => d._id),
      ['a'],
    )
  })

  test('PartialValueStrategy with ReplaceOneBusinessKeyStrategy replaces the document matching the business key fields', async () => {
    const { task } = startSink({
      database,
      collection: 'business',
      'document.id.strategy': `${S}PartialValueStrategy`,
      'document.id.strategy.partial.value.projection.type': 'AllowList',
      'document.id.strategy.partial.value.projection.list': 'country,code',
      'writemodel.strategy': `${W}ReplaceOneBusinessKeyStrategy`,
    })
    await task.put([record('t', null, { country: 'FR', code: 75, name: 'Paris' })])
    await task.put([
      record('t', null, { country: 'FR', code: 75, name: 'Paris (capital)' }),
      record('t', null, { country: 'FR', code: 69, name: 'Lyon' }),
    ])
    await task.stop()
    const written = await docs('business')
    assert.equal(written.length, 2)
    assert.deepEqual(written.map((d) => d.name).sort(), ['Lyon', 'Paris (capital)'])
    assert.ok(written.every((d) => d._id instanceof ObjectId)) // the business key is the filter, not the _id
  })

  test('UpdateOneTimestampsStrategy keeps _insertedTS from the first write and moves _modifiedTS', async () => {
    const { task } = startSink({
      database,
      collection: 'stamped',
      'document.id.strategy': `${S}ProvidedInValueStrategy`,
      'writemodel.strategy': `${W}UpdateOneTimestampsStrategy`,
    })
    await task.put([record('t', null, { _id: 1, v: 'one' })])
    const first = (await docs('stamped'))[0]!
    await new Promise((r) => setTimeout(r, 20))
    await task.put([record('t', null, { _id: 1, v: 'two' })])
    await task.stop()
    const second = (await docs('stamped'))[0]!
    assert.equal(second.v, 'two')
    assert.deepEqual(second._insertedTS, first._insertedTS)
    assert.ok((second._modifiedTS as Date).getTime() > (first._modifiedTS as Date).getTime())
  })

  test('KafkaMetaDataStrategy, FullKeyStrategy and UuidStrategy make the official ids', async () => {
    const meta = startSink({
      database,
      collection: 'meta',
      'document.id.strategy': `${S}KafkaMetaDataStrategy`,
    })
    const r = record('orders', null, { a: 1 })
    await meta.task.put([r])
    await meta.task.stop()
    assert.equal((await docs('meta'))[0]!._id, `orders#0#${r.kafkaOffset}`)

    const full = startSink({ database, collection: 'full', 'document.id.strategy': `${S}FullKeyStrategy` })
    await full.task.put([record('t', { id: 7, region: 'eu' }, { a: 1 })])
    await full.task.stop()
    assert.deepEqual({ ...(await docs('full'))[0]!._id }, { id: 7, region: 'eu' })

    const uuid = startSink({ database, collection: 'uuid', 'document.id.strategy': `${S}UuidStrategy` })
    await uuid.task.put([record('t', null, { a: 1 })])
    await uuid.task.stop()
    assert.match(
      String((await docs('uuid'))[0]!._id),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    )
  })

  test('post processors: allow and block lists, renames by mapping and by regexp, Kafka metadata', async () => {
    const { task } = startSink({
      database,
      collection: 'processed',
      'document.id.strategy': `${S}ProvidedInValueStrategy`,
      'post.processor.chain': `${PP}BlockListValueProjector,${PP}field.renaming.RenameByMapping,${PP}field.renaming.RenameByRegExp,KafkaMetaAdder`,
      'value.projection.type': 'BlockList',
      'value.projection.list': 'secret,nested.hidden',
      'field.renamer.mapping': '[{"oldName":"value.fullName","newName":"name"}]',
      'field.renamer.regexp': '[{"regexp":"^value\\\\.my_.*$","pattern":"my_","replace":""}]',
    })
    const r = record(
      't',
      null,
      { _id: 1, fullName: 'Ada', secret: 's', my_colour: 'red', nested: { hidden: 1, shown: 2 } },
      { timestamp: 1700000000000, timestampType: 'CreateTime' },
    )
    await task.put([r])
    await task.stop()
    const doc = (await docs('processed'))[0]!
    assert.deepEqual(
      { ...doc, nested: { ...doc.nested } },
      {
        _id: 1,
        name: 'Ada',
        colour: 'red',
        nested: { shown: 2 },
        'topic-partition-offset': `t-0-${r.kafkaOffset}`,
        CreateTime: 1700000000000,
      },
    )

    const allow = startSink({
      database,
      collection: 'allowed',
      'document.id.strategy': `${S}ProvidedInValueStrategy`,
      'post.processor.chain': `${PP}AllowListValueProjector`,
      'value.projection.type': 'AllowList',
      'value.projection.list': '_id,keep,sub.a', // as in the official connector, _id survives an allow list only when listed
    })
    await allow.task.put([record('t', null, { _id: 2, keep: 1, drop: 2, sub: { a: 1, b: 2 } })])
    await allow.task.stop()
    const kept = (await docs('allowed'))[0]!
    assert.deepEqual({ ...kept, sub: { ...kept.sub } }, { _id: 2, keep: 1, sub: { a: 1 } })
  })

  test('topic.override.<topic>.* and the FieldPathNamespaceMapper route records per topic and per document', async () => {
    const { task } = startSink({
      database,
      collection: 'fallback',
      'topic.override.special.collection': 'special_coll',
      'topic.override.routed.namespace.mapper':
        'com.mongodb.kafka.connect.sink.namespace.mapping.FieldPathNamespaceMapper',
      'topic.override.routed.namespace.mapper.value.collection.field': 'kind',
    })
    await task.put([
      record('plain', null, { a: 1 }),
      record('special', null, { a: 2 }),
      record('routed', null, { kind: 'cats', a: 3 }),
      record('routed', null, { a: 4 }),
    ])
    await task.stop()
    assert.deepEqual((await docs('fallback')).map((d) => Number(d.a)).sort(), [1, 4])
    assert.deepEqual(
      (await docs('special_coll')).map((d) => Number(d.a)),
      [2],
    )
    assert.deepEqual(
      (await docs('cats')).map((d) => Number(d.a)),
      [3],
    )
  })

  test('documents the server refuses go to the errant record reporter with their error; the rest of an ordered batch is still written', async () => {
    const coll = mongo.client.db(database).collection('refused')
    await coll.insertOne({ _id: 'taken' as never, v: 0 })
    for (const ordered of ['true', 'false']) {
      const { task, reported } = startSink({
        database,
        collection: 'refused',
        'document.id.strategy': `${S}ProvidedInValueStrategy`,
        'writemodel.strategy': `${W}InsertOneDefaultStrategy`,
        'bulk.write.ordered': ordered,
      })
      const records = [
        record('t', null, { _id: `a${ordered}` }),
        record('t', null, { _id: 'taken' }),
        record('t', null, { _id: `b${ordered}` }),
      ]
      await task.put(records)
      await task.stop()
      assert.equal(reported.length, 1, `ordered=${ordered}`)
      assert.equal(reported[0]!.record, records[1])
      assert.ok(reported[0]!.error instanceof DataError)
      assert.match(reported[0]!.error.message, /E11000 duplicate key.*code 11000/)
    }
    assert.deepEqual((await docs('refused')).map((d) => d._id).sort(), [
      'afalse',
      'atrue',
      'bfalse',
      'btrue',
      'taken',
    ])
  })

  test('a key the id strategy cannot use is reported naming the strategy; without tolerance the put fails', async () => {
    const props = {
      database,
      collection: 'badkey',
      'document.id.strategy': `${S}PartialKeyStrategy`,
      'document.id.strategy.partial.key.projection.type': 'AllowList',
      'document.id.strategy.partial.key.projection.list': 'id',
    }
    const tolerated = startSink(props)
    await tolerated.task.put([record('t', 'not json', { a: 1 }), record('t', { id: 5, x: 1 }, { a: 2 })])
    await tolerated.task.stop()
    assert.equal(tolerated.reported.length, 1)
    assert.match(
      tolerated.reported[0]!.error.message,
      /PartialKeyStrategy needs the record key as a document.*string that is not JSON/,
    )
    assert.deepEqual({ ...(await docs('badkey'))[0]!._id }, { id: 5 })

    const strict = startSink(props, { reporter: false })
    await assert.rejects(
      strict.task.put([record('t', 42, { a: 1 })]),
      (e: unknown) => e instanceof DataError && /key is a number/.test(e.message),
    )
    await strict.task.stop()

    const missing = startSink({
      database,
      collection: 'badkey',
      'document.id.strategy': `${S}ProvidedInValueStrategy`,
    })
    await missing.task.put([record('t', null, { a: 1 })])
    await missing.task.stop()
    assert.match(
      missing.reported[0]!.error.message,
      /ProvidedInValueStrategy: the record value has no _id field/,
    )
  })

  test('a tombstone without delete.on.null.values is an error that says how to fix it', async () => {
    const { task, reported } = startSink({ database, collection: 'tomb' })
    await task.put([record('t', { _id: 1 }, null)])
    await task.stop()
    assert.match(reported[0]!.error.message, /set delete\.on\.null\.values=true/)
  })
})

describe('MongoDB sink config', () => {
  const errorsOf = (props: Record<string, string>) =>
    Object.fromEntries(
      new MongoSinkConnector()
        .validate(props)
        .filter((v) => v.errors.length > 0)
        .map((v) => [v.name, v.errors.join(' ')]),
    )

  test('delete.on.null.values with an id strategy that does not read the key is an error on delete.on.null.values', () => {
    const errors = errorsOf({ topics: 't', database: 'd', 'delete.on.null.values': 'true' })
    assert.match(
      errors['delete.on.null.values'] ?? '',
      /FullKeyStrategy or PartialKeyStrategy or ProvidedInKeyStrategy/,
    )
  })

  test('unknown strategies, handlers and post processors are named with the known classes; overrides name their own key', () => {
    assert.match(
      errorsOf({ topics: 't', database: 'd', 'document.id.strategy': 'Nope' })['document.id.strategy'] ?? '',
      /unknown class; use one of .*BsonOidStrategy/,
    )
    assert.match(
      errorsOf({ topics: 't', database: 'd', 'change.data.capture.handler': 'X' })[
        'change.data.capture.handler'
      ] ?? '',
      /RdbmsHandler/,
    )
    assert.match(
      errorsOf({ topics: 't', database: 'd', 'post.processor.chain': 'Foo' })['post.processor.chain'] ?? '',
      /unknown post processor/,
    )
    assert.match(
      errorsOf({ topics: 't', database: 'd', 'topic.override.t.writemodel.strategy': 'Bad' })[
        'writemodel.strategy'
      ] ?? '',
      /topic\.override|unknown class/,
    )
    assert.throws(
      () =>
        new MongoSinkConnector().start({
          topics: 'a.b',
          database: 'd',
          'topic.override.a.b.document.id.strategy': 'Bad',
        }),
      (e: unknown) => e instanceof ConfigError && e.key === 'topic.override.a.b.document.id.strategy',
    )
    assert.match(errorsOf({ topics: 't' }).database ?? '', /no default value|required/i)
  })
})
