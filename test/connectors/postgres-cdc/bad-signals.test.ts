/**
 * Signals from outside are data: a malformed one is logged, reported on the task's status and skipped
 * (as Debezium does) from the signal table and from Kafka, never failing the task, also across a
 * restart; an `additional-conditions` filter can only ever be one read-only expression. Against the
 * real PostgreSQL (and Kafka for its channel), the task driven as the runtime drives it (harness.ts).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import type { SourceRecord } from '../../../src/api/records.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'
import { after, type Harness, harness, op, plain } from './harness.ts'

const SIGNAL_TABLE =
  'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)'
const INJECTION = '1=1); DROP TABLE victim; --'

const tableOf = (r: SourceRecord): string =>
  String((plain(r.value) as { source: Record<string, unknown> }).source.table)
const reads = (records: SourceRecord[], table: string): number[] =>
  [
    ...new Set(
      records.filter((r) => op(r) === 'r' && tableOf(r) === table).map((r) => after(r)!.id as number),
    ),
  ].sort((a, b) => a - b)
const messages = (h: Harness): string[] => h.problems.map((p) => p?.message ?? 'cleared')
const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`

async function victimExists(h: Harness): Promise<boolean> {
  const [rows] = (await h.db.sql("SELECT to_regclass('public.victim') AS t")) as { t: unknown }[][]
  return rows![0]!.t !== null
}

describe('[integration] PostgreSQL CDC bad signals', { skip: postgresSkipReason() }, () => {
  test('an additional condition that would end the WHERE is refused: the table survives, the signal is reported and skipped, also after a restart', async () => {
    const h = await harness('cdc_inject')
    try {
      await h.db.sql(
        'CREATE TABLE victim (id int PRIMARY KEY)',
        'CREATE TABLE a (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 5) g`,
        // A function that writes: called from a filter it must fail (READ ONLY), not drop the table.
        `CREATE FUNCTION evil() RETURNS boolean LANGUAGE plpgsql AS 'BEGIN DROP TABLE victim; RETURN true; END'`,
      )
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'table.include.list': 'public.a',
      }
      await h.start(props)
      const signal = (id: string, filter: string, type = 'incremental') =>
        `INSERT INTO debezium_signal VALUES ('${id}', 'execute-snapshot', ${sqlText(
          JSON.stringify({
            type,
            'data-collections': ['public.a'],
            'additional-conditions': [{ 'data-collection': 'public.a', filter }],
          }),
        )})`
      await h.db.sql(signal('inject', INJECTION))
      await h.pollUntil(() => h.problems.length >= 1, 30_000, 'the report of the injected signal')
      assert.match(
        messages(h)[0]!,
        /signal 'inject' from the signal table public\.debezium_signal skipped: the additional condition '1=1\); DROP TABLE victim; --' is not a single expression/,
      )
      assert.ok(await victimExists(h), 'the table survives')
      // The same payload as a blocking snapshot's SELECT.
      await h.db.sql(signal('inject-blocking', `SELECT * FROM a WHERE ${INJECTION}`, 'blocking'))
      await h.pollUntil(() => h.problems.length >= 2, 30_000, 'the report of the blocking one')
      assert.match(messages(h)[1]!, /signal 'inject-blocking' .* skipped: .*is not a single SELECT/)
      // A function that writes, called from a well-formed filter: the read-only chunk query refuses it.
      await h.db.sql(signal('evil', 'evil()'))
      await h.pollUntil(() => h.problems.length >= 3, 30_000, 'the report of the writing filter')
      assert.match(
        messages(h)[2]!,
        /incremental snapshot of public\.a skipped: its additional condition 'evil\(\)' fails: .*read-only transaction/,
      )
      assert.ok(await victimExists(h), 'the table survives the function')
      // The task goes on: a sound signal snapshots, with its filter.
      await h.db.sql(signal('good', 'id <= 3'))
      await h.pollUntil((r) => reads(r, 'a').length === 3, 30_000, 'the filtered incremental snapshot')
      assert.deepEqual(reads(h.records, 'a'), [1, 2, 3])
      // A restart reads no bad signal again and fails on nothing.
      await h.stopTask()
      const before = h.problems.length
      await h.start(props)
      await h.db.sql(`INSERT INTO a VALUES (100, 'after restart')`)
      await h.pollUntil((r) => r.some((x) => op(x) === 'c' && after(x)?.id === 100), 30_000, 'the insert')
      assert.equal(h.problems.length, before, 'nothing reported again after the restart')
      assert.ok(await victimExists(h))
    } finally {
      await h.close()
    }
  })

  test('an injected condition already in the offsets (stored by an earlier version) is refused at restart: the table survives', async () => {
    const h = await harness('cdc_inject_offset')
    try {
      await h.db.sql(
        'CREATE TABLE victim (id int PRIMARY KEY)',
        'CREATE TABLE a (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 5) g`,
      )
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'table.include.list': 'public.a',
      }
      await h.start(props)
      await h.db.sql(`INSERT INTO a VALUES (100, 'streamed')`)
      await h.pollUntil((r) => r.some((x) => op(x) === 'c'), 30_000, 'a streamed row')
      await h.stopTask()
      // The offset an earlier version stored for the signal: the snapshot of public.a with that condition.
      const partition = JSON.stringify({ server: 'srv' })
      h.offsets.set(partition, {
        ...h.offsets.get(partition)!,
        incremental_snapshot_collections: JSON.stringify([
          {
            incremental_snapshot_collections_id: 'public.a',
            incremental_snapshot_collections_additional_condition: INJECTION,
            incremental_snapshot_collections_surrogate_key: null,
          },
        ]),
        incremental_snapshot_correlation_id: 'inject',
      })
      await h.start(props)
      await h.pollUntil(() => h.problems.length >= 1, 30_000, 'the report of the stored condition')
      assert.match(
        messages(h)[0]!,
        /incremental snapshot of public\.a skipped: the additional condition '1=1\); DROP TABLE victim; --' is not a single expression/,
      )
      assert.ok(await victimExists(h), 'the table survives')
      await h.db.sql(`INSERT INTO a VALUES (101, 'streamed')`)
      await h.pollUntil(
        (r) => r.some((x) => op(x) === 'c' && after(x)?.id === 101),
        30_000,
        'streaming goes on',
      )
      assert.equal(
        h.records.at(-1)!.sourceOffset!.incremental_snapshot_collections,
        undefined,
        'the snapshot is dropped',
      )
    } finally {
      await h.close()
    }
  })

  test('malformed signal-table rows are reported and skipped; the task keeps streaming and signals after them work', async () => {
    const h = await harness('cdc_badsig')
    try {
      await h.db.sql(
        'CREATE TABLE a (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 4) g`,
      )
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'table.include.list': 'public.a',
      }
      await h.start(props)
      const rows: [string, string, string | null, RegExp][] = [
        [
          's1',
          'execute-snapshot',
          '{"data-collections":"notalist"}',
          /"data-collections" must be a list of strings/,
        ],
        ['s2', 'execute-snapshot', '{not json', /its data is not JSON/],
        ['s3', 'explode', null, /its type 'explode' is unknown/],
        ['s4', 'execute-snapshot', '{"data-collections":["public.a"],"type":"sideways"}', /"type" must be/],
        ['s5', 'stop-snapshot', '{"data-collections":{"a":1}}', /must be a list of strings/],
        [
          's6',
          'execute-snapshot',
          '{"data-collections":["public.a"],"additional-conditions":"id<2"}',
          /must be a list/,
        ],
        ['', 'log', '{}', /it has no "id"/],
      ]
      await h.db.sql(
        ...rows.map(
          ([id, type, data]) =>
            `INSERT INTO debezium_signal VALUES (${sqlText(id)}, ${sqlText(type)}, ${data === null ? 'NULL' : sqlText(data)})`,
        ),
      )
      await h.pollUntil(() => h.problems.length >= rows.length, 30_000, 'a report per malformed signal')
      rows.forEach(([id, , , message], i) => {
        assert.match(messages(h)[i]!, new RegExp(`signal '${id}' from the signal table`))
        assert.match(messages(h)[i]!, message)
      })
      await h.db.sql(
        `INSERT INTO debezium_signal VALUES ('ok', 'execute-snapshot', '{"data-collections":["public.a"]}')`,
      )
      await h.pollUntil((r) => reads(r, 'a').length === 4, 30_000, 'the sound signal after them')
      await h.stopTask()
      const before = h.problems.length
      await h.start(props)
      await h.db.sql(`INSERT INTO a VALUES (100, 'after restart')`)
      await h.pollUntil((r) => r.some((x) => op(x) === 'c' && after(x)?.id === 100), 30_000, 'the insert')
      assert.equal(h.problems.length, before, 'no bad signal read again after the restart')
    } finally {
      await h.close()
    }
  })

  test('malformed Kafka signals are reported and skipped, their offsets kept; a sound one after them works', {
    skip: kafkaSkipReason(),
  }, async () => {
    const h = await harness('cdc_badksig')
    const topic = `sig-${randomBytes(5).toString('hex')}`
    const log = await createLog(
      new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }),
      'cdc-bad-signal-test',
    )
    try {
      await h.db.sql(
        'CREATE TABLE a (id int PRIMARY KEY, v text)',
        SIGNAL_TABLE,
        `INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 4) g`,
      )
      await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
      const props = {
        'snapshot.mode': 'no_data',
        'signal.data.collection': 'public.debezium_signal',
        'signal.enabled.channels': 'source,kafka',
        'signal.kafka.topic': topic,
        'signal.kafka.bootstrap.servers': kafkaBootstrap(),
        'signal.kafka.groupId': `bad-signal-${randomBytes(4).toString('hex')}`,
        'table.include.list': 'public.a',
      }
      await h.start(props)
      const values: [string, RegExp][] = [
        ['{not json', /its value is not JSON/],
        [
          '{"id":{"x":1},"type":"execute-snapshot","data":{"data-collections":["public.a"]}}',
          /it has no "id"/,
        ],
        [
          '{"id":"k1","type":"execute-snapshot","data":{"data-collections":"notalist"}}',
          /"data-collections" must be a list of strings/,
        ],
        ['{"id":"k2","type":"execute-snapshot","data":[1]}', /its "data" is not a JSON object/],
        ['{"id":"k3","type":"teleport"}', /its type 'teleport' is unknown/],
        [
          `{"id":"k4","type":"execute-snapshot","data":{"type":"blocking","data-collections":["public.a"],"additional-conditions":[{"data-collection":"public.a","filter":"SELECT * FROM a WHERE ${INJECTION}"}]}}`,
          /not a single SELECT/,
        ],
      ]
      const producer = log.createProducer({ clientId: 'cdc-bad-signal-test' })
      try {
        await producer.send(
          [
            ...values.map(([v]) => v),
            '{"id":"k5","type":"execute-snapshot","data":{"type":"blocking","data-collections":["public.a"]}}',
          ].map((v) => ({ topic, partition: 0, key: Buffer.from('srv'), value: Buffer.from(v) })),
        )
      } finally {
        await producer.close()
      }
      await h.pollUntil(
        (r) => reads(r, 'a').length === 4,
        60_000,
        'the blocking snapshot of the sound signal',
      )
      const reported = messages(h).filter((m) => m.includes('skipped'))
      assert.equal(reported.length, values.length, reported.join('\n'))
      values.forEach(([, message], i) => {
        assert.match(reported[i]!, /from the Kafka signal channel skipped/)
        assert.match(reported[i]!, message)
      })
      assert.equal(h.records.at(-1)!.sourceOffset!.kafka_signal_offset, values.length)
      // A restart starts after the handled signals: nothing malformed is read again.
      await h.stopTask()
      const before = h.problems.length
      await h.start(props)
      await h.db.sql(`INSERT INTO a VALUES (100, 'after restart')`)
      await h.pollUntil((r) => r.some((x) => op(x) === 'c' && after(x)?.id === 100), 30_000, 'the insert')
      assert.equal(h.problems.filter((p) => p?.message.includes('skipped')).length, before)
    } finally {
      await h.close()
      await log.deleteTopics([topic]).catch(() => {})
      await log.close()
    }
  })
})
