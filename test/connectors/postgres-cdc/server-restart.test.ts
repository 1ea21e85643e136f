/**
 * PostgreSQL restarted mid-stream (on a cluster of this test's own, never the shared one): the task
 * keeps running, reconnects with backoff and resumes after the last message it handled — no loss,
 * no duplicates.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pg from 'pg'
import type { OffsetMap, SourceRecord } from '../../../src/api/records.ts'
import { PostgresCdcSourceTask } from '../../../src/connectors/postgres-cdc/source-task.ts'
import { plain } from './harness.ts'
import { ownClusterSkipReason, startOwnCluster } from './own-cluster.ts'

describe('[integration] PostgreSQL restarted while the CDC task streams', {
  skip: ownClusterSkipReason(),
}, () => {
  test('reconnects after the restart and delivers every row exactly once', async () => {
    const cluster = await startOwnCluster()
    const task = new PostgresCdcSourceTask()
    try {
      const sql = async (...statements: string[]): Promise<void> => {
        const client = new pg.Client({ connectionString: cluster.url })
        await client.connect()
        try {
          for (const s of statements) await client.query(s)
        } finally {
          await client.end()
        }
      }
      await sql('CREATE TABLE r (id int PRIMARY KEY)')
      const props = {
        'database.hostname': '127.0.0.1',
        'database.port': String(cluster.port),
        'database.user': 'postgres',
        'database.dbname': 'postgres',
        'topic.prefix': 'own',
        'plugin.name': 'pgoutput',
        'snapshot.mode': 'no_data',
        'poll.interval.ms': '100',
        'max.batch.size': '50',
        'max.queue.size': '100',
      }
      let stored: OffsetMap | null = null
      task.initialize({
        configs: () => props,
        offsetStorageReader: () => ({
          offset: async () => stored,
          offsets: async (ps) => new Map(ps.map((p) => [p, stored])),
        }),
      })
      await task.start(props)
      const records: SourceRecord[] = []
      const pollOnce = async (): Promise<void> => {
        for (const r of (await task.poll()) ?? []) {
          records.push(r)
          stored = r.sourceOffset
          await task.commitRecord(r, null)
        }
        await task.commit()
      }
      const pollUntil = async (n: number): Promise<void> => {
        const deadline = Date.now() + 90_000
        while (records.length < n) {
          if (Date.now() > deadline) throw new Error(`only ${records.length} of ${n} records`)
          await pollOnce()
        }
      }
      await sql('INSERT INTO r SELECT g FROM generate_series(1, 500) g')
      await pollUntil(100)
      // Polling goes on during the restart: a fast shutdown waits for the walsender's client to confirm.
      let restarted = false
      const restarting = cluster.restart().then(() => {
        restarted = true
      })
      while (!restarted) await pollOnce()
      await restarting
      // The task did not fail while the server was away; writes after the restart arrive too.
      await sql('INSERT INTO r SELECT g FROM generate_series(501, 600) g')
      await pollUntil(600)
      const ids = records.map((r) => (plain(r.key) as { id: number }).id)
      assert.deepEqual(
        ids,
        Array.from({ length: 600 }, (_, i) => i + 1),
      )
    } finally {
      await task.stop().catch(() => {})
      cluster.destroy()
    }
  })

  test('wal_level other than logical fails the task at start with the fix', async () => {
    const cluster = await startOwnCluster({ walLevel: 'replica' })
    const task = new PostgresCdcSourceTask()
    try {
      const props = {
        'database.hostname': '127.0.0.1',
        'database.port': String(cluster.port),
        'database.user': 'postgres',
        'database.dbname': 'postgres',
        'topic.prefix': 'own',
      }
      task.initialize({
        configs: () => props,
        offsetStorageReader: () => ({
          offset: async () => null,
          offsets: async (ps) => new Map(ps.map((p) => [p, null])),
        }),
      })
      await assert.rejects(
        task.start(props),
        /wal_level=replica: logical decoding needs wal_level=logical.*ALTER SYSTEM/s,
      )
    } finally {
      await task.stop().catch(() => {})
      cluster.destroy()
    }
  })
})
