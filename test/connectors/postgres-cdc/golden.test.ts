/**
 * Our events for the fixed change script, serialized by the JsonConverter with schemas, against the
 * events real Debezium 3.6.1.Final emitted for the same script (test/golden/debezium-postgres/,
 * captured by bench/cdc-golden-capture.ts). Key and value schemas and payloads must be equal, except
 * for what differs between any two runs: times, LSNs, transaction ids and the database name.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import type { OffsetMap, SourceRecord } from '../../../src/api/records.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { JsonConverter } from '../../../src/converters/json-converter.ts'
import { SimpleHeaderConverter } from '../../../src/converters/simple-header-converter.ts'
import { createLog } from '../../../src/log/create-log.ts'
import * as basic from '../../golden/debezium-postgres/script.ts'
import * as signals from '../../golden/debezium-postgres-signals/script.ts'
import * as types from '../../golden/debezium-postgres-types/script.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'
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
    // Transaction metadata: the id is `<txId>:<lsn>` of the event itself (checked), the orders are compared.
    const transaction = payload.transaction as Record<string, unknown> | null | undefined
    if (transaction) {
      assert.equal(
        transaction.id,
        `${source.txId}:${source.lsn}`,
        'transaction.id is <txId>:<lsn> of the event',
      )
      delete transaction.id
    }
    for (const k of ['ts_ms', 'ts_us', 'ts_ns', 'txId', 'lsn', 'sequence', 'db']) delete source[k]
    // Watermark rows of the signal table: `<random uuid>-open` / `-close`.
    for (const image of ['before', 'after']) {
      const row = payload[image] as Record<string, unknown> | null
      if (row && typeof row.id === 'string') row.id = row.id.replace(UUID, '<uuid>')
      // …whose data holds the times the window opened and closed.
      if (row && typeof row.data === 'string') row.data = row.data.replaceAll(INSTANT, '<instant>')
    }
  } else if (payload && typeof payload === 'object') {
    const name = (parsed as { schema?: { name?: string } }).schema?.name ?? ''
    // Transaction BEGIN/END events and their keys: `id` is `<txid>:<lsn>`, `ts_ms` a processing time.
    if (name.startsWith('io.debezium.connector.common.TransactionMetadata')) {
      assert.match(String(payload.id), /^\d+:\d+$/, 'transaction id <txId>:<lsn>')
      delete payload.id
      delete payload.ts_ms
    }
    if (name === 'io.debezium.connector.common.Heartbeat') delete payload.ts_ms
    // Keys of the signal table's watermark rows: `<random uuid>-open` / `-close`.
    if (name.endsWith('.Key') && typeof payload.id === 'string')
      payload.id = payload.id.replace(UUID, '<uuid>')
  }
  return parsed
}

const INSTANT = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/

/** The JSON texts (JsonConverter with schemas) of our records, topics without the prefix. */
function asGolden(records: readonly SourceRecord[], prefix: string): GoldenRecord[] {
  const keys = new JsonConverter()
  keys.configure({ 'schemas.enable': 'true' }, true)
  const values = new JsonConverter()
  values.configure({ 'schemas.enable': 'true' }, false)
  const headers = new SimpleHeaderConverter()
  const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('utf8'))
  return records.map((r) => ({
    topic: goldenTopic(r.topic, prefix),
    key: text(keys.fromConnectData(r.topic, r.keySchema, r.key)),
    value: text(values.fromConnectData(r.topic, r.valueSchema, r.value)),
    headers: Object.fromEntries(
      [...r.headers].map((hd) => [
        hd.key,
        text(headers.fromConnectHeader(r.topic, hd.key, hd.schema, hd.value)) ?? '',
      ]),
    ),
  }))
}

const goldenTopic = (topic: string, prefix: string): string =>
  topic === `__debezium-heartbeat.${prefix}` ? '__debezium-heartbeat' : topic.slice(prefix.length + 1)

/**
 * Header names in order and values, the run id (new at each task start) only checked to be a version 7
 * UUID as Debezium makes it.
 */
function normalizeHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers).map(([k, v]) => {
    if (k !== '__debezium.context.runId') return [k, v]
    assert.match(v, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'runId')
    return [k, '<run id>']
  })
}

/** Per topic, record by record: keys and values normalized, headers as they are. */
function assertSameRecords(ours: GoldenRecord[], golden: GoldenRecord[]): void {
  const expected = byTopic(golden)
  const actual = byTopic(ours)
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort())
  for (const [topic, records] of expected) {
    const mine = actual.get(topic)!
    assert.equal(mine.length, records.length, `${topic}: number of records`)
    records.forEach((g, i) => {
      const where = `${topic} record ${i}`
      assert.deepEqual(normalize(mine[i].key), normalize(g.key), `${where}: key`)
      assert.deepEqual(normalize(mine[i].value), normalize(g.value), `${where}: value`)
      assert.deepEqual(normalizeHeaders(mine[i].headers), normalizeHeaders(g.headers), `${where}: headers`)
    })
  }
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
    // These captures kept only the key-change headers (`__debezium.oldkey`/`newkey`).
    const ours = asGolden(h.records, golden.prefix).map((r) => ({
      ...r,
      headers: Object.fromEntries(
        Object.entries(r.headers).filter(
          ([k]) => k.startsWith('__debezium.old') || k.startsWith('__debezium.new'),
        ),
      ),
    }))
    assertSameRecords(ours, golden.records)
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

interface SignalsGolden extends Golden {
  phases: { name: string; counts: Record<string, number>; offset?: OffsetMap }[]
}

/** Offset fields that differ between any two runs (positions in the WAL, transaction ids, times). */
const RUN_SPECIFIC_OFFSET_FIELDS = ['lsn', 'lsn_proc', 'lsn_commit', 'txId', 'ts_usec']

/**
 * Our committed offset against the one Debezium flushed after the same phase. Run-specific fields are
 * removed. `kafka_signal_offset` is ours on purpose: Sluice keeps the Kafka signal channel's position
 * in the source offsets (written with the records the signal causes) so that a restart never runs a
 * signal twice, where Debezium relies on the consumer group alone; it is checked to be the offset of
 * the one signal sent, and otherwise ignored.
 */
function normalizeOffset(offset: OffsetMap | undefined | null, ours: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(offset ?? {}) }
  for (const k of RUN_SPECIFIC_OFFSET_FIELDS) delete out[k]
  // Ours on purpose (src/connectors/postgres-cdc/offsets.ts): the messages of transaction `txId` already
  // handled, so a restart inside a transaction resumes at the next message (dbz#1554).
  if (ours) delete out.tx_events_processed
  if (ours && 'kafka_signal_offset' in out) {
    assert.equal(Number(out.kafka_signal_offset), 0, 'kafka_signal_offset: the one Kafka signal, at offset 0')
    delete out.kafka_signal_offset
  }
  return out
}

async function compareSignals(golden: SignalsGolden): Promise<void> {
  const h = await harness('golden_sig')
  const signalTopic = `golden-signal-${randomBytes(5).toString('hex')}`
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }), 'golden-signals')
  try {
    await log.createTopics([{ name: signalTopic, partitions: 1, replicationFactor: 1 }])
    await h.db.sql(...signals.setup)
    await h.start({
      'topic.prefix': golden.prefix,
      ...signals.PROPS,
      'signal.kafka.topic': signalTopic,
      'signal.kafka.bootstrap.servers': kafkaBootstrap(),
      'signal.kafka.groupId': `golden-signal-${randomBytes(4).toString('hex')}`,
    })
    const counts = (records: readonly SourceRecord[]): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const r of records) {
        const topic = goldenTopic(r.topic, golden.prefix)
        if (topic !== '__debezium-heartbeat') out[topic] = (out[topic] ?? 0) + 1
      }
      return out
    }
    const reached = (want: Record<string, number>) => (records: readonly SourceRecord[]) => {
      const have = counts(records)
      return Object.entries(want).every(([t, n]) => (have[t] ?? 0) >= n)
    }
    const [initial, ...phases] = golden.phases
    await h.pollUntil(reached(initial.counts), 30_000, initial.name)
    for (const [i, phase] of signals.PHASES.entries()) {
      const expected = phases[i]
      assert.equal(expected.name, phase.name, 'the golden phases follow the script')
      if ('sql' in phase) await h.db.sql(...phase.sql)
      else {
        const producer = log.createProducer({ clientId: 'golden-signals' })
        await producer.send([
          {
            topic: signalTopic,
            partition: 0,
            key: Buffer.from(golden.prefix),
            value: Buffer.from(JSON.stringify(phase.kafkaSignal)),
          },
        ])
        await producer.close()
      }
      await h.pollUntil(reached(expected.counts), 60_000, phase.name).catch((error: unknown) => {
        throw new Error(
          `${phase.name}: ${JSON.stringify(counts(h.records))}, Debezium ${JSON.stringify(expected.counts)}`,
          { cause: error },
        )
      })
      // Nothing more than Debezium made: a little longer, then the counts must be exactly equal.
      const deadline = Date.now() + 1500
      await h.pollUntil(() => Date.now() > deadline, 5000)
      assert.deepEqual(counts(h.records), expected.counts, `${phase.name}: records per topic`)
      if (expected.offset !== undefined) {
        // Debezium's offsets were read after 6 s without a new record, heartbeats coming every 2 s: the
        // offset of a heartbeat, the idle position. Ours is compared at our next heartbeat likewise.
        const from = h.records.length
        await h.pollUntil(
          (r) => r.slice(from).some((x) => goldenTopic(x.topic, golden.prefix) === '__debezium-heartbeat'),
          10_000,
          `a heartbeat after ${phase.name}`,
        )
        const partition = JSON.stringify({ server: golden.prefix })
        assert.deepEqual(
          normalizeOffset(h.offsets.get(partition), true),
          normalizeOffset(expected.offset, false),
          `${phase.name}: committed offset`,
        )
      }
    }
    // Heartbeats come on a timer: the first one's key and value (schemas included) are compared.
    const ours = asGolden(h.records, golden.prefix)
    const firstHeartbeat = ours.filter((r) => r.topic === '__debezium-heartbeat').slice(0, 1)
    assert.equal(firstHeartbeat.length, 1, 'a heartbeat was emitted')
    assertSameRecords(
      [...ours.filter((r) => r.topic !== '__debezium-heartbeat'), ...firstHeartbeat],
      golden.records,
    )
  } finally {
    await log.deleteTopics([signalTopic]).catch(() => {})
    await log.close()
    await h.close()
  }
}

describe('[integration] signals, on-demand snapshots, transaction metadata and heartbeats match Debezium 3.6.1', {
  skip: postgresSkipReason() || kafkaSkipReason(),
}, () => {
  test('signal-table and Kafka-channel incremental snapshots, a blocking snapshot: records and offsets', async () => {
    await compareSignals(readGolden('debezium-postgres-signals/events.json') as SignalsGolden)
  })
})
