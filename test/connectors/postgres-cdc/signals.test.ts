/**
 * Signals from the Kafka channel and blocking snapshots, on the real PostgreSQL and Kafka: the task
 * driven as the runtime drives it (harness.ts), offsets kept between restarts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import type { SourceRecord } from '../../../src/api/records.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'
import type { Log } from '../../../src/log/log.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'
import { after, harness, op, plain } from './harness.ts'

const SIGNAL_TABLE =
  'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)'

const source = (r: SourceRecord): Record<string, unknown> =>
  (plain(r.value) as { source: Record<string, unknown> }).source
const tableOf = (r: SourceRecord): string => String(source(r).table)
const reads = (records: SourceRecord[], table: string): number[] =>
  records.filter((r) => op(r) === 'r' && tableOf(r) === table).map((r) => after(r)!.id as number)
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)
const sorted = (ids: number[]): number[] => [...new Set(ids)].sort((a, b) => a - b)

async function withLog<T>(fn: (log: Log) => Promise<T>): Promise<T> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }), 'cdc-signal-test')
  try {
    return await fn(log)
  } finally {
    await log.close()
  }
}

async function sendSignals(topic: string, signals: { key: string; value: unknown }[]): Promise<void> {
  await withLog(async (log) => {
    const producer = log.createProducer({ clientId: 'cdc-signal-test' })
    try {
      await producer.send(
        signals.map((s) => ({
          topic,
          partition: 0,
          key: Buffer.from(s.key),
          value: Buffer.from(JSON.stringify(s.value)),
        })),
      )
    } finally {
      await producer.close()
    }
  })
}

describe('[integration] PostgreSQL CDC signals: Kafka channel', {
  skip: postgresSkipReason() || kafkaSkipReason(),
}, () => {
  test('a Kafka signal snapshots two tables incrementally; a wrong key is ignored; a restart does not run it again', async () => {
    const h = await harness('cdc_ksig')
    const topic = `sig-${randomBytes(5).toString('hex')}`
    const group = `kafka-signal-${randomBytes(4).toString('hex')}`
    try {
      await h.db.sql(
        'CREATE TABLE a (id int PRIMARY KEY, v text)',
        'CREATE TABLE b (id int PRIMARY KEY, v text)',
        'CREATE TABLE c (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 25) g`,
        `INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 7) g`,
        `INSERT INTO c SELECT g, 'c' || g FROM generate_series(1, 3) g`,
      )
      await withLog((log) => log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]))
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'signal.enabled.channels': 'source,kafka',
        'signal.kafka.topic': topic,
        'signal.kafka.bootstrap.servers': kafkaBootstrap(),
        'signal.kafka.groupId': group,
        'incremental.snapshot.chunk.size': '10',
        'table.include.list': 'public.a,public.b,public.c',
      }
      await h.start(props)
      await sendSignals(topic, [
        // Another connector's signal (key = its topic.prefix): not for us.
        {
          key: 'other',
          value: { id: 'x1', type: 'execute-snapshot', data: { 'data-collections': ['public.c'] } },
        },
        {
          key: 'srv',
          value: {
            id: 'k1',
            type: 'execute-snapshot',
            data: { 'data-collections': ['public.a', 'public.b'] },
          },
        },
      ])
      await h.pollUntil(
        (r) => sorted(reads(r, 'a')).length === 25 && sorted(reads(r, 'b')).length === 7,
        60_000,
        'the incremental snapshot of a and b',
      )
      assert.deepEqual(sorted(reads(h.records, 'a')), range(1, 25))
      assert.deepEqual(sorted(reads(h.records, 'b')), range(1, 7))
      for (const r of h.records.filter((x) => op(x) === 'r')) assert.equal(source(r).snapshot, 'incremental')
      assert.equal(
        h.records.at(-1)!.sourceOffset!.kafka_signal_offset,
        1,
        'the handled signal is in the offsets',
      )
      // The group offset follows the stored offsets: one past the handled signal.
      const deadline = Date.now() + 15_000
      for (;;) {
        const committed = await withLog((log) => log.groupOffsets(group))
        if ([...committed.values()][0] === 2) break
        if (Date.now() > deadline)
          assert.fail(`group offset not committed: ${JSON.stringify([...committed])}`)
        await new Promise((r) => setTimeout(r, 200))
      }

      // Restart: the handled signal is not executed again; streaming goes on.
      await h.stopTask()
      await h.start(props)
      const readsBefore = h.records.filter((r) => op(r) === 'r').length
      await h.db.sql(`INSERT INTO a VALUES (100, 'after restart')`)
      await h.pollUntil((r) => r.some((x) => op(x) === 'c' && after(x)?.id === 100), 30_000, 'the insert')
      const until = Date.now() + 3000
      await h.pollUntil(() => Date.now() > until, 10_000)
      assert.equal(
        h.records.filter((r) => op(r) === 'r').length,
        readsBefore,
        'no snapshot re-run after the restart',
      )
      assert.deepEqual(reads(h.records, 'c'), [], 'the signal with the wrong key was ignored')

      // A blocking snapshot through Kafka works too.
      await sendSignals(topic, [
        {
          key: 'srv',
          value: {
            id: 'k2',
            type: 'execute-snapshot',
            data: { 'data-collections': ['public.c'], type: 'BLOCKING' },
          },
        },
      ])
      await h.pollUntil((r) => sorted(reads(r, 'c')).length === 3, 30_000, 'the blocking snapshot of c')
      const blocking = h.records.filter((r) => op(r) === 'r' && tableOf(r) === 'c')
      assert.deepEqual(
        blocking.map((r) => source(r).snapshot),
        ['first', 'true', 'last'],
      )
      assert.equal(blocking[0].sourceOffset!.snapshot, 'BLOCKING')
      assert.equal(blocking.at(-1)!.sourceOffset!.kafka_signal_offset, 2)
    } finally {
      await h.close()
      await withLog((log) => log.deleteTopics([topic])).catch(() => {})
    }
  })
})

describe('[integration] PostgreSQL CDC blocking snapshots', { skip: postgresSkipReason() }, () => {
  test('streaming pauses for the snapshot; with concurrent writes every row is read and every change streamed', async () => {
    const h = await harness('cdc_block')
    try {
      await h.db.sql(
        'CREATE TABLE t1 (id int PRIMARY KEY, v text)',
        'CREATE TABLE t2 (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO t1 SELECT g, 'v' || g FROM generate_series(1, 3000) g`,
        `INSERT INTO t2 SELECT g, 'w' || g FROM generate_series(1, 100) g`,
      )
      await h.start({
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'table.include.list': 'public.t1,public.t2',
        'snapshot.fetch.size': '200',
        'max.batch.size': '100',
        'max.queue.size': '1000',
      })
      // Writes before, during and after the snapshot: inserts of new ids, updates of existing ones.
      let writing = true
      let next = 3001
      const writer = (async () => {
        while (writing) {
          await h.db.sql(
            `INSERT INTO t1 SELECT g, 'n' || g FROM generate_series(${next}, ${next + 19}) g`,
            `UPDATE t1 SET v = v || '+' WHERE id = ${1 + (next % 3000)}`,
          )
          next += 20
          await new Promise((r) => setTimeout(r, 5))
        }
      })()
      await h.pollUntil((r) => r.filter((x) => op(x) === 'c').length > 100, 30_000, 'streaming')
      // The signal inside a transaction that goes on writing: streaming pauses in its middle.
      await h.db.sql(
        'BEGIN',
        `INSERT INTO debezium_signal VALUES ('b1', 'execute-snapshot', '{"type": "blocking", "data-collections": ["public\\\\.t.*"], ` +
          `"additional-conditions": [{"data-collection": "public.t2", "filter": "SELECT * FROM public.t2 WHERE id <= 50"}]}')`,
        `INSERT INTO t1 SELECT g, 'in the signal transaction' FROM generate_series(100001, 100050) g`,
        'COMMIT',
      )
      const writtenAtSignal = next
      await h.pollUntil(
        (r) => r.some((x) => op(x) === 'r' && source(x).snapshot === 'last'),
        60_000,
        'the snapshot',
      )
      assert.ok(next > writtenAtSignal, 'rows were written while the snapshot ran')
      await h.pollUntil(
        (r) => r.filter((x) => op(x) !== 'r').length > 0 && op(r.at(-1)!) !== 'r',
        30_000,
        'streaming again',
      )
      writing = false
      await writer
      const last = next - 1
      await h.pollUntil(
        (r) => r.some((x) => op(x) === 'c' && after(x)?.id === last),
        60_000,
        'the last insert',
      )

      const snapshot = h.records.filter((r) => op(r) === 'r')
      // One contiguous run of snapshot records: streaming was paused meanwhile.
      const first = h.records.indexOf(snapshot[0])
      assert.equal(
        h.records.indexOf(snapshot.at(-1)!) - first + 1,
        snapshot.length,
        'no streamed event inside the snapshot',
      )
      assert.equal(source(snapshot[0]).snapshot, 'first')
      assert.equal(source(snapshot.at(-1)!).snapshot, 'last')
      assert.equal(snapshot[0].sourceOffset!.snapshot, 'BLOCKING')
      assert.equal(snapshot.at(-1)!.sourceOffset!.last_snapshot_record, true)
      assert.deepEqual(sorted(reads(snapshot, 't2')), range(1, 50), 't2 through its SELECT')
      const t1 = sorted(reads(snapshot, 't1'))
      assert.ok(t1.length >= 3000, `every row of t1 at the snapshot (${t1.length})`)
      assert.deepEqual(t1.slice(0, 3000), range(1, 3000))
      assert.equal(reads(snapshot, 't1').length, t1.length, 'each row once')
      // Every insert streamed (none lost across the pause); replaying all events gives the table.
      const created = new Set(h.records.filter((r) => op(r) === 'c').map((r) => after(r)!.id as number))
      for (let id = 3001; id <= last; id++) assert.ok(created.has(id), `insert ${id} streamed`)
      for (let id = 100001; id <= 100050; id++)
        assert.ok(created.has(id), `insert ${id} after the signal streamed`)
      const state = new Map<number, unknown>()
      for (const r of h.records) {
        if (r.value === null || tableOf(r) !== 't1') continue
        state.set(after(r)!.id as number, after(r)!.v)
      }
      const rows = (await h.db.sql('SELECT id, v FROM t1'))[0] as { id: number; v: string }[]
      assert.equal(state.size, rows.length)
      for (const row of rows) assert.equal(state.get(row.id), row.v, `row ${row.id}`)
    } finally {
      await h.close()
    }
  })

  test('a restart during a blocking snapshot reads the remaining tables again, then streams from the pause', async () => {
    const h = await harness('cdc_block_rs')
    try {
      await h.db.sql(
        'CREATE TABLE big (id int PRIMARY KEY, v text)',
        'CREATE TABLE small (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 2000) g`,
        `INSERT INTO small SELECT g, 's' || g FROM generate_series(1, 10) g`,
      )
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'table.include.list': 'public.small,public.big',
        'snapshot.fetch.size': '100',
        // Polls of at most 100 records, so the restart below lands in the middle of the snapshot.
        'max.batch.size': '100',
      }
      await h.start(props)
      await h.db.sql(
        `INSERT INTO debezium_signal VALUES ('b1', 'execute-snapshot', '{"type": "blocking", "data-collections": ["public.big", "public.small"]}')`,
        `INSERT INTO small VALUES (11, 'streamed after the pause')`,
      )
      await h.pollUntil((r) => reads(r, 'big').length >= 300, 30_000, 'part of big')
      assert.equal(h.records.at(-1)!.sourceOffset!.blocking_snapshot_collections !== undefined, true)
      await h.stopTask()
      await h.start(props)
      await h.pollUntil(
        (r) => r.some((x) => op(x) === 'c' && after(x)?.id === 11),
        30_000,
        'the insert after the pause',
      )
      // The row inserted after the signal may be in the snapshot too (it began after the pause): at-least-once.
      assert.deepEqual(
        sorted(reads(h.records, 'small')).slice(0, 10),
        range(1, 10),
        'small read (before the restart)',
      )
      assert.deepEqual(
        sorted(reads(h.records, 'big')),
        range(1, 2000),
        'big read completely after the restart',
      )
      const snapshotEnd = h.records.findIndex((x) => op(x) === 'r' && source(x).snapshot === 'last')
      const insert = h.records.findIndex((x) => op(x) === 'c' && after(x)?.id === 11)
      assert.ok(
        snapshotEnd >= 0 && insert > snapshotEnd,
        'the change after the signal comes after the snapshot',
      )
      // Done: another restart neither re-runs the snapshot nor loses the stream.
      const readsBefore = h.records.filter((r) => op(r) === 'r').length
      await h.stopTask()
      await h.start(props)
      await h.db.sql(`INSERT INTO small VALUES (12, 'later')`)
      await h.pollUntil((r) => r.some((x) => op(x) === 'c' && after(x)?.id === 12), 30_000, 'a later insert')
      assert.equal(h.records.filter((r) => op(r) === 'r').length, readsBefore)
      assert.equal(
        h.records.filter((r) => op(r) === 'c' && after(r)?.id === 11).length,
        1,
        'the paused change once',
      )
    } finally {
      await h.close()
    }
  })
})
