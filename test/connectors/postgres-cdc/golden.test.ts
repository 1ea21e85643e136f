/**
 * Our events for the fixed change script, serialized by the JsonConverter with schemas, against the
 * events real Debezium 3.6.1.Final emitted for the same script (test/golden/debezium-postgres/,
 * captured by bench/cdc-golden-capture.ts). Key and value schemas and payloads must be equal, except
 * for what differs between any two runs: times, LSNs, transaction ids and the database name.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { JsonConverter } from '../../../src/converters/json-converter.ts'
import { SimpleHeaderConverter } from '../../../src/converters/simple-header-converter.ts'
import * as basic from '../../golden/debezium-postgres/script.ts'
import * as types from '../../golden/debezium-postgres-types/script.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { harness } from './harness.ts'

interface GoldenRecord {
  topic: string
  key: string | null
  value: string | null
  headers: Record<string, string>
}
interface Golden {
  prefix: string
  records: GoldenRecord[]
}
const readGolden = (path: string): Golden =>
  JSON.parse(readFileSync(new URL(`../../golden/${path}`, import.meta.url), 'utf8')) as Golden

/** JSON.parse keeping integers beyond 2^53 exact (as strings), with run-specific fields removed. */
function normalize(text: string | null): unknown {
  if (text === null) return null
  const parsed = JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value) && context?.source
      ? `int:${context.source}`
      : value,
  ) as { payload?: Record<string, unknown> }
  const payload = parsed.payload
  if (payload && typeof payload === 'object' && 'op' in payload) {
    for (const k of ['ts_ms', 'ts_us', 'ts_ns']) delete payload[k]
    const source = payload.source as Record<string, unknown>
    for (const k of ['ts_ms', 'ts_us', 'ts_ns', 'txId', 'lsn', 'sequence', 'db']) delete source[k]
  }
  return parsed
}

const byTopic = (records: GoldenRecord[]): Map<string, GoldenRecord[]> => {
  const out = new Map<string, GoldenRecord[]>()
  for (const r of records) out.set(r.topic, [...(out.get(r.topic) ?? []), r])
  return out
}

interface Script {
  GOLDEN_TABLES: string[]
  EXPECTED_RECORDS: number
  SNAPSHOT_RECORDS?: number
  setup: string[]
  changes: string[]
}

/** Runs the script through our task and compares every record with the golden capture. */
async function compare(script: Script, golden: Golden, props: Record<string, string> = {}): Promise<void> {
  const h = await harness('golden')
  try {
    await h.db.sql(...script.setup)
    await h.start({
      'topic.prefix': golden.prefix,
      'table.include.list': script.GOLDEN_TABLES.join(','),
      ...props,
    })
    await h.pollUntil((r) => r.length >= (script.SNAPSHOT_RECORDS ?? 3), 30_000, 'the snapshot')
    await h.db.sql(...script.changes)
    await h.pollUntil((r) => r.length >= script.EXPECTED_RECORDS, 30_000, 'the streamed changes')
    const keys = new JsonConverter()
    keys.configure({ 'schemas.enable': 'true' }, true)
    const values = new JsonConverter()
    values.configure({ 'schemas.enable': 'true' }, false)
    const headers = new SimpleHeaderConverter()
    const text = (b: Uint8Array | null): string | null =>
      b === null ? null : Buffer.from(b).toString('utf8')
    const ours: GoldenRecord[] = h.records.map((r) => ({
      topic: r.topic.slice(golden.prefix.length + 1),
      key: text(keys.fromConnectData(r.topic, r.keySchema, r.key)),
      value: text(values.fromConnectData(r.topic, r.valueSchema, r.value)),
      headers: Object.fromEntries(
        [...r.headers].map((hd) => [
          hd.key,
          text(headers.fromConnectHeader(r.topic, hd.key, hd.schema, hd.value)) ?? '',
        ]),
      ),
    }))
    const expected = byTopic(golden.records)
    const actual = byTopic(ours)
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort())
    for (const [topic, records] of expected) {
      const mine = actual.get(topic)!
      assert.equal(mine.length, records.length, `${topic}: number of records`)
      records.forEach((g, i) => {
        const where = `${topic} record ${i}`
        assert.deepEqual(normalize(mine[i].key), normalize(g.key), `${where}: key`)
        assert.deepEqual(normalize(mine[i].value), normalize(g.value), `${where}: value`)
        assert.deepEqual(mine[i].headers, g.headers, `${where}: headers`)
      })
    }
  } finally {
    await h.close()
  }
}

describe('[integration] events match Debezium 3.6.1 for the same changes', {
  skip: postgresSkipReason(),
}, () => {
  test('keys, values (schemas and payloads) and key-change headers equal the golden capture', async () => {
    await compare(basic, readGolden('debezium-postgres/events.json'))
  })

  // Point, hstore, ltree, citext, money, intervals, geometric types, ranges, … under several settings.
  for (const [variant, props] of Object.entries(types.VARIANTS)) {
    test(`more types, ${variant} (${
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || 'default settings'
    })`, async () => {
      await compare(types, readGolden(`debezium-postgres-types/events-${variant}.json`), props)
    })
  }
})
