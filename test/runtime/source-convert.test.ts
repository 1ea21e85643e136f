/**
 * The source runner's conversion of one record (pure logic, fake converters): headers in order,
 * converted in one pass, also when a header converter answers with a promise for some of them; a
 * record without headers gets none; a failing header converter is reported at its stage.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { HeaderConverter } from '../../src/api/converter.ts'
import { Headers } from '../../src/api/headers.ts'
import { SourceRecord } from '../../src/api/records.ts'
import { StringConverter } from '../../src/converters/string-converter.ts'
import type { ProduceRecord } from '../../src/log/log.ts'
import type { Stage } from '../../src/runtime/errors/error-handler.ts'
import { convert } from '../../src/runtime/source-task-runner.ts'

/** Header values as `key=value` text; keys in `later` are answered with a promise. */
function headerConverter(later: string[] = [], failOn?: string): HeaderConverter {
  return {
    configure() {},
    fromConnectHeader(_topic, key, _schema, value) {
      if (key === failOn) throw new Error(`cannot convert header ${key}`)
      const bytes = value === null ? null : Buffer.from(`${key}=${String(value)}`)
      return later.includes(key) ? new Promise((resolve) => setTimeout(() => resolve(bytes), 5)) : bytes
    },
    toConnectHeader() {
      throw new Error('not used')
    },
  }
}

function converters(header: HeaderConverter) {
  const key = new StringConverter()
  key.configure({}, true)
  const value = new StringConverter()
  value.configure({}, false)
  return { key, value, header }
}

const record = (headers?: Headers) =>
  new SourceRecord({ topic: 't', key: 'k', value: 'v', timestamp: 7, kafkaPartition: 2, headers })

const text = (r: ProduceRecord) =>
  (r.headers ?? []).map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString()])

describe('source record conversion', () => {
  const headers = () => new Headers().add('a', 1).add('b', 'two').add('a', null).add('c', true)

  it('converts the headers in order, with the key, value, partition and timestamp', async () => {
    const stage = { current: 'TRANSFORMATION' as Stage }
    const out = await convert(record(headers()), converters(headerConverter()), stage)
    assert.deepEqual(text(out), [
      ['a', 'a=1'],
      ['b', 'b=two'],
      ['a', null],
      ['c', 'c=true'],
    ])
    assert.equal(Buffer.from(out.key!).toString(), 'k')
    assert.equal(Buffer.from(out.value!).toString(), 'v')
    assert.equal(out.partition, 2)
    assert.equal(out.timestamp, 7)
    assert.equal(stage.current, 'VALUE_CONVERTER')
  })

  it('keeps the order when the header converter answers some headers with a promise', async () => {
    for (const later of [['a'], ['b'], ['c'], ['a', 'b', 'c']]) {
      const result = convert(record(headers()), converters(headerConverter(later)), {
        current: 'TRANSFORMATION',
      })
      assert.ok(result instanceof Promise, `a promise when ${later.join(',')} is converted later`)
      assert.deepEqual(
        text(await result),
        [
          ['a', 'a=1'],
          ['b', 'b=two'],
          ['a', null],
          ['c', 'c=true'],
        ],
        `converted later: ${later.join(',')}`,
      )
    }
  })

  it('gives a record without headers none, synchronously', () => {
    const out = convert(record(), converters(headerConverter()), { current: 'TRANSFORMATION' })
    assert.ok(!(out instanceof Promise))
    assert.equal((out as ProduceRecord).headers, undefined)
  })

  it('fails at the header converter stage when a header cannot be converted', () => {
    const stage = { current: 'TRANSFORMATION' as Stage }
    assert.throws(
      () => convert(record(headers()), converters(headerConverter([], 'b')), stage),
      /cannot convert header b/,
    )
    assert.equal(stage.current, 'HEADER_CONVERTER')
  })
})
