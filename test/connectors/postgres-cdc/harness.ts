/**
 * Drives the CDC source task the way the runtime does (start, poll, commitRecord, commit with the
 * offsets it stored), against the real test PostgreSQL. Slots and databases are cleaned up.
 */
import { randomBytes } from 'node:crypto'
import { Struct } from '../../../src/api/data/struct.ts'
import type { OffsetMap, SourceRecord } from '../../../src/api/records.ts'
import { PostgresCdcSourceTask } from '../../../src/connectors/postgres-cdc/source-task.ts'
import {
  dropReplicationSlot,
  freshPostgresDatabase,
  postgresCdcProps,
  type TestDatabase,
} from '../../helpers/databases.ts'

export interface Harness {
  db: TestDatabase
  slot: string
  props: Record<string, string>
  /** Offsets "stored by the runtime" (partition JSON → offset). */
  offsets: Map<string, OffsetMap>
  records: SourceRecord[]
  /** The size of every non-empty batch `poll()` returned. */
  batchSizes: number[]
  /** What the task reported through `SourceTaskContext.reportProblem` (null: cleared). */
  problems: (Error | null)[]
  start(extra?: Record<string, string>): Promise<PostgresCdcSourceTask>
  /** Polls (and acks + commits every batch) until `predicate` holds over all records so far. */
  pollUntil(
    predicate: (records: SourceRecord[]) => boolean,
    timeoutMs?: number,
    what?: string,
  ): Promise<SourceRecord[]>
  stopTask(): Promise<void>
  close(): Promise<void>
}

export async function harness(prefix: string): Promise<Harness> {
  const db = await freshPostgresDatabase(prefix)
  const slot = `sl_${randomBytes(5).toString('hex')}`
  const props: Record<string, string> = {
    ...postgresCdcProps(db, { prefix: 'srv', slot, publication: `pub_${slot}` }),
    'poll.interval.ms': '100',
    'status.update.interval.ms': '500',
  }
  const offsets = new Map<string, OffsetMap>()
  let task: PostgresCdcSourceTask | null = null
  const h: Harness = {
    db,
    slot,
    props,
    offsets,
    records: [],
    batchSizes: [],
    problems: [],
    async start(extra = {}) {
      task = new PostgresCdcSourceTask()
      const config = { ...props, ...extra }
      task.initialize({
        configs: () => config,
        offsetStorageReader: () => ({
          offset: async (p) => offsets.get(JSON.stringify(p)) ?? null,
          offsets: async (ps) => new Map(ps.map((p) => [p, offsets.get(JSON.stringify(p)) ?? null])),
        }),
        openTopicReader: async (options) =>
          (await import('../../../src/log/kafka/topic-reader.ts')).openKafkaTopicReader(options),
        reportProblem: (problem) => {
          h.problems.push(problem)
        },
      })
      await task.start(config)
      return task
    },
    async pollUntil(predicate, timeoutMs = 30_000, what = 'records') {
      const deadline = Date.now() + timeoutMs
      while (!predicate(h.records)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; got ${h.records.length} records`)
        const batch = (await task!.poll()) ?? []
        if (batch.length > 0) h.batchSizes.push(batch.length)
        for (const r of batch) {
          h.records.push(r)
          if (r.sourcePartition && r.sourceOffset)
            offsets.set(JSON.stringify(r.sourcePartition), r.sourceOffset)
          await task!.commitRecord(r, null)
        }
        if (batch.length > 0) await task!.commit()
      }
      return h.records
    },
    async stopTask() {
      await task?.stop()
      task = null
    },
    async close() {
      await task?.stop().catch(() => {})
      await dropReplicationSlot(db.url, slot)
      await db.drop()
    },
  }
  return h
}

/**
 * Waits until the task's replication connection has received the WAL up to `lsn` (the `write_lsn` it
 * reports; messages are queued as they are received), without polling the task.
 */
export async function waitForReceived(h: Harness, lsn: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const [rows] = (await h.db.sql(
      `SELECT r.write_lsn >= '${lsn}'::pg_lsn AS done FROM pg_stat_replication r
         JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = '${h.slot}'`,
    )) as { done: boolean }[][]
    if (rows[0]?.done) return
    if (Date.now() > deadline) throw new Error(`the task did not receive the WAL up to ${lsn}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A record's value (or key) as plain JSON, structs unwrapped, bytes as base64, bigint as number. */
export function plain(value: unknown): unknown {
  if (value instanceof Struct) {
    const out: Record<string, unknown> = {}
    for (const f of value.schema.fields) out[f.name] = plain(value.getWithoutDefault(f))
    return out
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object' && 'unscaled' in value) return String(value)
  return value
}

export const after = (r: SourceRecord): Record<string, unknown> | null =>
  (plain(r.value) as { after: Record<string, unknown> | null } | null)?.after ?? null
export const op = (r: SourceRecord): string | null => (plain(r.value) as { op: string } | null)?.op ?? null
