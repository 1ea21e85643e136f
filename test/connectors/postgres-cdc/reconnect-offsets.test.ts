/**
 * The offsets a task writes after its replication connection was lost and opened again. A keepalive's
 * position (what an idle heartbeat reports) belongs to the connection it came on: the messages a lost
 * connection had queued are dropped unhandled, and the new connection sends them again.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseLsn } from '../../../src/connectors/postgres-cdc/lsn.ts'
import { readOffset } from '../../../src/connectors/postgres-cdc/offsets.ts'
import { postgresSkipReason } from '../../helpers/services.ts'
import { harness, plain, waitForReceived } from './harness.ts'

describe('[integration] PostgreSQL CDC: offsets after a reconnect', { skip: postgresSkipReason() }, () => {
  test('a heartbeat after a reconnect is not ahead of what the lost connection had queued', async () => {
    const h = await harness('cdc_reconnect_hb')
    try {
      await h.db.sql('CREATE TABLE r (id int PRIMARY KEY)')
      // A heartbeat at every poll; a poll waits for data a millisecond at most.
      const props = { 'snapshot.mode': 'no_data', 'heartbeat.interval.ms': '1', 'poll.interval.ms': '1' }
      const rows = (): number[] =>
        h.records.filter((r) => r.topic === 'srv.public.r').map((r) => (plain(r.key) as { id: number }).id)
      const isHeartbeat = (i: number): boolean => h.records[i]!.topic === '__debezium-heartbeat.srv'
      await h.start(props)
      await h.db.sql('INSERT INTO r VALUES (1)')
      await h.pollUntil(() => rows().includes(1), 30_000, 'row 1')

      // Row 2 and then a keepalive past it are received, but the connection dies before a poll handles them.
      // Before row 2, WAL that a new walsender takes a while to decode again, and that it never sends (a
      // rolled-back transaction): row 2 comes again well after the first poll on the new connection.
      await h.db.sql('BEGIN', 'INSERT INTO r SELECT g FROM generate_series(100, 200000) g', 'ROLLBACK')
      await h.db.sql('INSERT INTO r VALUES (2)')
      const [[{ lsn }]] = (await h.db.sql('SELECT pg_current_wal_lsn()::text AS lsn')) as { lsn: string }[][]
      await waitForReceived(h, lsn)
      await h.db.sql(
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${h.slot}'`,
      )
      for (let i = 0; ; i++) {
        const [[{ active }]] = (await h.db.sql(
          `SELECT active FROM pg_replication_slots WHERE slot_name = '${h.slot}'`,
        )) as { active: boolean }[][]
        if (!active) break
        if (i > 300) throw new Error('the walsender did not exit')
        await new Promise((r) => setTimeout(r, 20))
      }
      // The walsender sent its FATAL before it released the slot: one more round trip, and the task has
      // read it (its next poll reconnects instead of handling row 2 on the lost connection).
      await h.db.sql('SELECT 1')
      const killed = h.records.length
      await h.pollUntil(
        (r) => r.slice(killed).some((_, i) => isHeartbeat(killed + i)),
        30_000,
        'a heartbeat after the reconnect',
      )
      // Stopped now, the task must find row 2 again when it starts.
      await h.stopTask()
      // Heartbeats before row 2 is emitted again are not past it.
      for (let i = killed; i < h.records.length && h.records[i]!.topic !== 'srv.public.r'; i++) {
        if (!isHeartbeat(i)) continue
        const at = readOffset(h.records[i]!.sourceOffset!)!.position.lsnCommit
        assert.ok(
          at !== null && at < parseLsn(lsn),
          `heartbeat lsn_commit ${at} is past row 2 (before ${lsn})`,
        )
      }
      await h.start(props)
      await h.pollUntil(() => rows().includes(2), 30_000, 'row 2')
      assert.deepEqual(rows(), [1, 2])
    } finally {
      await h.close()
    }
  })
})
