/**
 * Incremental-snapshot progress in Debezium's offset form, both ways: Sluice resumes from keys a JVM
 * serialized as Debezium does, and the keys Sluice writes read back in Java as the classes Debezium's
 * PostgreSQL connector keeps (so Debezium resumes from Sluice's offsets). Sluice's earlier JSON-array
 * keys still resume.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import type { OffsetMap, SourceRecord } from '../../../src/api/records.ts'
import { deserializeKey, serializeKey } from '../../../src/connectors/postgres-cdc/java-serialization.ts'
import { readOffset } from '../../../src/connectors/postgres-cdc/offsets.ts'
import { CHUNK_SIZE, ROWS, TABLE_SETUP } from '../../golden/debezium-postgres-incremental/script.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { after, harness, op } from './harness.ts'
import { javaKeys } from './java/java-keys.ts'

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')
const uuid = (n: number): string => `00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`
const day = (n: number): string => new Date(Date.UTC(2024, 0, 1 + n)).toISOString().slice(0, 10)
/** Row n's key as Debezium's PostgreSQL connector holds it (pgjdbc getObject classes). */
const javaKey = (n: number): string =>
  `Long:${n}|Date:${day(n)}|BigDecimal:${n}.50|String:${b64(`s${n}`)}|UUID:${uuid(n)}`

describe('[integration] incremental snapshot offsets in Debezium form', {
  skip: postgresSkipReason(),
}, () => {
  test('resumes from keys Java serialized, writes keys Java reads as Debezium’s classes, and still reads JSON keys', async () => {
    const h = await harness('cdc_dbzkeys')
    try {
      await h.db.sql(
        `CREATE TABLE multi (a int8, d date, n numeric(10,2), s varchar(20), u uuid, v text,
           PRIMARY KEY (a, d, n, s, u))`,
        `CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)`,
        `INSERT INTO multi SELECT g, DATE '2024-01-01' + g, g + 0.5, 's' || g, lpad(to_hex(g), 32, '0')::uuid, 'v' || g
           FROM generate_series(1, 20) g`,
      )
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'incremental.snapshot.chunk.size': '4',
        'table.include.list': 'public.multi',
      }
      await h.start(props)
      await h.db.sql(`INSERT INTO multi VALUES (1000, '2030-01-01', 0, 'x', gen_random_uuid(), 'streamed')`)
      await h.pollUntil((r) => r.some((x) => after(x)?.a === 1000), 30_000, 'a streamed row')
      await h.stopTask()

      // The offset Debezium 3.6.1 would have stored after sending row 10 of 20.
      const partition = JSON.stringify({ server: 'srv' })
      const streamed = { ...h.offsets.get(partition)! }
      delete streamed.tx_events_processed
      const [lastKey, maximumKey] = javaKeys('encode', [javaKey(10), javaKey(20)])
      const debezium: OffsetMap = {
        ...streamed,
        incremental_snapshot_collections:
          '[{"incremental_snapshot_collections_id":"public.multi","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":null}]',
        incremental_snapshot_primary_key: lastKey,
        incremental_snapshot_maximum_key: maximumKey,
        incremental_snapshot_correlation_id: 'dbz-signal-1',
      }
      h.offsets.set(partition, debezium)
      const from = h.records.length
      const reads = (): SourceRecord[] => h.records.slice(from).filter((r) => op(r) === 'r')
      const done = (): boolean =>
        h.records.at(-1)?.sourceOffset?.incremental_snapshot_collections === undefined
      await h.start(props)
      await h.pollUntil(() => reads().length >= 10, 30_000, 'rows 11 to 20')
      // A streamed row after the snapshot: nothing more is read, and its offset no longer has the snapshot.
      await h.db.sql(`INSERT INTO multi VALUES (2000, '2030-01-01', 0, 'x', gen_random_uuid(), 'streamed')`)
      await h.pollUntil((r) => r.some((x) => after(x)?.a === 2000), 30_000, 'the second streamed row')
      assert.equal(done(), true)
      assert.deepEqual(
        reads().map((r) => after(r)!.a),
        [11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
        'exactly the rows after the key Debezium stored, up to its maximum key',
      )
      const eleventh = reads()[0]
      assert.deepEqual(after(eleventh)!.d, 19733 + 11 - 10) // 2024-01-12 in days since the epoch
      assert.equal(eleventh.sourceOffset!.incremental_snapshot_correlation_id, 'dbz-signal-1')

      // Each read carries its own key (Debezium's lastEventKeySent), in the form and classes Debezium keeps.
      const written = reads().map((r) => r.sourceOffset!)
      const decoded = javaKeys('decode', [
        String(written[0].incremental_snapshot_primary_key),
        String(written[0].incremental_snapshot_maximum_key),
        String(written[5].incremental_snapshot_primary_key),
      ])
      assert.deepEqual(decoded, [javaKey(11), javaKey(20), javaKey(16)])
      assert.deepEqual(
        JSON.parse(String(written[0].incremental_snapshot_collections)).map(
          (c: Record<string, unknown>) => c.incremental_snapshot_collections_id,
        ),
        ['public.multi'],
      )

      // Sluice's earlier offsets (JSON arrays of texts) still resume.
      await h.stopTask()
      h.offsets.set(partition, {
        ...h.offsets.get(partition)!,
        incremental_snapshot_collections: debezium.incremental_snapshot_collections as string,
        incremental_snapshot_primary_key: JSON.stringify(['16', day(16), '16.50', 's16', uuid(16)]),
        incremental_snapshot_maximum_key: JSON.stringify(['20', day(20), '20.50', 's20', uuid(20)]),
        incremental_snapshot_correlation_id: 'old',
      })
      const from2 = h.records.length
      await h.start(props)
      await h.pollUntil(
        () => h.records.slice(from2).filter((r) => op(r) === 'r').length >= 4,
        30_000,
        'rows 17 to 20',
      )
      await h.db.sql(`INSERT INTO multi VALUES (3000, '2030-01-01', 0, 'x', gen_random_uuid(), 'streamed')`)
      await h.pollUntil((r) => r.some((x) => after(x)?.a === 3000), 30_000, 'the third streamed row')
      assert.deepEqual(
        h.records
          .slice(from2)
          .filter((r) => op(r) === 'r')
          .map((r) => after(r)!.a),
        [17, 18, 19, 20],
      )
    } finally {
      await h.close()
    }
  })
})

interface Handover {
  debezium: string
  debeziumToSluice: { offset: OffsetMap; debeziumReads: number[] }
  sluiceToDebezium: { offset: OffsetMap; sluiceReads: number[]; debeziumReads: number[] }
}
const handover = JSON.parse(
  readFileSync(new URL('../../golden/debezium-postgres-incremental/handover.json', import.meta.url), 'utf8'),
) as Handover
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)
const INCREMENTAL_KEYS = [
  'incremental_snapshot_collections',
  'incremental_snapshot_primary_key',
  'incremental_snapshot_maximum_key',
  'incremental_snapshot_correlation_id',
]

describe('[integration] incremental snapshot handover with real Debezium 3.6.1', {
  skip: postgresSkipReason(),
}, () => {
  test('Sluice resumes from the offset Debezium stored when stopped part-way, at the next row', async () => {
    const { offset, debeziumReads } = handover.debeziumToSluice
    const last = deserializeKey(String(offset.incremental_snapshot_primary_key))!
    const lastRow = Number(last[0]!.text)
    assert.deepEqual(debeziumReads, range(1, lastRow), 'Debezium had sent rows 1 to the key in its offset')
    const h = await harness('cdc_handover')
    try {
      await h.db.sql(...TABLE_SETUP)
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'incremental.snapshot.chunk.size': String(CHUNK_SIZE),
        'table.include.list': 'public.inc',
      }
      await h.start(props)
      await h.db.sql(`INSERT INTO inc VALUES (5000, '2030-01-01', 0, 'x', gen_random_uuid(), 'streamed')`)
      await h.pollUntil((r) => r.some((x) => after(x)?.a === 5000), 30_000, 'a streamed row')
      await h.stopTask()
      // Our slot's position, with the incremental snapshot exactly as Debezium left it.
      const partition = JSON.stringify({ server: 'srv' })
      const merged: Record<string, string | number | boolean | null> = { ...h.offsets.get(partition)! }
      for (const k of INCREMENTAL_KEYS) merged[k] = offset[k]
      h.offsets.set(partition, merged)
      const from = h.records.length
      const reads = (): number[] =>
        h.records
          .slice(from)
          .filter((r) => op(r) === 'r')
          .map((r) => after(r)!.a as number)
      await h.start(props)
      await h.pollUntil(() => reads().length >= ROWS - lastRow, 60_000, 'the rest of the table')
      await h.db.sql(`INSERT INTO inc VALUES (6000, '2030-01-01', 0, 'x', gen_random_uuid(), 'streamed')`)
      await h.pollUntil((r) => r.some((x) => after(x)?.a === 6000), 30_000, 'a row streamed after it')
      assert.deepEqual(
        reads(),
        range(lastRow + 1, ROWS),
        'every row after Debezium’s last, once, in key order',
      )
    } finally {
      await h.close()
    }
  })

  test('Debezium resumed from the offset Sluice stored when stopped part-way, at the next row (recorded)', () => {
    // Recorded by bench/cdc-incremental-capture.ts: Sluice's offset in Debezium's offsets file, same slot.
    const { offset, sluiceReads, debeziumReads } = handover.sluiceToDebezium
    const last = deserializeKey(String(offset.incremental_snapshot_primary_key))!
    assert.deepEqual(
      last.map((v) => v?.type),
      ['Long', 'Date', 'BigDecimal', 'String', 'UUID'],
    )
    const lastRow = Number(last[0]!.text)
    assert.deepEqual(sluiceReads, range(1, lastRow))
    assert.deepEqual(debeziumReads, range(lastRow + 1, ROWS))
    // What Sluice writes today is byte for byte what Debezium accepted then.
    for (const k of ['incremental_snapshot_primary_key', 'incremental_snapshot_maximum_key']) {
      assert.equal(serializeKey(deserializeKey(String(offset[k]))), offset[k], k)
    }
  })
})

describe('incremental snapshot offsets (pure)', () => {
  test('an unreadable key starts the table over with a warning that says why and what to do', () => {
    const stored = readOffset({
      lsn: 1,
      incremental_snapshot_collections: '[{"incremental_snapshot_collections_id":"public.t"}]',
      incremental_snapshot_primary_key:
        'aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000001737200' +
        '0e6a6176612e7574696c2e44617465686a81014b59741903000078707708000000000000000078',
      incremental_snapshot_maximum_key: 'aced000570',
    })!
    assert.equal(stored.incremental?.lastKey, null)
    assert.deepEqual(
      stored.incremental?.collections.map((c) => c.id),
      ['public.t'],
    )
    assert.match(
      stored.warnings[0],
      /incremental_snapshot_primary_key.*java\.util\.Date.*public\.t starts over/s,
    )
  })
})
