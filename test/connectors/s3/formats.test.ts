/**
 * The S3 sink through a real worker on the real broker, into s3proxy: each format read back, the
 * object names Confluent's sink gives, and what a rotation leaves committed.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import avsc from 'avsc'
import { eventually, request } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, s3SkipReason, s3Url } from '../../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'
import { envelope, produce, TestBucket, uniqueTopic } from './s3-fixtures.ts'

const skip = kafkaSkipReason() || s3SkipReason()

const ROW_SCHEMA = {
  type: 'struct',
  name: 'shop.Order',
  optional: false,
  fields: [
    { field: 'id', type: 'int64', optional: false },
    { field: 'customer', type: 'string', optional: true },
    { field: 'amount', type: 'double', optional: false },
    { field: 'paid', type: 'boolean', optional: false },
    {
      field: 'at',
      type: 'int64',
      name: 'org.apache.kafka.connect.data.Timestamp',
      version: 1,
      optional: false,
    },
    { field: 'tags', type: 'array', items: { type: 'string', optional: false }, optional: true },
    {
      field: 'address',
      type: 'struct',
      optional: true,
      fields: [
        { field: 'city', type: 'string', optional: false },
        { field: 'zip', type: 'int32', optional: true },
      ],
    },
  ],
}

function order(id: number) {
  return {
    id,
    customer: id % 4 === 0 ? null : `c${id % 3}`,
    amount: id * 1.5,
    paid: id % 2 === 0,
    at: 1_700_000_000_000 + id * 1000,
    tags: id % 5 === 0 ? null : [`t${id}`, 'x'],
    address: id % 3 === 0 ? null : { city: `city${id}`, zip: id % 2 ? null : 75000 + id },
  }
}

describe('[integration] S3 sink formats', { skip }, () => {
  let w: TestWorker
  let bucket: TestBucket
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-s3-formats-'))

  before(async () => {
    w = await startTestWorker({ 'bootstrap.servers': kafkaBootstrap() })
    bucket = await TestBucket.create('formats')
  })
  after(async () => {
    await w?.close()
    await bucket?.drop()
    rmSync(tmp, { recursive: true, force: true })
  })

  /** A partition's commit marker once it records `endOffset`: it is written after the objects it names. */
  async function markerAt(key: string, endOffset: number): Promise<{ endOffset: number }> {
    return await eventually(
      async () => {
        const marker = await bucket.text(key).then(
          (text) => JSON.parse(text) as { endOffset: number },
          () => undefined,
        )
        return marker?.endOffset === endOffset ? marker : undefined
      },
      30_000,
      `${key} at end offset ${endOffset}`,
    )
  }

  async function run(name: string, config: Record<string, string>): Promise<void> {
    const created = await request(w.base, 'POST', '/connectors', {
      name,
      config: {
        'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
        'storage.class': 'io.confluent.connect.s3.storage.S3Storage',
        's3.bucket.name': bucket.name,
        'store.url': s3Url(),
        'aws.access.key.id': 'any',
        'aws.secret.access.key': 'any',
        ...config,
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
  }

  test('JsonFormat: one object per flush.size records, named topic+partition+start offset, one document per line', async () => {
    const topic = uniqueTopic('json')
    await produce(
      topic,
      Array.from({ length: 10 }, (_, n) => ({
        value: JSON.stringify({ n, s: `v${n}`, nested: { ok: n % 2 === 0 } }),
      })),
      1,
    )
    await run(`json-${topic}`, {
      topics: topic,
      'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
      'flush.size': '3',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    })
    const prefix = `topics/${topic}/partition=0/`
    const keys = await bucket.waitForDataKeys(prefix, 3)
    assert.deepEqual(keys, [
      `${prefix}${topic}+0+0000000000.json`,
      `${prefix}${topic}+0+0000000003.json`,
      `${prefix}${topic}+0+0000000006.json`,
    ])
    assert.deepEqual(await bucket.jsonLines(keys[1]!), [
      { n: 3, s: 'v3', nested: { ok: false } },
      { n: 4, s: 'v4', nested: { ok: true } },
      { n: 5, s: 'v5', nested: { ok: false } },
    ])
    // The tenth record waits for more; the marker records what is complete.
    const marker = await markerAt(`topics/_sluice/commits/${topic}+0.json`, 8)
    assert.equal(marker.endOffset, 8)
    const offsets = await eventually(
      async () => {
        const r = await request<{
          offsets: { partition: { kafka_partition: number }; offset: { kafka_offset: number } }[]
        }>(w.base, 'GET', `/connectors/json-${topic}/offsets`)
        const o = r.body?.offsets?.[0]?.offset.kafka_offset
        return o === 9 ? o : undefined
      },
      20_000,
      'consumer offset 9 committed',
    )
    assert.equal(offsets, 9)
  })

  test('ParquetFormat: Struct records read back with a Parquet reader, nested fields and arrays included', async () => {
    const topic = uniqueTopic('parquet')
    await produce(
      topic,
      Array.from({ length: 25 }, (_, i) => ({ value: envelope(ROW_SCHEMA, order(i)) })),
      1,
    )
    await run(`parquet-${topic}`, {
      topics: topic,
      'format.class': 'io.confluent.connect.s3.format.parquet.ParquetFormat',
      'flush.size': '10',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    })
    const prefix = `topics/${topic}/partition=0/`
    const keys = await bucket.waitForDataKeys(prefix, 2)
    assert.deepEqual(keys, [
      `${prefix}${topic}+0+0000000000.snappy.parquet`,
      `${prefix}${topic}+0+0000000010.snappy.parquet`,
    ])
    const rows = await bucket.parquetRows(keys[1]!)
    assert.equal(rows.length, 10)
    for (const [i, row] of rows.entries()) {
      const o = order(10 + i)
      assert.equal(row.id, BigInt(o.id))
      assert.equal(row.customer, o.customer)
      assert.equal(row.amount, o.amount)
      assert.equal(row.paid, o.paid)
      assert.equal((row.at as Date).getTime(), o.at)
      assert.deepEqual(row.tags ?? null, o.tags)
      if (o.address === null) assert.equal(row.address ?? null, null)
      else
        assert.deepEqual(
          {
            city: (row.address as { city: string }).city,
            zip: (row.address as { zip: number | null }).zip ?? null,
          },
          { city: o.address.city, zip: o.address.zip },
        )
    }
  })

  test('ParquetFormat with parquet.codec=gzip and none: the extension names the codec', async () => {
    for (const codec of ['gzip', 'none']) {
      const topic = uniqueTopic(`pq-${codec}`)
      await produce(
        topic,
        Array.from({ length: 4 }, (_, i) => ({ value: envelope(ROW_SCHEMA, order(i)) })),
        1,
      )
      await run(`pq-${codec}-${topic}`, {
        topics: topic,
        'format.class': 'ParquetFormat',
        'parquet.codec': codec,
        'flush.size': '4',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      })
      const ext = codec === 'none' ? '.parquet' : `.${codec}.parquet`
      const key = `topics/${topic}/partition=0/${topic}+0+0000000000${ext}`
      await bucket.waitForKey(key)
      const rows = await bucket.parquetRows(key)
      assert.deepEqual(
        rows.map((r) => r.id),
        [0n, 1n, 2n, 3n],
      )
    }
  })

  test('ByteArrayFormat: raw values and the separator; s3.compression.type=gzip adds .gz', async () => {
    const topic = uniqueTopic('bytes')
    await produce(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ value: `line-${i}` })),
      1,
    )
    await run(`bytes-${topic}`, {
      topics: topic,
      'format.class': 'io.confluent.connect.s3.format.bytearray.ByteArrayFormat',
      'format.bytearray.separator': '|',
      'format.bytearray.extension': '.txt',
      's3.compression.type': 'gzip',
      'flush.size': '3',
      'value.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
    })
    const prefix = `topics/${topic}/partition=0/`
    const keys = await bucket.waitForDataKeys(prefix, 2)
    assert.deepEqual(keys, [`${prefix}${topic}+0+0000000000.txt.gz`, `${prefix}${topic}+0+0000000003.txt.gz`])
    assert.equal(new TextDecoder().decode(gunzipSync(await bucket.bytes(keys[0]!))), 'line-0|line-1|line-2|')
  })

  test('store.kafka.keys and store.kafka.headers write .keys and .headers files beside the values', async () => {
    const topic = uniqueTopic('keys')
    await produce(
      topic,
      Array.from({ length: 2 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })),
      1,
    )
    await run(`keys-${topic}`, {
      topics: topic,
      'format.class': 'JsonFormat',
      'store.kafka.keys': 'true',
      'store.kafka.headers': 'true',
      'keys.format.class': 'JsonFormat',
      'headers.format.class': 'JsonFormat',
      'flush.size': '2',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
      'topics.dir': 'exports',
    })
    const base = `exports/${topic}/partition=0/${topic}+0+0000000000`
    assert.deepEqual(await bucket.waitForDataKeys(`exports/${topic}/`, 3), [
      `${base}.headers.json`,
      `${base}.json`,
      `${base}.keys.json`,
    ])
    assert.deepEqual(await bucket.jsonLines(`${base}.keys.json`), ['k0', 'k1'])
    assert.deepEqual(await bucket.jsonLines(`${base}.headers.json`), [[], []])
    assert.deepEqual(await bucket.jsonLines(`${base}.json`), [{ i: 0 }, { i: 1 }])
  })

  test('a file larger than s3.part.size goes up as a multipart upload and reads back whole', async () => {
    const topic = uniqueTopic('multipart')
    const records = 12_000
    await produce(
      topic,
      Array.from({ length: records }, (_, n) => ({ value: JSON.stringify({ n, pad: 'p'.repeat(480) }) })),
      1,
    )
    await run(`multipart-${topic}`, {
      topics: topic,
      'format.class': 'JsonFormat',
      'flush.size': String(records),
      's3.part.size': String(5 * 1024 * 1024),
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    })
    const key = `topics/${topic}/partition=0/${topic}+0+0000000000.json`
    await bucket.waitForKey(key, 60_000)
    const docs = (await bucket.jsonLines(key)) as { n: number }[]
    assert.equal(docs.length, records)
    assert.ok(docs.every((d, i) => d.n === i))
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))
    assert.ok((head.ContentLength ?? 0) > 5 * 1024 * 1024)
    // A multipart object's ETag ends with the number of parts.
    assert.match(head.ETag ?? '', /-2"?$/)
  })

  test('AvroFormat: container files with the schema AvroData derives, read back by an Avro decoder; deflate too', async () => {
    for (const codec of ['null', 'deflate']) {
      const topic = uniqueTopic(`avro-${codec}`)
      await produce(
        topic,
        Array.from({ length: 5 }, (_, i) => ({ value: envelope(ROW_SCHEMA, order(i)) })),
        1,
      )
      await run(`avro-${codec}-${topic}`, {
        topics: topic,
        'format.class': 'io.confluent.connect.s3.format.avro.AvroFormat',
        'avro.codec': codec,
        'flush.size': '5',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      })
      const key = `topics/${topic}/partition=0/${topic}+0+0000000000.avro`
      await bucket.waitForKey(key)
      const file = join(tmp, `${codec}.avro`)
      writeFileSync(file, await bucket.bytes(key))
      const { schema, records } = await new Promise<{
        schema: { name?: string }
        records: Record<string, unknown>[]
      }>((resolve, reject) => {
        const records: Record<string, unknown>[] = []
        let schema: { name?: string } = {}
        avsc
          .createFileDecoder(file)
          .on('metadata', (type: { schema(): { name?: string } }, fileCodec: string) => {
            schema = type.schema()
            if (fileCodec !== codec) reject(new Error(`codec ${fileCodec}`))
          })
          .on('data', (r: Record<string, unknown>) => records.push(r))
          .on('end', () => resolve({ schema, records }))
          .on('error', reject)
      })
      assert.equal(schema.name, 'shop.Order')
      assert.deepEqual(
        records.map((r) => Number(r.id)),
        [0, 1, 2, 3, 4],
      )
      assert.equal(records[1]!.customer, 'c1')
      assert.deepEqual(records[1]!.tags, ['t1', 'x'])
      assert.equal((records[1]!.address as { city: string }).city, 'city1')
    }
  })

  test('a blank topics.dir puts the topic directories at the bucket root; s3.checksum.mode=WHEN_REQUIRED writes too', async () => {
    const topic = uniqueTopic('root')
    await produce(
      topic,
      [0, 1].map((n) => ({ value: JSON.stringify({ n }) })),
      1,
    )
    await run(`root-${topic}`, {
      topics: topic,
      'format.class': 'JsonFormat',
      'flush.size': '2',
      'topics.dir': '',
      's3.checksum.mode': 'WHEN_REQUIRED',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    })
    const key = `${topic}/partition=0/${topic}+0+0000000000.json`
    await bucket.waitForKey(key)
    assert.deepEqual(await bucket.jsonLines(key), [{ n: 0 }, { n: 1 }])
    const marker = await markerAt(`_sluice/commits/${topic}+0.json`, 1)
    assert.deepEqual(marker, { version: 1, topic, partition: 0, endOffset: 1, objects: [key] })
  })
})
