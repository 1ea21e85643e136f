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
})
