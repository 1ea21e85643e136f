import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pg from 'pg'
import type { SourceRecord } from '../../../src/api/records.ts'
import { POLL_RECORDS } from '../../../src/connectors/postgres-cdc/source-task.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { after, harness, op, plain } from './harness.ts'

const skip = postgresSkipReason()
const changes = (records: SourceRecord[]): SourceRecord[] => records.filter((r) => r.value !== null)

describe('[integration] PostgreSQL CDC task on a real server', { skip }, () => {
  test('snapshots existing rows, then streams inserts, updates and deletes with Debezium types and tombstones', async () => {
    const h = await harness('cdc_basic')
    try {
      await h.db.sql(
        `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
        `CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL, amount numeric(10,2), loose numeric, ts timestamptz,
           local timestamp, d date, j jsonb, u uuid, arr int[], b bytea, iv interval, tm time, m mood, flag boolean NOT NULL DEFAULT true)`,
        `INSERT INTO t (name, amount, loose, ts, local, d, j, u, arr, b, iv, tm, m) VALUES ('a', 12.5, 3.14159,
           '2024-05-01 10:15:30.123456+02', '2024-05-01 10:15:30.5', '2024-05-01', '{"x":1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
           '{1,2,NULL}', '\\x0102', '1 day 02:00:00', '10:15:30', 'happy')`,
      )
      await h.start()
      await h.pollUntil((r) => r.length >= 1, 30_000, 'the snapshot')
      const snap = h.records[0]
      assert.equal(snap.topic, 'srv.public.t')
      assert.equal(snap.keySchema?.name, 'srv.public.t.Key')
      assert.equal(snap.valueSchema?.name, 'srv.public.t.Envelope')
      assert.equal(snap.valueSchema?.version, 2)
      assert.deepEqual(
        snap.valueSchema?.fields.map((f) => f.name),
        ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns'],
      )
      const fields = Object.fromEntries(
        snap.valueSchema!.fields[1].schema.fields.map((f) => [f.name, f.schema.name ?? f.schema.type]),
      )
      assert.deepEqual(fields, {
        id: 'INT32',
        name: 'STRING',
        amount: 'org.apache.kafka.connect.data.Decimal',
        loose: 'io.debezium.data.VariableScaleDecimal',
        ts: 'io.debezium.time.ZonedTimestamp',
        local: 'io.debezium.time.MicroTimestamp',
        d: 'io.debezium.time.Date',
        j: 'io.debezium.data.Json',
        u: 'io.debezium.data.Uuid',
        arr: 'ARRAY',
        b: 'BYTES',
        iv: 'io.debezium.time.MicroDuration',
        tm: 'io.debezium.time.MicroTime',
        m: 'io.debezium.data.Enum',
        flag: 'BOOLEAN',
      })
      const row = after(snap)!
      assert.equal(op(snap), 'r')
      assert.equal(row.amount, '12.50')
      assert.deepEqual(row.loose, { scale: 5, value: Buffer.from([0x04, 0xcb, 0x2f]).toString('base64') })
      assert.equal(row.ts, '2024-05-01T08:15:30.123456Z')
      assert.equal(row.local, Date.UTC(2024, 4, 1, 10, 15, 30, 500) * 1000)
      assert.equal(row.d, 19844)
      assert.deepEqual(row.arr, [1, 2, null])
      assert.equal(row.b, 'AQI=')
      assert.equal(row.iv, 26 * 3600 * 1_000_000)
      assert.equal(row.tm, (10 * 3600 + 15 * 60 + 30) * 1_000_000)
      assert.equal(row.m, 'happy')
      const source = (plain(snap.value) as { source: Record<string, unknown> }).source
      assert.equal(source.snapshot, 'last')
      assert.equal(source.connector, 'postgresql')
      assert.equal(snap.sourceOffset?.last_snapshot_record, true)
      assert.deepEqual(snap.sourcePartition, { server: 'srv' })
      assert.equal(
        snap.valueSchema!.fields[1].schema.fields.find((f) => f.name === 'flag')?.schema.defaultValue,
        true,
      )

      await h.db.sql(
        `INSERT INTO t (name) VALUES ('b')`,
        `UPDATE t SET name = 'c' WHERE id = 2`,
        `DELETE FROM t WHERE id = 1`,
      )
      await h.pollUntil((r) => r.length >= 5, 30_000, 'streamed changes')
      const [, ins, upd, del, tomb] = h.records
      assert.deepEqual([op(ins), op(upd), op(del)], ['c', 'u', 'd'])
      assert.equal((plain(upd.value) as { before: unknown }).before, null, 'RI DEFAULT: no before on update')
      const before = (plain(del.value) as { before: Record<string, unknown> }).before
      assert.equal(before.id, 1)
      assert.equal(before.name, '', 'NOT NULL non-key columns get the type fallback')
      assert.equal(before.amount, null)
      assert.equal(tomb.value, null)
      assert.deepEqual(plain(tomb.key), { id: 1 })
      const ds = (plain(del.value) as { source: Record<string, unknown> }).source
      assert.equal(ds.snapshot, 'false')
      assert.equal(typeof ds.txId, 'number')
      assert.equal(typeof ds.lsn, 'number')
      assert.match(String(ds.sequence), /^\["\d+","\d+"\]$/)
      for (const key of ['lsn', 'lsn_proc', 'lsn_commit', 'txId', 'ts_usec', 'messageType']) {
        assert.ok(key in del.sourceOffset!, `offset has ${key}`)
      }
    } finally {
      await h.close()
    }
  })

  test('unchanged TOAST values become the placeholder; REPLICA IDENTITY FULL gives before and the old value', async () => {
    const h = await harness('cdc_toast')
    try {
      await h.db.sql(
        'CREATE TABLE doc (id int PRIMARY KEY, body text, n int)',
        'CREATE TABLE full_doc (id int PRIMARY KEY, body text, n int)',
        'ALTER TABLE full_doc REPLICA IDENTITY FULL',
        `ALTER TABLE doc ALTER COLUMN body SET STORAGE EXTERNAL`,
        `ALTER TABLE full_doc ALTER COLUMN body SET STORAGE EXTERNAL`,
      )
      await h.start({ 'snapshot.mode': 'no_data' })
      const big = 'x'.repeat(10_000)
      await h.db.sql(
        `INSERT INTO doc VALUES (1, '${big}', 1)`,
        `INSERT INTO full_doc VALUES (1, '${big}', 1)`,
        'UPDATE doc SET n = 2',
        'UPDATE full_doc SET n = 2',
      )
      await h.pollUntil((r) => changes(r).length >= 4, 30_000, 'four changes')
      const [, , upd, fullUpd] = changes(h.records)
      assert.equal(after(upd)!.body, '__debezium_unavailable_value')
      assert.equal(after(fullUpd)!.body, big)
      assert.equal((plain(fullUpd.value) as { before: { n: number } }).before.n, 1)
    } finally {
      await h.close()
    }
  })

  test('a primary key change is a delete, a tombstone and a create with the oldkey/newkey headers', async () => {
    const h = await harness('cdc_pk')
    try {
      await h.db.sql('CREATE TABLE p (id int PRIMARY KEY, v text)')
      await h.start({ 'snapshot.mode': 'no_data' })
      await h.db.sql(`INSERT INTO p VALUES (1, 'a')`, 'UPDATE p SET id = 2 WHERE id = 1')
      await h.pollUntil((r) => r.length >= 4, 30_000, 'four records')
      const [, del, tomb, create] = h.records
      assert.deepEqual([op(del), tomb.value, op(create)], ['d', null, 'c'])
      assert.deepEqual(plain(create.key), { id: 2 })
      assert.deepEqual(plain(create.headers.lastWithName('__debezium.oldkey')?.value), { id: 1 })
      assert.deepEqual(plain(del.headers.lastWithName('__debezium.newkey')?.value), { id: 2 })
    } finally {
      await h.close()
    }
  })

  test('streaming polls hand out at most POLL_RECORDS, in order, whatever max.batch.size allows', async () => {
    const h = await harness('cdc_poll_cap')
    try {
      await h.db.sql('CREATE TABLE s (id int PRIMARY KEY)')
      await h.start({ 'snapshot.mode': 'no_data' })
      await h.db.sql('INSERT INTO s SELECT g FROM generate_series(1, 5000) g')
      await h.pollUntil((r) => r.length >= 5000, 60_000, 'the transaction')
      const ids = h.records.map((r) => (plain(r.key) as { id: number }).id)
      assert.deepEqual(
        ids,
        Array.from({ length: 5000 }, (_, i) => i + 1),
      )
      // Below max.batch.size (2048): a poll's records then die young instead of being promoted.
      assert.ok(Math.max(...h.batchSizes) <= POLL_RECORDS, `batches of ${h.batchSizes.join(', ')}`)
    } finally {
      await h.close()
    }
  })

  test('resumes inside a multi-row transaction after a restart without loss or duplicates', async () => {
    const h = await harness('cdc_resume')
    try {
      await h.db.sql('CREATE TABLE m (id int PRIMARY KEY)')
      await h.start({ 'snapshot.mode': 'no_data', 'max.batch.size': '7', 'max.queue.size': '100' })
      // One statement: many rows of one transaction (heap multi-insert can share LSNs).
      await h.db.sql('INSERT INTO m SELECT g FROM generate_series(1, 50) g', 'INSERT INTO m VALUES (51)')
      // Take only part of the transaction, then "crash" (the stored offsets are those polled so far).
      await h.pollUntil((r) => r.length >= 14, 30_000, 'part of the transaction')
      const seen = h.records.length
      await h.stopTask()
      await h.start({ 'snapshot.mode': 'no_data' })
      await h.pollUntil((r) => r.length >= 51, 30_000, 'the rest')
      const ids = h.records.map((r) => (plain(r.key) as { id: number }).id)
      assert.deepEqual(
        ids,
        Array.from({ length: 51 }, (_, i) => i + 1),
        `resumed after ${seen} records`,
      )
    } finally {
      await h.close()
    }
  })

  test('ADD and DROP COLUMN mid-stream change the schema without losing events', async () => {
    const h = await harness('cdc_ddl')
    try {
      await h.db.sql('CREATE TABLE s (id int PRIMARY KEY, a text)')
      await h.start({ 'snapshot.mode': 'no_data' })
      await h.db.sql(
        `INSERT INTO s VALUES (1, 'x')`,
        'ALTER TABLE s ADD COLUMN b int',
        `INSERT INTO s VALUES (2, 'y', 7)`,
        'ALTER TABLE s DROP COLUMN a',
        'INSERT INTO s VALUES (3, 8)',
      )
      await h.pollUntil((r) => r.length >= 3, 30_000, 'three inserts')
      assert.deepEqual(h.records.map(after), [
        { id: 1, a: 'x' },
        { id: 2, a: 'y', b: 7 },
        { id: 3, b: 8 },
      ])
    } finally {
      await h.close()
    }
  })

  test('truncates are emitted with skipped.operations=none and filtered tables are left out', async () => {
    const h = await harness('cdc_filter')
    try {
      await h.db.sql('CREATE TABLE keep (id int PRIMARY KEY)', 'CREATE TABLE drop_me (id int PRIMARY KEY)')
      await h.start({
        'snapshot.mode': 'no_data',
        'skipped.operations': 'none',
        'table.include.list': 'public.keep',
        'publication.autocreate.mode': 'filtered',
      })
      await h.db.sql('INSERT INTO drop_me VALUES (1)', 'INSERT INTO keep VALUES (1)', 'TRUNCATE keep')
      await h.pollUntil((r) => r.length >= 2, 30_000, 'insert and truncate')
      assert.deepEqual(
        h.records.map((r) => [r.topic, op(r)]),
        [
          ['srv.public.keep', 'c'],
          ['srv.public.keep', 't'],
        ],
      )
      assert.equal(h.records[1].key, null)
    } finally {
      await h.close()
    }
  })

  test('a slot dropped while streaming fails the task with a message that says what to do', async () => {
    const h = await harness('cdc_dropslot')
    try {
      await h.db.sql('CREATE TABLE d (id int PRIMARY KEY)')
      await h.start({ 'snapshot.mode': 'no_data' })
      await h.db.sql('INSERT INTO d VALUES (1)')
      await h.pollUntil((r) => r.length >= 1, 30_000, 'one insert')
      const admin = new pg.Client({ connectionString: h.db.url })
      await admin.connect()
      try {
        await admin.query(
          'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1',
          [h.slot],
        )
        // The walsender is gone; drop the slot before the task reconnects.
        for (let i = 0; i < 100; i++) {
          const { rows } = await admin.query(
            'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
            [h.slot],
          )
          if (rows.length > 0) break
          await new Promise((r) => setTimeout(r, 50))
        }
      } finally {
        await admin.end()
      }
      await assert.rejects(
        h.pollUntil(() => false, 30_000, 'a failure'),
        /replication slot '.*' (was dropped|does not exist).*snapshot\.mode=when_needed/s,
      )
    } finally {
      await h.close()
    }
  })

  test('an incremental snapshot resumes after a restart at the chunk after the last emitted key; pause and resume work', async () => {
    const h = await harness('cdc_incr')
    try {
      await h.db.sql(
        'CREATE TABLE big (id int PRIMARY KEY, v text)',
        `CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)`,
        `INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 100) g`,
      )
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'incremental.snapshot.chunk.size': '10',
        'table.include.list': 'public.big',
      }
      await h.start(props)
      await h.db.sql(
        `INSERT INTO debezium_signal VALUES ('s1', 'execute-snapshot', '{"data-collections": ["public.big"], "additional-conditions": [{"data-collection": "public.big", "filter": "id <= 90"}]}')`,
      )
      const reads = (): number[] => h.records.filter((r) => op(r) === 'r').map((r) => after(r)!.id as number)
      await h.pollUntil(() => reads().length >= 30, 30_000, 'three chunks')
      assert.ok(
        h.records.at(-1)!.sourceOffset!.incremental_snapshot_primary_key,
        'progress is in the offsets',
      )
      await h.stopTask()
      await h.start(props)
      await h.pollUntil(() => reads().length >= 90, 30_000, 'the rest of the table')
      const ids = reads()
      assert.deepEqual(
        [...new Set(ids)].sort((a, b) => a - b),
        Array.from({ length: 90 }, (_, i) => i + 1),
        'every row up to the additional condition, none above it',
      )
      assert.ok(ids.length <= 100, `at most one chunk re-read after the restart (${ids.length} reads)`)
      // pause-snapshot stops new chunks; resume-snapshot continues; stop-snapshot ends it.
      await h.db.sql(
        `INSERT INTO debezium_signal VALUES ('s2', 'execute-snapshot', '{"data-collections": ["public.big"]}')`,
        `INSERT INTO debezium_signal VALUES ('s3', 'pause-snapshot', NULL)`,
      )
      const before = reads().length
      await h.db.sql('INSERT INTO big VALUES (1000, $$marker$$)')
      await h.pollUntil((r) => r.some((x) => after(x)?.id === 1000), 30_000, 'the marker insert')
      assert.ok(reads().length - before <= 10, 'paused after at most the chunk in flight')
      await h.db.sql(`INSERT INTO debezium_signal VALUES ('s4', 'resume-snapshot', NULL)`)
      await h.pollUntil(() => reads().length - before >= 101, 30_000, 'the resumed snapshot')
      // The last rows read still carry the table in their offsets (as in Debezium: a restart re-reads
      // them); the next event after the snapshot no longer does.
      await h.db.sql('INSERT INTO big VALUES (1001, $$after$$)')
      await h.pollUntil((r) => r.some((x) => after(x)?.id === 1001), 30_000, 'the insert after the snapshot')
      assert.equal(h.records.at(-1)!.sourceOffset!.incremental_snapshot_collections ?? null, null)
    } finally {
      await h.close()
    }
  })

  test('reconnects after the replication connection is killed and resumes without loss or duplicates', async () => {
    const h = await harness('cdc_reconnect')
    try {
      await h.db.sql('CREATE TABLE r (id int PRIMARY KEY)')
      await h.start({ 'snapshot.mode': 'no_data', 'max.batch.size': '5', 'max.queue.size': '10' })
      await h.db.sql('INSERT INTO r SELECT g FROM generate_series(1, 200) g')
      await h.pollUntil((r) => r.length >= 20, 30_000, 'some records')
      const admin = new pg.Client({ connectionString: h.db.url })
      await admin.connect()
      await admin.query(
        'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1',
        [h.slot],
      )
      await admin.end()
      await h.db.sql('INSERT INTO r SELECT g FROM generate_series(201, 250) g')
      await h.pollUntil((r) => r.length >= 250, 60_000, 'all records')
      const ids = h.records.map((r) => (plain(r.key) as { id: number }).id)
      assert.deepEqual(
        ids,
        Array.from({ length: 250 }, (_, i) => i + 1),
      )
    } finally {
      await h.close()
    }
  })

  test('messages waiting in the queue keep their bytes while more WAL arrives (driver buffer reuse)', async () => {
    const h = await harness('cdc_buffers')
    try {
      await h.db.sql('CREATE TABLE w (id int PRIMARY KEY, v text NOT NULL, d date NOT NULL)')
      await h.start({ 'snapshot.mode': 'no_data', 'max.batch.size': '100', 'max.queue.size': '5000' })
      await h.db.sql(
        `INSERT INTO w SELECT g, 'value-' || g, DATE '2024-01-01' + (g % 100) FROM generate_series(1, 20000) g`,
      )
      await h.pollUntil((r) => r.length >= 20000, 60_000, '20000 inserts')
      h.records.forEach((r, i) => {
        const row = after(r)!
        assert.equal(row.id, i + 1)
        assert.equal(row.v, `value-${i + 1}`)
        assert.equal(row.d, 19723 + ((i + 1) % 100))
      })
    } finally {
      await h.close()
    }
  })

  test('the initial snapshot reads the exported snapshot: rows written after the slot exists stream once, as creates', async () => {
    const h = await harness('cdc_consistent')
    try {
      await h.db.sql(
        'CREATE TABLE c (id int PRIMARY KEY)',
        'INSERT INTO c SELECT g FROM generate_series(1, 100) g',
      )
      await h.start({ 'snapshot.fetch.size': '10' })
      // The slot exists now; these changes happen before the snapshot has read anything.
      await h.db.sql(
        'INSERT INTO c VALUES (101)',
        'DELETE FROM c WHERE id = 1',
        'UPDATE c SET id = 1000 WHERE id = 50',
      )
      await h.pollUntil(
        (r) => r.filter((x) => op(x) !== 'r').length >= 1 + 2 + 3,
        30_000,
        'snapshot and changes',
      )
      const reads = h.records.filter((r) => op(r) === 'r').map((r) => after(r)!.id)
      assert.deepEqual(
        reads,
        Array.from({ length: 100 }, (_, i) => i + 1),
        'the snapshot sees the table as of the slot',
      )
      const markers = h.records
        .filter((r) => op(r) === 'r')
        .map((r) => (plain(r.value) as { source: { snapshot: string } }).source.snapshot)
      assert.equal(markers[0], 'first')
      assert.equal(markers[99], 'last')
      const streamed = h.records
        .filter((r) => r.value !== null && op(r) !== 'r')
        .map((r) => [op(r), plain(r.key)])
      assert.deepEqual(streamed, [
        ['c', { id: 101 }],
        ['d', { id: 1 }],
        ['d', { id: 50 }],
        ['c', { id: 1000 }],
      ])
    } finally {
      await h.close()
    }
  })

  test('the initial snapshot hands out at most max.batch.size records per poll across fetch and table boundaries', async () => {
    const h = await harness('cdc_snapbatch')
    try {
      // 20 rows = two whole fetches of 10, so the third fetch of table a comes back empty.
      await h.db.sql(
        'CREATE TABLE a (id int PRIMARY KEY)',
        'CREATE TABLE b (id int PRIMARY KEY)',
        'INSERT INTO a SELECT g FROM generate_series(1, 20) g',
        'INSERT INTO b SELECT g FROM generate_series(1, 13) g',
      )
      await h.start({
        'snapshot.fetch.size': '10',
        'max.batch.size': '7',
        'snapshot.mode': 'initial_only',
        'table.include.list': 'public.a,public.b',
      })
      await h.pollUntil((r) => r.length >= 33, 30_000, 'both tables')
      const reads = h.records.map((r) => {
        const v = plain(r.value) as { after: { id: number }; source: { table: string; snapshot: string } }
        return `${v.source.table}${v.after.id}:${v.source.snapshot}`
      })
      const expected = [
        ...Array.from(
          { length: 20 },
          (_, i) => `a${i + 1}:${i === 0 ? 'first' : i === 19 ? 'last_in_data_collection' : 'true'}`,
        ),
        ...Array.from(
          { length: 13 },
          (_, i) => `b${i + 1}:${i === 0 ? 'first_in_data_collection' : i === 12 ? 'last' : 'true'}`,
        ),
      ]
      assert.deepEqual(reads, expected)
      assert.ok(Math.max(...h.batchSizes) <= 7, `batches of ${h.batchSizes.join(', ')}`)
    } finally {
      await h.close()
    }
  })

  test('a heartbeat in the middle of a transaction keeps the position: a clean restart emits nothing twice', async () => {
    const h = await harness('cdc_hb_midtx')
    try {
      await h.db.sql('CREATE TABLE t (id int PRIMARY KEY)')
      // Every poll ends with a heartbeat, and a poll holds 50 changes: heartbeats fall inside the transaction.
      const props = { 'snapshot.mode': 'no_data', 'heartbeat.interval.ms': '1', 'max.batch.size': '50' }
      await h.start(props)
      await h.db.sql('INSERT INTO t SELECT g FROM generate_series(1, 500) g')
      // Stop right after a poll that ended with a heartbeat, so the stored offset is a heartbeat's.
      await h.pollUntil(
        (r) => r.filter((x) => op(x) === 'c').length >= 120 && /heartbeat/.test(r.at(-1)!.topic),
        30_000,
        'part of the transaction, then a heartbeat',
      )
      assert.ok(h.records.filter((x) => op(x) === 'c').length < 500, 'stopped inside the transaction')
      await h.stopTask()
      await h.start(props)
      await h.pollUntil((r) => r.filter((x) => op(x) === 'c').length >= 500, 30_000, 'the whole transaction')
      // Give duplicates, if any, the time to arrive.
      const until = Date.now() + 1500
      await h.pollUntil(() => Date.now() > until, 5_000, 'quiet')
      const ids = h.records.filter((x) => op(x) === 'c').map((x) => after(x)!.id as number)
      assert.deepEqual(
        ids,
        Array.from({ length: 500 }, (_, i) => i + 1),
      )
    } finally {
      await h.close()
    }
  })

  test('heartbeats carry the position past filtered traffic, and the slot follows once offsets are committed', async () => {
    const h = await harness('cdc_heartbeat')
    try {
      await h.db.sql(
        'CREATE TABLE captured (id int PRIMARY KEY)',
        'CREATE TABLE ignored (id int PRIMARY KEY)',
      )
      await h.start({
        'snapshot.mode': 'no_data',
        'table.include.list': 'public.captured',
        'publication.autocreate.mode': 'filtered',
        'heartbeat.interval.ms': '200',
      })
      const slotLsn = async (): Promise<number> => {
        const [rows] = (await h.db.sql(
          `SELECT confirmed_flush_lsn - '0/0' AS lsn FROM pg_replication_slots WHERE slot_name = '${h.slot}'`,
        )) as { lsn: string }[][]
        return Number(rows[0].lsn)
      }
      const before = await slotLsn()
      // Traffic only outside the publication: no change events, WAL grows.
      await h.db.sql('INSERT INTO ignored SELECT g FROM generate_series(1, 1000) g')
      const [[{ lsn: walAfterWrites }]] = (await h.db.sql(`SELECT pg_current_wal_lsn() - '0/0' AS lsn`)) as {
        lsn: string
      }[][]
      await h.pollUntil(
        (r) =>
          r.some(
            (x) =>
              x.topic === '__debezium-heartbeat.srv' &&
              Number(x.sourceOffset!.lsn_commit) >= Number(walAfterWrites),
          ),
        30_000,
        'a heartbeat past the filtered writes',
      )
      const hb = h.records.find((x) => x.topic === '__debezium-heartbeat.srv')!
      assert.equal(hb.keySchema?.name, 'io.debezium.connector.common.ServerNameKey')
      assert.deepEqual(plain(hb.key), { serverName: 'srv' })
      assert.equal(hb.valueSchema?.name, 'io.debezium.connector.common.Heartbeat')
      const after = await (async () => {
        const deadline = Date.now() + 20_000
        for (;;) {
          const lsn = await slotLsn()
          if (lsn >= Number(walAfterWrites) || Date.now() > deadline) return lsn
          await h.pollUntil(() => true)
          await new Promise((r) => setTimeout(r, 200))
        }
      })()
      assert.ok(after > before && after >= Number(walAfterWrites), `slot moved from ${before} to ${after}`)
    } finally {
      await h.close()
    }
  })

  test('transaction metadata and message.key.columns', async () => {
    const h = await harness('cdc_txmeta')
    try {
      await h.db.sql('CREATE TABLE nokey (a int, b text)', 'CREATE TABLE k (id int PRIMARY KEY)')
      await h.db.sql('ALTER TABLE nokey REPLICA IDENTITY FULL')
      await h.start({
        'snapshot.mode': 'no_data',
        'provide.transaction.metadata': 'true',
        'message.key.columns': 'public.nokey:b',
      })
      await h.db.sql(
        `BEGIN; INSERT INTO nokey VALUES (1, 'x'); INSERT INTO k VALUES (1); INSERT INTO k VALUES (2); COMMIT`,
      )
      await h.pollUntil((r) => r.length >= 5, 30_000, 'BEGIN, three events and END')
      assert.deepEqual(
        h.records.map((r) => r.topic),
        ['srv.transaction', 'srv.public.nokey', 'srv.public.k', 'srv.public.k', 'srv.transaction'],
      )
      const begin = plain(h.records[0].value) as { status: string; id: string }
      const end = plain(h.records[4].value) as {
        status: string
        event_count: number
        data_collections: unknown[]
      }
      assert.equal(begin.status, 'BEGIN')
      assert.equal(end.status, 'END')
      assert.equal(end.event_count, 3)
      assert.deepEqual(end.data_collections, [
        { data_collection: 'public.nokey', event_count: 1 },
        { data_collection: 'public.k', event_count: 2 },
      ])
      // Ids are `<xid>:<LSN of the event>` as Debezium's PostgreSQL connector makes them: BEGIN has the
      // first event's, each event its own.
      const event = (i: number) =>
        plain(h.records[i].value) as {
          transaction: Record<string, unknown>
          source: { txId: number; lsn: number }
        }
      assert.equal(event(1).transaction.id, begin.id)
      const block = event(3).transaction
      assert.deepEqual(block, {
        id: `${event(3).source.txId}:${event(3).source.lsn}`,
        total_order: 3,
        data_collection_order: 2,
      })
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(h.records[3].sourceOffset!).filter(([k]) => k.startsWith('transaction_')),
        ),
        {
          transaction_id: String(event(3).source.txId),
          'transaction_data_collection_order_public.nokey': 1,
          'transaction_data_collection_order_public.k': 2,
        },
        'the offset carries the transaction id and per-table counts, as Debezium keeps them',
      )
      assert.equal(h.records[1].keySchema?.name, 'srv.public.nokey.Key')
      assert.deepEqual(plain(h.records[1].key), { b: 'x' })
    } finally {
      await h.close()
    }
  })

  test('a user without the REPLICATION attribute gets a message naming the fix', async () => {
    const h = await harness('cdc_norepl')
    const role = `norepl_${h.slot}`
    try {
      await h.db.sql(`CREATE ROLE ${role} LOGIN`)
      await assert.rejects(h.start({ 'database.user': role }), /has no REPLICATION privilege: run ALTER ROLE/)
    } finally {
      await h.close()
      const [server] = [new URL(h.db.url)]
      server.pathname = '/postgres'
      const admin = new pg.Client({ connectionString: server.toString() })
      await admin.connect()
      await admin.query(`DROP ROLE IF EXISTS ${role}`)
      await admin.end()
    }
  })

  test('stop-snapshot ends an incremental snapshot; offsets then carry no snapshot state', async () => {
    const h = await harness('cdc_stopsnap')
    try {
      await h.db.sql(
        'CREATE TABLE s1 (id int PRIMARY KEY)',
        'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)',
        'INSERT INTO s1 SELECT g FROM generate_series(1, 500) g',
      )
      await h.start({
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'incremental.snapshot.chunk.size': '10',
        'table.include.list': 'public.s1',
      })
      await h.db.sql(
        `INSERT INTO debezium_signal VALUES ('a', 'execute-snapshot', '{"data-collections": ["public.s1"]}')`,
      )
      await h.pollUntil((r) => r.filter((x) => op(x) === 'r').length >= 20, 30_000, 'two chunks')
      await h.db.sql(
        `INSERT INTO debezium_signal VALUES ('b', 'stop-snapshot', '{"data-collections": ["public.s1"]}')`,
      )
      await h.db.sql('INSERT INTO s1 VALUES (1000)')
      await h.pollUntil((r) => r.some((x) => after(x)?.id === 1000), 30_000, 'the insert after the stop')
      const reads = h.records.filter((r) => op(r) === 'r').length
      assert.ok(reads < 500, `the snapshot stopped early (${reads} reads)`)
      assert.equal(h.records.at(-1)!.sourceOffset!.incremental_snapshot_collections ?? null, null)
    } finally {
      await h.close()
    }
  })

  test('snapshot.mode=when_needed re-creates a dropped slot and re-snapshots; initial refuses with a plain message', async () => {
    const h = await harness('cdc_whenneeded')
    try {
      await h.db.sql('CREATE TABLE wn (id int PRIMARY KEY)', 'INSERT INTO wn VALUES (1), (2)')
      await h.start({ 'snapshot.mode': 'no_data' })
      await h.db.sql('INSERT INTO wn VALUES (3)')
      await h.pollUntil((r) => r.length >= 1, 30_000, 'one insert')
      await h.stopTask()
      await h.db.sql(`SELECT pg_drop_replication_slot('${h.slot}')`)
      await assert.rejects(
        h.start({ 'snapshot.mode': 'initial' }),
        /does not exist.*snapshot\.mode=when_needed/s,
      )
      await h.stopTask()
      await h.start({ 'snapshot.mode': 'when_needed' })
      await h.pollUntil((r) => r.filter((x) => op(x) === 'r').length >= 3, 30_000, 'the re-snapshot')
      assert.deepEqual(
        h.records.filter((x) => op(x) === 'r').map((x) => after(x)!.id),
        [1, 2, 3],
      )
    } finally {
      await h.close()
    }
  })

  test('a transaction open while the slot is created: start waits for it, and its row arrives once', async () => {
    const h = await harness('cdc_longtx')
    const open = new pg.Client({ connectionString: h.db.url })
    try {
      await h.db.sql('CREATE TABLE lt (id int PRIMARY KEY)', 'INSERT INTO lt VALUES (1)')
      await open.connect()
      await open.query('BEGIN')
      await open.query('INSERT INTO lt VALUES (2)')
      let started = false
      const starting = h.start().then(() => {
        started = true
      })
      await new Promise((r) => setTimeout(r, 1500))
      assert.equal(started, false, 'slot creation waits for the open transaction')
      await open.query('COMMIT')
      await starting
      await h.db.sql('INSERT INTO lt VALUES (3)')
      await h.pollUntil((r) => r.length >= 3, 30_000, 'two reads and one insert')
      assert.deepEqual(
        h.records.map((r) => [op(r), after(r)!.id]),
        [
          ['r', 1],
          ['r', 2],
          ['c', 3],
        ],
      )
    } finally {
      await open.end().catch(() => {})
      await h.close()
    }
  })
})
