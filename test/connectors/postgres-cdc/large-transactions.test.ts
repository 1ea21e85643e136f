/**
 * Large transactions streamed while they run (pgoutput protocol version 2, `streaming 'on'`) against
 * the real PostgreSQL. The test database gets `logical_decoding_work_mem = 64kB`, so its walsenders
 * stream any transaction beyond 64 kB; `pg_stat_replication_slots.stream_txns` proves they did. A
 * second task on the same database with `pgoutput.streaming=false` (protocol version 1) is the
 * reference: both must emit the same events.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, test } from 'node:test'
import pg from 'pg'
import type { OffsetMap, SourceRecord } from '../../../src/api/records.ts'
import { readOffset } from '../../../src/connectors/postgres-cdc/offsets.ts'
import { PostgresCdcSourceTask } from '../../../src/connectors/postgres-cdc/source-task.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { type Harness, harness, plain, waitForReceived } from './harness.ts'

const skip = postgresSkipReason()
const PAD = `'${'x'.repeat(200)}'`

/** A second task on the harness's database with its own slot, polled the same way. */
async function secondTask(
  h: Harness,
  extra: Record<string, string>,
): Promise<{
  records: SourceRecord[]
  pollUntil(predicate: (r: SourceRecord[]) => boolean, what: string): Promise<void>
  close(): Promise<void>
}> {
  const slot = `sl_${randomBytes(5).toString('hex')}`
  const config = { ...h.props, 'slot.name': slot, 'publication.name': `pub_${slot}`, ...extra }
  const offsets = new Map<string, OffsetMap>()
  const task = new PostgresCdcSourceTask()
  task.initialize({
    configs: () => config,
    offsetStorageReader: () => ({
      offset: async (p) => offsets.get(JSON.stringify(p)) ?? null,
      offsets: async (ps) => new Map(ps.map((p) => [p, offsets.get(JSON.stringify(p)) ?? null])),
    }),
  })
  await task.start(config)
  const records: SourceRecord[] = []
  return {
    records,
    async pollUntil(predicate, what) {
      const deadline = Date.now() + 60_000
      while (!predicate(records)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${records.length}`)
        for (const r of (await task.poll()) ?? []) {
          records.push(r)
          if (r.sourcePartition && r.sourceOffset)
            offsets.set(JSON.stringify(r.sourcePartition), r.sourceOffset)
          await task.commitRecord(r, null)
        }
        await task.commit()
      }
    },
    async close() {
      await task.stop()
      // The walsender may outlive the stop by a moment: drop the slot once it is inactive.
      for (let i = 0; i < 100; i++) {
        const [left] = (
          await h.db.sql(
            `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}' AND NOT active`,
            `SELECT 1 FROM pg_replication_slots WHERE slot_name = '${slot}'`,
          )
        ).slice(1) as unknown[][]
        if (left.length === 0) break
        await new Promise((r) => setTimeout(r, 100))
      }
    },
  }
}

/**
 * Everything a consumer sees of a record, except the processing times and the run id header
 * (`__debezium.context.runId`, new at each task start) that differ between runs.
 */
function comparable(r: SourceRecord): unknown {
  const value = plain(r.value) as Record<string, unknown> | null
  if (value) for (const k of ['ts_ms', 'ts_us', 'ts_ns']) delete value[k]
  return {
    topic: r.topic,
    key: plain(r.key),
    value,
    offset: r.sourceOffset,
    headers: [...r.headers].map((hd) => [
      hd.key,
      hd.key === '__debezium.context.runId' ? '<run id>' : plain(hd.value),
    ]),
  }
}

async function streamedTransactions(h: Harness): Promise<number> {
  const [rows] = (await h.db.sql(
    `SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '${h.slot}'`,
  )) as { stream_txns: string }[][]
  return Number(rows[0]?.stream_txns ?? 0)
}

/** Open descriptors of this process on (unlinked) spill files. */
function spillFiles(): string[] {
  const out: string[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith(`${tmpdir()}/sluice-pgcdc-`)) out.push(target)
    } catch {
      // closed meanwhile
    }
  }
  return out
}

/** Polls until the slot's stream_txns passes `before` (the server streamed one more transaction). */
async function waitForStreaming(h: Harness, before: number): Promise<void> {
  const deadline = Date.now() + 30_000
  while ((await streamedTransactions(h)) <= before) {
    if (Date.now() > deadline) throw new Error('the server streamed no transaction')
    await pollOnce(h)
  }
}

/** One poll of the harness's task (records kept, acknowledged and committed). */
async function pollOnce(h: Harness): Promise<void> {
  let first = true
  await h.pollUntil(() => {
    const done = !first
    first = false
    return done
  })
}

async function connect(h: Harness): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: h.db.url })
  await client.connect()
  return client
}

const ids = (records: SourceRecord[], topic: string): number[] =>
  records.filter((r) => r.topic === topic && r.value !== null).map((r) => (plain(r.key) as { id: number }).id)
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('[integration] PostgreSQL CDC: large transactions streamed while they run', { skip }, () => {
  test('streamed transactions (savepoints, rollback, interleaving, DDL inside) emit exactly what protocol version 1 emits', async () => {
    const h = await harness('cdc_stream_v2')
    try {
      await h.db.sql(
        `ALTER DATABASE "${h.db.name}" SET logical_decoding_work_mem = '64kB'`,
        'CREATE TABLE a (id int PRIMARY KEY, pad text)',
        'CREATE TABLE b (id int PRIMARY KEY, pad text)',
      )
      const common = { 'snapshot.mode': 'no_data', 'provide.transaction.metadata': 'true' }
      // Small buffer: the streamed transactions also go through the spill file.
      await h.start({ ...common, 'pgoutput.streaming.buffer.bytes': '200000', 'max.batch.size': '500' })
      const v1 = await secondTask(h, { ...common, 'pgoutput.streaming': 'false' })
      try {
        const one = await connect(h)
        const two = await connect(h)
        try {
          // 1. A large transaction with savepoints: rows 3001..6000 rolled back, 9001..9100 released; an
          //    update, a delete, a logical message and a column added in the middle.
          await one.query('BEGIN')
          await one.query(`INSERT INTO a SELECT g, ${PAD} FROM generate_series(1, 3000) g`)
          await one.query('SAVEPOINT s1')
          await one.query(`INSERT INTO a SELECT g, ${PAD} FROM generate_series(3001, 6000) g`)
          await one.query('ROLLBACK TO SAVEPOINT s1')
          await one.query(`UPDATE a SET pad = 'updated' WHERE id = 7`)
          await one.query('DELETE FROM a WHERE id = 8')
          await one.query(`SELECT pg_logical_emit_message(true, 'big', 'inside')`)
          await one.query('ALTER TABLE a ADD COLUMN extra int DEFAULT 5')
          await one.query(`INSERT INTO a SELECT g, ${PAD}, g FROM generate_series(6001, 9000) g`)
          await one.query('SAVEPOINT s2')
          await one.query(`INSERT INTO a SELECT g, ${PAD}, g FROM generate_series(9001, 9100) g`)
          await one.query('RELEASE SAVEPOINT s2')
          await one.query('COMMIT')
          // 2. A large transaction that alters a table, then rolls back: nothing; the Relation message it
          //    carried in its stream must not stick (the next transaction has b without the column).
          await one.query('BEGIN')
          await one.query('ALTER TABLE b ADD COLUMN junk int DEFAULT 1')
          await one.query(`INSERT INTO b SELECT g, ${PAD} FROM generate_series(100001, 104000) g`)
          await one.query('ROLLBACK')
          await one.query(`INSERT INTO b VALUES (50000, 'small')`)
          // 3. Two large transactions interleaved; the second to start commits first.
          await one.query('BEGIN')
          await two.query('BEGIN')
          await one.query(`INSERT INTO b SELECT g, ${PAD} FROM generate_series(1, 2000) g`)
          await two.query(`INSERT INTO b SELECT g, ${PAD} FROM generate_series(10001, 12000) g`)
          await one.query(`INSERT INTO b SELECT g, ${PAD} FROM generate_series(2001, 4000) g`)
          await two.query(`INSERT INTO b SELECT g, ${PAD} FROM generate_series(12001, 14000) g`)
          await two.query('COMMIT')
          await one.query('COMMIT')
          // 4. A small transaction after them all.
          await one.query(`INSERT INTO b VALUES (0, 'last')`)
        } finally {
          await one.end()
          await two.end()
        }
        const done = (r: SourceRecord[]): boolean =>
          r.some((x) => x.topic === 'srv.public.b' && (plain(x.key) as { id: number }).id === 0)
        await h.pollUntil(done, 120_000, 'all transactions (protocol version 2)')
        await v1.pollUntil(done, 'all transactions (protocol version 1)')

        // The server really streamed them to the version 2 task, and not to the version 1 task.
        let streamed = 0
        for (let i = 0; i < 50 && streamed < 3; i++) {
          streamed = await streamedTransactions(h)
          if (streamed < 3) await new Promise((r) => setTimeout(r, 200))
        }
        assert.ok(streamed >= 3, `stream_txns of the version 2 slot: ${streamed}`)

        const expectedA = [...range(1, 3000), 7, 8, ...range(6001, 9100)]
        assert.deepEqual(ids(h.records, 'srv.public.a'), expectedA)
        assert.deepEqual(ids(h.records, 'srv.public.b'), [
          50000,
          ...range(10001, 14000),
          ...range(1, 4000),
          0,
        ])
        const small = h.records.find((r) => r.topic === 'srv.public.b' && r.value !== null)!
        assert.deepEqual(Object.keys((plain(small.value) as { after: object }).after), ['id', 'pad'])
        const extra = h.records.find(
          (r) => r.topic === 'srv.public.a' && (plain(r.key) as { id: number }).id === 9100,
        )
        assert.equal((plain(extra!.value) as { after: { extra: number } }).after.extra, 9100)
        assert.equal(h.records.filter((r) => r.topic === 'srv.message').length, 1)
        assert.equal(h.records.length, v1.records.length, 'number of records')
        for (let i = 0; i < h.records.length; i++)
          assert.deepEqual(comparable(h.records[i]), comparable(v1.records[i]), `record ${i}`)
        assert.deepEqual(spillFiles(), [], 'spill files left open')
      } finally {
        await v1.close()
      }
    } finally {
      await h.close()
    }
  })

  test('beyond the buffer limit a streamed transaction waits in a temporary file, closed once emitted or aborted', async () => {
    const h = await harness('cdc_stream_spill')
    try {
      await h.db.sql(
        `ALTER DATABASE "${h.db.name}" SET logical_decoding_work_mem = '64kB'`,
        'CREATE TABLE s (id int PRIMARY KEY, pad text)',
      )
      await h.start({ 'snapshot.mode': 'no_data', 'pgoutput.streaming.buffer.bytes': '100000' })
      assert.deepEqual(spillFiles(), [])
      const client = await connect(h)
      try {
        const waitForSpill = async (): Promise<void> => {
          const deadline = Date.now() + 30_000
          while (spillFiles().length === 0) {
            if (Date.now() > deadline) throw new Error('no spill file while the transaction was open')
            await pollOnce(h)
          }
        }
        // Aborted: the file is closed and nothing is emitted.
        await client.query('BEGIN')
        await client.query(`INSERT INTO s SELECT g, ${PAD} FROM generate_series(1, 5000) g`)
        await waitForSpill()
        await client.query('ROLLBACK')
        await client.query(`INSERT INTO s VALUES (0, 'marker')`)
        await h.pollUntil((r) => r.length >= 1, 30_000, 'the marker row')
        assert.deepEqual(ids(h.records, 'srv.public.s'), [0])
        assert.deepEqual(spillFiles(), [], 'spill file of the aborted transaction')
        // Committed: every row arrives, then the file is closed.
        await client.query('BEGIN')
        await client.query(`INSERT INTO s SELECT g, ${PAD} FROM generate_series(1, 5000) g`)
        await waitForSpill()
        assert.equal(h.records.length, 1, 'nothing emitted before the commit')
        await client.query('COMMIT')
        await h.pollUntil((r) => r.length >= 5001, 60_000, 'the committed transaction')
        assert.deepEqual(ids(h.records, 'srv.public.s'), [0, ...range(1, 5000)])
        assert.deepEqual(spillFiles(), [], 'spill file of the emitted transaction')
      } finally {
        await client.end()
      }
    } finally {
      await h.close()
    }
  })

  test('a restart while a streamed transaction is buffered or half emitted loses and repeats nothing', async () => {
    const h = await harness('cdc_stream_restart')
    try {
      await h.db.sql(
        `ALTER DATABASE "${h.db.name}" SET logical_decoding_work_mem = '64kB'`,
        'CREATE TABLE r (id int PRIMARY KEY, pad text)',
      )
      const props = { 'snapshot.mode': 'no_data', 'max.batch.size': '100', 'max.queue.size': '200' }
      await h.start(props)
      const client = await connect(h)
      try {
        // Stopped half way through emitting a committed streamed transaction.
        await client.query(`INSERT INTO r SELECT g, ${PAD} FROM generate_series(1, 3000) g`)
        await h.pollUntil((r) => r.length >= 1000, 60_000, 'part of the first transaction')
        await h.stopTask()
        await h.start(props)
        // Stopped while the next one is being received (not committed yet).
        await h.pollUntil((r) => r.length >= 3000, 60_000, 'the rest of the first transaction')
        let before = await streamedTransactions(h)
        await client.query('BEGIN')
        await client.query(`INSERT INTO r SELECT g, ${PAD} FROM generate_series(3001, 6000) g`)
        await waitForStreaming(h, before)
        await h.stopTask()
        before = await streamedTransactions(h)
        await h.start(props)
        // Its replication connection killed while receiving it again.
        await client.query(`INSERT INTO r SELECT g, ${PAD} FROM generate_series(6001, 7000) g`)
        await waitForStreaming(h, before)
        await h.db.sql(
          `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${h.slot}'`,
        )
        await client.query(`INSERT INTO r SELECT g, ${PAD} FROM generate_series(7001, 8000) g`)
        await client.query('COMMIT')
        await h.pollUntil((r) => r.length >= 8000, 90_000, 'every row')
        assert.deepEqual(ids(h.records, 'srv.public.r'), range(1, 8000))
        assert.ok((await streamedTransactions(h)) >= 1, 'the server streamed')
      } finally {
        await client.end()
      }
    } finally {
      await h.close()
    }
  })
  test('a restart inside a transaction stays at the stored position until it has skipped what was emitted (heartbeats, a reconnect)', async () => {
    const h = await harness('cdc_stream_skip')
    try {
      await h.db.sql(
        `ALTER DATABASE "${h.db.name}" SET logical_decoding_work_mem = '64kB'`,
        'CREATE TABLE r (id int PRIMARY KEY, pad text)',
      )
      const props = { 'snapshot.mode': 'no_data', 'max.batch.size': '10', 'max.queue.size': '20' }
      await h.start(props)
      await h.db.sql(`INSERT INTO r SELECT g, ${PAD} FROM generate_series(1, 3000) g`)
      const [[{ lsn }]] = (await h.db.sql('SELECT pg_current_wal_lsn()::text AS lsn')) as { lsn: string }[][]
      await h.pollUntil((r) => r.length >= 1000, 60_000, 'part of the transaction')
      await h.stopTask()
      const emitted = ids(h.records, 'srv.public.r').length
      // The position as a restart reads it.
      const position = (o: OffsetMap): unknown => readOffset(o)?.position
      const stored = position(h.offsets.get(JSON.stringify({ server: 'srv' }))!)

      // Restarted, the task receives the transaction again and skips the changes the offset counts. A
      // heartbeat before the transaction arrives and one while the task skips it carry the stored
      // position, not the one it skipped to.
      const heartbeats = (): SourceRecord[] => h.records.filter((r) => r.topic === '__debezium-heartbeat.srv')
      await h.start({ ...props, 'heartbeat.interval.ms': '1' })
      await h.pollUntil(() => heartbeats().length >= 1, 30_000, 'a heartbeat')
      await waitForReceived(h, lsn)
      await h.pollUntil(() => heartbeats().length >= 2, 30_000, 'a heartbeat inside the transaction')
      assert.equal(ids(h.records, 'srv.public.r').length, emitted, 'still skipping')
      for (const hb of heartbeats()) assert.deepEqual(position(hb.sourceOffset!), stored, 'heartbeat offset')
      await h.stopTask()

      // Restarted again (from a heartbeat's offset), the task skips again; its replication connection is
      // killed while it does: it reconnects and skips the same changes once more.
      await h.start(props)
      await waitForReceived(h, lsn)
      await pollOnce(h)
      assert.equal(ids(h.records, 'srv.public.r').length, emitted, 'still skipping')
      await h.db.sql(
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${h.slot}'`,
        `INSERT INTO r VALUES (3001, 'after')`,
      )
      await h.pollUntil(
        (r) => ids(r, 'srv.public.r').includes(3001),
        60_000,
        'the rest of the transaction and the row after it',
      )
      assert.deepEqual(ids(h.records, 'srv.public.r'), range(1, 3001))
    } finally {
      await h.close()
    }
  })
})
