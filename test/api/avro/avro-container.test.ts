import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import avsc from 'avsc'
import { AvroContainerEncoder, encodeAvroContainer } from '../../../src/api/avro/avro-container.ts'
import { AvroData } from '../../../src/api/avro/avro-data.ts'
import { Schemas } from '../../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { DataError } from '../../../src/api/errors.ts'

const schema = SchemaBuilder.struct()
  .name('s3.Row')
  .field('id', Schemas.INT64)
  .field('name', Schemas.OPTIONAL_STRING)
  .build()
const row = (id: number | bigint) =>
  new Struct(schema).put('id', id).put('name', id === 2 ? null : `row ${id}`)

/** Reads a container file with avsc's own decoder (an independent reader): header and records. */
async function decode(file: Buffer): Promise<{ metadata: Record<string, string>; records: unknown[] }> {
  const decoder = new avsc.streams.BlockDecoder({
    parseHook: (s: unknown) => avsc.Type.forSchema(s as avsc.Schema, { wrapUnions: false }),
  } as never)
  let metadata: Record<string, string> = {}
  decoder.on('metadata', (_type: unknown, codec: string, header: { meta: Record<string, Buffer> }) => {
    metadata = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString()]))
    metadata.codecSeen = codec
  })
  const records: unknown[] = []
  Readable.from([file]).pipe(decoder)
  for await (const record of decoder) records.push({ ...(record as object) })
  return { metadata, records }
}

describe('Avro container files', () => {
  const writer = new AvroData().writerFor(schema)

  for (const codec of ['null', 'deflate'] as const) {
    test(`a ${codec} file is read back by avsc's decoder with the schema and codec in its metadata`, async () => {
      const file = encodeAvroContainer(writer, [row(1), row(2), row(3)], { codec })
      assert.deepEqual([...file.subarray(0, 4)], [0x4f, 0x62, 0x6a, 0x01])
      const { metadata, records } = await decode(file)
      assert.equal(metadata['avro.schema'], writer.text)
      assert.equal(metadata['avro.codec'], codec)
      assert.deepEqual(records, [
        { id: 1, name: 'row 1' },
        { id: 2, name: null },
        { id: 3, name: 'row 3' },
      ])
    })
  }

  test('blocks are cut at the sync interval; each block ends with the sync marker', async () => {
    const marker = Buffer.alloc(16, 7)
    const encoder = new AvroContainerEncoder(writer, { syncIntervalBytes: 20, syncMarker: marker })
    const parts: Buffer[] = []
    for (let i = 0; i < 10; i++) parts.push(encoder.append(row(i)))
    parts.push(encoder.flush())
    const blocks = parts.filter((p) => p.length > 0)
    assert.ok(blocks.length > 2, `${blocks.length} writes`)
    for (const b of blocks) assert.deepEqual(b.subarray(-16), marker)
    const { records } = await decode(Buffer.concat(parts))
    assert.equal(records.length, 10)
  })

  test('an unsupported codec is refused', () => {
    assert.throws(() => new AvroContainerEncoder(writer, { codec: 'snappy' as never }), DataError)
  })
})
