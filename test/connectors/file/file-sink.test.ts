/**
 * The FileStream sink writes each value as Kafka's does (`PrintStream.println(Object)`): strings as
 * they are, a Struct as Java's `Struct.toString()` — the fields holding a value, `Struct{a=1,b=x}`.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Schemas } from '../../../src/api/data/schema.ts'
import { SchemaBuilder } from '../../../src/api/data/schema-builder.ts'
import { Struct } from '../../../src/api/data/struct.ts'
import { SinkRecord } from '../../../src/api/records.ts'
import { FileStreamSinkTask } from '../../../src/connectors/file/sink-task.ts'

describe('FileStreamSinkTask', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('writes strings as they are and structs as Java prints them', async () => {
    const file = join(dir, 'out.txt')
    const schema = SchemaBuilder.struct()
      .field('id', Schemas.INT32)
      .field('name', Schemas.OPTIONAL_STRING)
      .field('note', Schemas.OPTIONAL_STRING)
      .build()
    const task = new FileStreamSinkTask()
    await task.start({ file })
    await task.put([
      new SinkRecord({ topic: 't', kafkaPartition: 0, kafkaOffset: 0, key: null, value: 'a line' }),
      new SinkRecord({
        topic: 't',
        kafkaPartition: 0,
        kafkaOffset: 1,
        key: null,
        valueSchema: schema,
        value: new Struct(schema).put('id', 7).put('note', 'x'),
      }),
    ])
    await task.flush(new Map())
    await task.stop()
    assert.deepEqual(readFileSync(file, 'utf8').split('\n'), ['a line', 'Struct{id=7,note=x}', ''])
  })

  it('writes lines of any size and characters, put after put', async () => {
    const file = join(dir, 'sizes.txt')
    const task = new FileStreamSinkTask()
    await task.start({ file })
    const record = (offset: number, value: unknown) =>
      new SinkRecord({ topic: 't', kafkaPartition: 0, kafkaOffset: offset, key: null, value })
    const big = `big ${'ü€😀'.repeat(50_000)}` // ~450 KB of UTF-8: grows the buffer
    const lines = ['plain', 'naïve — ünïcödé 😀', big, '', 'after']
    await task.put(lines.map((l, i) => record(i, l)))
    // Smaller than the first put: written from the buffer the first one grew.
    await task.put([record(5, 'x'.repeat(1000)), record(6, null), record(7, 42)])
    await task.flush(new Map())
    await task.stop()
    assert.deepEqual(readFileSync(file, 'utf8').split('\n'), [...lines, 'x'.repeat(1000), 'null', '42', ''])
  })
})
