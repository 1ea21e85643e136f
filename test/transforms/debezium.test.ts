import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type Schema, Schemas } from '../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { Struct } from '../../src/api/data/struct.ts'
import { SourceRecord } from '../../src/api/records.ts'
import { ByLogicalTableRouter } from '../../src/transforms/debezium/by-logical-table-router.ts'
import { EventRouter } from '../../src/transforms/debezium/event-router.ts'
import { ExtractNewRecordState } from '../../src/transforms/debezium/extract-new-record-state.ts'

const KEY = SchemaBuilder.struct().name('server.public.t.Key').field('id', Schemas.INT32).build()
const ROW = SchemaBuilder.struct()
  .name('server.public.t.Value')
  .field('id', Schemas.INT32)
  .field('name', Schemas.OPTIONAL_STRING)
  .build()
const SOURCE = SchemaBuilder.struct()
  .name('io.debezium.connector.postgresql.Source')
  .field('db', Schemas.STRING)
  .field('table', Schemas.STRING)
  .field('lsn', Schemas.OPTIONAL_INT64)
  .field('ts_ms', Schemas.INT64)
  .build()

function envelopeSchema(row: Schema): Schema {
  return SchemaBuilder.struct()
    .name('server.public.t.Envelope')
    .field('before', SchemaBuilder.from(row).optional().build())
    .field('after', SchemaBuilder.from(row).optional().build())
    .field('source', SOURCE)
    .field('op', Schemas.STRING)
    .field('ts_ms', Schemas.OPTIONAL_INT64)
    .build()
}
const ENVELOPE = envelopeSchema(ROW)

function row(schema: Schema, id: number, name: string | null): Struct {
  return new Struct(schema).put('id', id).put('name', name)
}

function change(
  op: string,
  before: [number, string | null] | null,
  after: [number, string | null] | null,
  topic = 'server.public.t',
) {
  const rowSchema = ENVELOPE.field('after')!.schema
  const value = new Struct(ENVELOPE)
    .put('before', before ? row(rowSchema, ...before) : null)
    .put('after', after ? row(rowSchema, ...after) : null)
    .put('source', new Struct(SOURCE).put('db', 'db').put('table', 't').put('lsn', 100).put('ts_ms', 1000))
    .put('op', op)
    .put('ts_ms', 2000)
  return new SourceRecord({
    topic,
    kafkaPartition: 0,
    keySchema: KEY,
    key: new Struct(KEY).put('id', (after ?? before)?.[0] ?? 1),
    valueSchema: ENVELOPE,
    value,
    sourceOffset: { lsn: 100 },
  })
}

function tombstone(): SourceRecord {
  return new SourceRecord({
    topic: 'server.public.t',
    kafkaPartition: 0,
    keySchema: KEY,
    key: new Struct(KEY).put('id', 1),
  })
}

function unwrap(props: Record<string, string> = {}): ExtractNewRecordState {
  const t = new ExtractNewRecordState()
  t.configure(props)
  return t
}

describe('ExtractNewRecordState', () => {
  test('replaces creates, updates and snapshot reads with the after state', () => {
    for (const op of ['c', 'u', 'r']) {
      const out = unwrap().apply(change(op, null, [1, 'a']))!
      assert.equal((out.value as Struct).get('name'), 'a')
      assert.deepEqual(
        out.valueSchema!.fields.map((f) => f.name),
        ['id', 'name'],
      )
    }
  })

  test('by default (tombstone) turns a delete into a null value and drops the tombstone', () => {
    const out = unwrap().apply(change('d', [1, 'a'], null))!
    assert.equal(out.value, null)
    assert.equal(unwrap().apply(tombstone()), null)
  })

  test('drop removes deletes and tombstones; delete-to-tombstone makes the delete a tombstone', () => {
    assert.equal(
      unwrap({ 'delete.tombstone.handling.mode': 'drop' }).apply(change('d', [1, 'a'], null)),
      null,
    )
    const t = unwrap({ 'delete.tombstone.handling.mode': 'delete-to-tombstone' })
    const out = t.apply(change('d', [1, 'a'], null))!
    assert.equal(out.value, null)
    assert.equal(out.valueSchema, null)
    assert.equal(t.apply(tombstone()), null)
  })

  test('rewrite adds __deleted to every event; rewrite-with-tombstone keeps tombstones', () => {
    const t = unwrap({ 'delete.tombstone.handling.mode': 'rewrite' })
    const deleted = t.apply(change('d', [1, 'a'], null))!
    assert.equal((deleted.value as Struct).get('__deleted'), 'true')
    assert.equal((deleted.value as Struct).get('name'), 'a')
    assert.equal((t.apply(change('c', null, [1, 'a']))!.value as Struct).get('__deleted'), 'false')
    assert.equal(t.apply(tombstone()), null)
    const keep = tombstone()
    assert.equal(unwrap({ 'delete.tombstone.handling.mode': 'rewrite-with-tombstone' }).apply(keep), keep)
  })

  test('still honours drop.tombstones and delete.handling.mode when the new option is not set', () => {
    const legacy = unwrap({ 'drop.tombstones': 'false', 'delete.handling.mode': 'rewrite' })
    assert.equal((legacy.apply(change('d', [1, 'a'], null))!.value as Struct).get('__deleted'), 'true')
    assert.ok(legacy.apply(tombstone()))
    assert.equal(unwrap({ 'delete.handling.mode': 'drop' }).apply(change('d', [1, 'a'], null)), null)
    assert.equal(unwrap({ 'delete.handling.mode': 'none' }).apply(change('d', [1, 'a'], null))!.value, null)
  })

  test('adds envelope and source fields with the prefix, renamed on request', () => {
    const t = unwrap({ 'add.fields': 'op,table,source.lsn,ts_ms:EVENT_TS' })
    const out = t.apply(change('u', [1, 'a'], [1, 'b']))!
    const v = out.value as Struct
    assert.deepEqual(
      out.valueSchema!.fields.map((f) => f.name),
      ['id', 'name', '__op', '__table', '__source_lsn', '__EVENT_TS'],
    )
    assert.deepEqual(
      [v.get('__op'), v.get('__table'), v.get('__source_lsn'), v.get('__EVENT_TS')],
      ['u', 't', 100, 2000],
    )
  })

  test('adds headers, and an op=d header to tombstones it keeps', () => {
    const t = unwrap({ 'add.headers': 'op,db', 'delete.tombstone.handling.mode': 'rewrite-with-tombstone' })
    const out = t.apply(change('c', null, [1, 'a']))!
    assert.equal(out.headers.lastWithName('__op')!.value, 'c')
    assert.equal(out.headers.lastWithName('__db')!.value, 'db')
    assert.equal(t.apply(tombstone())!.headers.lastWithName('__op')!.value, 'd')
  })

  test('routes by a row field', () => {
    const out = unwrap({ 'route.by.field': 'name' }).apply(change('c', null, [1, 'elsewhere']))!
    assert.equal(out.topic, 'elsewhere')
  })

  test('drops optional fields listed in the drop header', () => {
    const record = change('c', null, [1, 'a'])
    record.headers.add('drop', ['name'], SchemaBuilder.array(Schemas.STRING).build())
    const out = unwrap({ 'drop.fields.header.name': 'drop' }).apply(record)!
    assert.deepEqual(
      out.valueSchema!.fields.map((f) => f.name),
      ['id'],
    )
  })

  test('passes records that are not change events through, and drops truncates', () => {
    const heartbeat = new SourceRecord({ topic: 'hb', valueSchema: Schemas.STRING, value: 'x' })
    assert.equal(unwrap().apply(heartbeat), heartbeat)
    assert.equal(unwrap().apply(change('t', null, null)), null)
  })

  test('names the record when route.by.field is missing from the row', () => {
    assert.throws(() => unwrap({ 'route.by.field': 'nope' }).apply(change('c', null, [1, 'a'])), {
      name: 'TransformDataError',
      message:
        "ExtractNewRecordState: route.by.field 'nope' is not a field of the row (topic 'server.public.t', partition 0, source offset {\"lsn\":100})",
    })
  })

  test('rejects an unknown delete.tombstone.handling.mode', () => {
    assert.throws(() => unwrap({ 'delete.tombstone.handling.mode': 'keep' }), {
      key: 'delete.tombstone.handling.mode',
    })
  })
})

const OUTBOX_ROW = SchemaBuilder.struct()
  .name('server.public.outbox.Value')
  .field('id', Schemas.STRING)
  .field('aggregatetype', Schemas.STRING)
  .field('aggregateid', Schemas.STRING)
  .field('type', Schemas.STRING)
  .field('payload', Schemas.OPTIONAL_STRING)
  .field('version', Schemas.OPTIONAL_INT32)
  .build()
const OUTBOX_ENVELOPE = SchemaBuilder.struct()
  .name('server.public.outbox.Envelope')
  .field('before', SchemaBuilder.from(OUTBOX_ROW).optional().build())
  .field('after', SchemaBuilder.from(OUTBOX_ROW).optional().build())
  .field('op', Schemas.STRING)
  .field('ts_ms', Schemas.OPTIONAL_INT64)
  .build()

function outbox(op: string, payload: string | null, aggregatetype = 'User'): SourceRecord {
  const rowSchema = OUTBOX_ENVELOPE.field('after')!.schema
  const event = new Struct(rowSchema)
    .put('id', 'e-1')
    .put('aggregatetype', aggregatetype)
    .put('aggregateid', 'u-7')
    .put('type', 'UserCreated')
    .put('payload', payload)
    .put('version', 3)
  const value = new Struct(OUTBOX_ENVELOPE).put('after', event).put('op', op).put('ts_ms', 1_700_000_000_000)
  return new SourceRecord({
    topic: 'server.public.outbox',
    kafkaPartition: 0,
    valueSchema: OUTBOX_ENVELOPE,
    value,
  })
}

function router(props: Record<string, string> = {}): EventRouter {
  const t = new EventRouter()
  t.configure(props)
  return t
}

describe('EventRouter', () => {
  test('routes an outbox insert to outbox.event.<aggregatetype>, keyed by aggregateid, id in a header', () => {
    const out = router().apply(outbox('c', '{"name":"Ann"}'))!
    assert.equal(out.topic, 'outbox.event.User')
    assert.equal(out.key, 'u-7')
    assert.equal(out.keySchema, Schemas.STRING)
    assert.equal(out.value, '{"name":"Ann"}')
    assert.equal(out.headers.lastWithName('id')!.value, 'e-1')
    assert.equal(out.timestamp, 1_700_000_000_000)
  })

  test('uses route.topic.replacement with the named group', () => {
    assert.equal(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka placeholder syntax
      router({ 'route.topic.replacement': 'events.${routedByValue}.v1' }).apply(outbox('c', 'x'))!.topic,
      'events.User.v1',
    )
  })

  test('puts additional fields into headers, the envelope or the partition', () => {
    const out = router({
      'table.fields.additional.placement': 'type:header:eventType,type:envelope,version:partition',
    }).apply(outbox('c', 'x'))!
    assert.equal(out.headers.lastWithName('eventType')!.value, 'UserCreated')
    assert.equal(out.kafkaPartition, 3)
    const v = out.value as Struct
    assert.equal(v.get('payload'), 'x')
    assert.equal(v.get('type'), 'UserCreated')
    assert.equal(out.valueSchema!.name, 'server.public.outbox.User.Value')
  })

  test('expands a JSON payload into a struct when asked', () => {
    const out = router({ 'table.expand.json.payload': 'true' }).apply(
      outbox('c', '{"name":"Ann","age":30,"tags":["a"]}'),
    )!
    const v = out.value as Struct
    assert.equal(v.get('name'), 'Ann')
    assert.equal(v.get('age'), 30)
    assert.deepEqual(v.get('tags'), ['a'])
    assert.equal(out.valueSchema!.field('age')!.schema.type, 'INT32')
  })

  test('drops deletes and tombstones, and updates unless told to fail', () => {
    assert.equal(router().apply(outbox('d', 'x')), null)
    const logged: string[] = []
    const r = router()
    r.log = (_level, message) => logged.push(message)
    assert.equal(r.apply(outbox('u', 'x')), null)
    assert.equal(logged.length, 1)
    assert.throws(
      () => router({ 'table.op.invalid.behavior': 'fatal' }).apply(outbox('u', 'x')),
      /Unexpected update message received/,
    )
    assert.equal(router().apply(new SourceRecord({ topic: 't' })), null)
  })

  test('emits a tombstone for an empty payload when route.tombstone.on.empty.payload is set', () => {
    const out = router({ 'route.tombstone.on.empty.payload': 'true' }).apply(outbox('c', null))!
    assert.equal(out.value, null)
    assert.equal(out.key, 'u-7')
  })

  test('fails naming the missing payload column', () => {
    assert.throws(() => router({ 'table.field.event.payload': 'body' }).apply(outbox('c', 'x')), {
      message:
        "EventRouter: Unable to find payload field body in event (topic 'server.public.outbox', partition 0)",
    })
  })

  test('rejects a malformed additional placement', () => {
    assert.throws(() => router({ 'table.fields.additional.placement': 'type' }), {
      key: 'table.fields.additional.placement',
    })
  })
})

describe('ByLogicalTableRouter', () => {
  function logical(props: Record<string, string>, legacy = true): ByLogicalTableRouter {
    const t = new ByLogicalTableRouter(legacy)
    t.configure(props)
    return t
  }

  test('routes shards to one topic, renames schemas and adds the physical table to the key', () => {
    const t = logical({
      'topic.regex': '(.*)customers_shard(.*)',
      'topic.replacement': '$1customers_all_shards',
    })
    const out = t.apply(change('c', null, [1, 'a'], 'db.customers_shard1'))
    assert.equal(out.topic, 'db.customers_all_shards')
    assert.equal(out.keySchema!.name, 'db.customers_all_shards.Key')
    assert.equal((out.key as Struct).get('__dbz__physicalTableIdentifier'), 'db.customers_shard1')
    assert.equal(out.valueSchema!.name, 'db.customers_all_shards.Envelope')
    assert.equal(out.valueSchema!.field('after')!.schema.name, 'db.customers_all_shards.Value')
    assert.equal(((out.value as Struct).get('after') as Struct).get('name'), 'a')
  })

  test('uses key.field.regex for the identifier and ToLogicalTopicRouter’s key field name', () => {
    const t = logical(
      {
        'topic.regex': '(.*)customers_shard(.*)',
        'topic.replacement': '$1customers',
        'key.field.regex': '.*_shard(\\d+)',
        'key.field.replacement': 'shard-$1',
      },
      false,
    )
    const out = t.apply(change('c', null, [1, 'a'], 'db.customers_shard7'))
    assert.equal((out.key as Struct).get('__dbz__sourceIdentifier'), 'shard-7')
  })

  test('leaves records of other topics alone', () => {
    const record = change('c', null, [1, 'a'], 'db.orders')
    assert.equal(logical({ 'topic.regex': 'x', 'topic.replacement': 'y' }).apply(record), record)
  })

  test('requires key.field.replacement with key.field.regex', () => {
    assert.throws(() => logical({ 'topic.regex': 'x', 'topic.replacement': 'y', 'key.field.regex': 'a' }), {
      key: 'key.field.replacement',
      message: 'key.field.replacement must be non-empty if key.field.regex is set.',
    })
  })
})
