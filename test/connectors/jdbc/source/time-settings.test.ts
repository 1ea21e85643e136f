/**
 * `db.timezone`, `timestamp.initial` and `quote.sql.identifiers` against the real PostgreSQL, through
 * the connector's task (no worker: its offsets reader is a map).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import type { Props } from '../../../../src/api/connector.ts'
import type { OffsetMap, SourceRecord } from '../../../../src/api/records.ts'
import { JdbcSourceTask } from '../../../../src/connectors/jdbc/source/source-task.ts'
import { freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { postgresSkipReason } from '../../../helpers/services.ts'

async function readAll(props: Props, stored: OffsetMap | null = null): Promise<SourceRecord[]> {
  const task = new JdbcSourceTask()
  task.initialize({
    configs: () => props,
    offsetStorageReader: () => ({
      offset: async () => stored,
      offsets: async (partitions) => new Map(partitions.map((p) => [p, p.protocol === '1' ? stored : null])),
    }),
  })
  await task.start(props)
  const records: SourceRecord[] = []
  try {
    // One pass: poll until a poll returns nothing (the table's next turn is poll.interval.ms away).
    for (;;) {
      const batch = await task.poll()
      if (!batch || batch.length === 0) break
      records.push(...batch)
    }
  } finally {
    await task.stop()
  }
  return records
}

/** Polls a started task until `count` records arrived or `ms` passed. */
async function pollFor(task: JdbcSourceTask, count: number, ms: number): Promise<SourceRecord[]> {
  const records: SourceRecord[] = []
  const deadline = Date.now() + ms
  while (records.length < count && Date.now() < deadline) records.push(...((await task.poll()) ?? []))
  return records
}

function startedTask(props: Props, stored: OffsetMap | null = null): JdbcSourceTask {
  const task = new JdbcSourceTask()
  task.initialize({
    configs: () => props,
    offsetStorageReader: () => ({
      offset: async () => stored,
      offsets: async (partitions) => new Map(partitions.map((p) => [p, p.protocol === '1' ? stored : null])),
    }),
  })
  return task
}

describe('[integration] JDBC source time settings on PostgreSQL', { skip: postgresSkipReason() }, () => {
  let db: TestDatabase
  before(async () => {
    db = await freshPostgresDatabase('jdbc_time')
    await db.sql(
      'CREATE TABLE events (id SERIAL PRIMARY KEY, local_time TIMESTAMP NOT NULL, at TIMESTAMPTZ NOT NULL)',
      `INSERT INTO events (local_time, at) VALUES ('2024-07-01 12:00:00.123456', '2024-07-01 10:00:00.123456+00')`,
      `INSERT INTO events (local_time, at) VALUES ('2024-07-01 13:00:00', '2024-07-01 11:00:00+00')`,
      'CREATE TABLE "MixedCase" (id SERIAL PRIMARY KEY, v TEXT)',
      `INSERT INTO "MixedCase" (v) VALUES ('x')`,
    )
  })
  after(async () => {
    await db?.drop()
  })
  const base = (): Record<string, string> => ({
    'connection.url': db.jdbcUrl,
    'poll.interval.ms': '60000',
    tables: JSON.stringify([{ schema: 'public', table: 'events' }]),
  })

  it('reads zoneless timestamps in db.timezone and binds the bounds in it (offsets keep the microseconds)', async () => {
    const records = await readAll({
      ...base(),
      mode: 'timestamp',
      'timestamp.column.name': 'local_time',
      'db.timezone': 'Europe/Paris',
    })
    assert.equal(records.length, 2)
    const first = records[0].value as { get(f: string): unknown }
    // 12:00 in Paris (UTC+2 in July) is 10:00 UTC: the same instant as the timestamptz column.
    assert.equal((first.get('local_time') as Date).toISOString(), '2024-07-01T10:00:00.123Z')
    assert.equal((first.get('at') as Date).toISOString(), '2024-07-01T10:00:00.123Z')
    assert.deepEqual(records[1].sourceOffset, { timestamp: Date.UTC(2024, 6, 1, 11), timestamp_nanos: 0 })
    // Resuming from the first row's exact offset (µs kept in timestamp_nanos) reads only the second.
    const resumed = await readAll(
      { ...base(), mode: 'timestamp', 'timestamp.column.name': 'local_time', 'db.timezone': 'Europe/Paris' },
      { timestamp: Date.UTC(2024, 6, 1, 10, 0, 0, 123), timestamp_nanos: 123456000 },
    )
    assert.deepEqual(
      resumed.map((r) => (r.value as { get(f: string): unknown }).get('id')),
      [2],
    )
  })

  it('timestamp.initial: -1 starts at the database clock, epoch ms starts there', async () => {
    const now = await readAll({
      ...base(),
      mode: 'timestamp',
      'timestamp.column.name': 'at',
      'timestamp.initial': '-1',
    })
    assert.equal(now.length, 0, 'rows older than now are skipped')
    const between = await readAll({
      ...base(),
      mode: 'timestamp',
      'timestamp.column.name': 'at',
      'timestamp.initial': String(Date.UTC(2024, 6, 1, 10, 30)),
    })
    assert.deepEqual(
      between.map((r) => (r.value as { get(f: string): unknown }).get('id')),
      [2],
    )
  })

  describe('a transaction that commits after a later row was read (stamped with now(), holding a lower id)', () => {
    async function scenario(
      table: string,
      props: Record<string, string>,
      beforeCommitMs: number,
      afterCommitMs: number,
    ) {
      await db.sql(
        `CREATE TABLE ${table} (id SERIAL PRIMARY KEY, v TEXT NOT NULL, modified TIMESTAMPTZ NOT NULL DEFAULT now())`,
      )
      const late = new pg.Client({ connectionString: db.url })
      await late.connect()
      await late.query('BEGIN')
      await late.query(`INSERT INTO ${table} (v) VALUES ('late')`)
      await db.sql(`INSERT INTO ${table} (v) VALUES ('early')`)
      const taskProps = {
        ...base(),
        mode: 'timestamp',
        'timestamp.column.name': 'modified',
        'incrementing.column.name': 'id',
        'poll.interval.ms': '50',
        tables: JSON.stringify([{ schema: 'public', table }]),
        ...props,
      }
      const task = startedTask(taskProps)
      await task.start(taskProps)
      try {
        const before = await pollFor(task, 1, beforeCommitMs)
        await late.query('COMMIT')
        const afterCommit = await pollFor(task, 2 - before.length, afterCommitMs)
        return [...before, ...afterCommit].map((r) => (r.value as { get(f: string): unknown }).get('v'))
      } finally {
        await task.stop()
        await late.end()
      }
    }

    it('is skipped by Confluent’s SQL with no delay (the pitfall, kafka-connect-jdbc#27)', async () => {
      assert.deepEqual(await scenario('late_plain', {}, 15_000, 2000), ['early'])
    })

    it('is read, in timestamp order, with wait.for.open.transactions=true', async () => {
      assert.deepEqual(await scenario('late_safe', { 'wait.for.open.transactions': 'true' }, 1500, 15_000), [
        'late',
        'early',
      ])
    })

    it('incrementing mode: is skipped by Confluent’s SQL (the lower id commits after a higher one was read)', async () => {
      assert.deepEqual(await scenario('late_inc_plain', { mode: 'incrementing' }, 15_000, 2000), ['early'])
    })

    it('incrementing mode: is read, in id order, with wait.for.open.transactions=true', async () => {
      assert.deepEqual(
        await scenario(
          'late_inc_safe',
          { mode: 'incrementing', 'wait.for.open.transactions': 'true' },
          1500,
          15_000,
        ),
        ['late', 'early'],
      )
    })
  })

  it('quote.sql.identifiers=never leaves names to the database (mixed case needs quoting)', async () => {
    const quoted = await readAll({
      ...base(),
      mode: 'bulk',
      tables: JSON.stringify([{ schema: 'public', table: 'MixedCase' }]),
    })
    assert.equal(quoted.length, 1)
    assert.equal(quoted[0].topic, 'MixedCase')
    await assert.rejects(
      readAll({
        ...base(),
        mode: 'bulk',
        'quote.sql.identifiers': 'never',
        tables: JSON.stringify([{ schema: 'public', table: 'MixedCase' }]),
      }),
      /relation "public.mixedcase" does not exist/,
    )
  })
})
