/**
 * Kill -9 a worker (the real `sluice standalone` command) in the middle of an upsert load into
 * PostgreSQL, restart it: the table ends with exactly one row per key holding its last version.
 * Offsets are committed only after the database committed, and upserts make the replay harmless.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { WorkerConfig } from '../../../../src/config/worker-config.ts'
import { createLog } from '../../../../src/log/create-log.ts'
import { freshPostgresDatabase, type TestDatabase } from '../../../helpers/databases.ts'
import { eventually } from '../../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../../helpers/services.ts'
import { workerProcess } from '../../../helpers/worker-process.ts'

const KEYS = 10_000
const VERSIONS = 4

const KEY_SCHEMA = {
  type: 'struct',
  optional: false,
  fields: [{ field: 'id', type: 'int32', optional: false }],
}
const VALUE_SCHEMA = {
  type: 'struct',
  optional: false,
  fields: [
    { field: 'id', type: 'int32', optional: false },
    { field: 'version', type: 'int32', optional: false },
    { field: 'label', type: 'string', optional: true },
  ],
}

describe('[integration] JDBC sink worker killed with SIGKILL mid-load', {
  skip: kafkaSkipReason() || postgresSkipReason(),
}, () => {
  const worker = workerProcess(['sink.json'])
  let db: TestDatabase | undefined
  after(async () => {
    worker.close()
    await db?.drop()
  })

  it('ends with exactly one row per key at its last version after kill -9 and restart (upsert)', async () => {
    db = await freshPostgresDatabase('jdbc_kill')
    const topic = `jdbc-kill-${Math.random().toString(36).slice(2, 8)}`
    const log = await createLog(new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }), 'jdbc-kill-test')
    try {
      await log.createTopics([{ name: topic, partitions: 3, replicationFactor: 1 }])
      const producer = log.createProducer({ clientId: 'jdbc-kill-producer' })
      for (let version = 1; version <= VERSIONS; version++) {
        const batch = []
        for (let id = 0; id < KEYS; id++) {
          batch.push({
            topic,
            key: Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { id } })),
            value: Buffer.from(
              JSON.stringify({
                schema: VALUE_SCHEMA,
                payload: { id, version, label: `row ${id} v${version}` },
              }),
            ),
          })
        }
        await producer.send(batch)
      }
      await producer.close()
    } finally {
      await log.close()
    }
    worker.writeProperties({ 'bootstrap.servers': kafkaBootstrap(), 'offset.flush.interval.ms': '200' })
    writeFileSync(
      join(worker.dir, 'sink.json'),
      JSON.stringify({
        name: `jdbc-kill-${topic}`,
        config: {
          'connector.class': 'JdbcSinkConnector',
          topics: topic,
          'connection.url': db.jdbcUrl,
          'auto.create': 'true',
          'insert.mode': 'upsert',
          'pk.mode': 'record_key',
          'table.name.format': 'kill_target',
          'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        },
      }),
    )
    const count = async (where = '') => {
      try {
        const rows = (await db!.sql(`SELECT count(*)::int AS n FROM kill_target ${where}`))[0] as {
          n: number
        }[]
        return rows[0]!.n
      } catch {
        return 0
      }
    }

    const started = Date.now()
    await worker.killMidway(async () => (await count()) >= 1_000, 120_000, 'rows to start arriving')
    const finalAtKill = await count(`WHERE version = ${VERSIONS}`)
    assert.ok(finalAtKill < KEYS, `the kill should land mid-load (${finalAtKill} of ${KEYS} rows were final)`)

    worker.start()
    await eventually(
      async () => ((await count(`WHERE version = ${VERSIONS}`)) === KEYS ? true : undefined),
      180_000,
      'every key at its last version',
    )
    const [rows] = (await db.sql(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, min(version) AS lo, max(version) AS hi,
              bool_and(label = 'row ' || id || ' v' || version) AS labels FROM kill_target`,
    )) as { n: number; ids: number; lo: number; hi: number; labels: boolean }[][]
    assert.deepEqual(rows![0], { n: KEYS, ids: KEYS, lo: VERSIONS, hi: VERSIONS, labels: true })
    process.stderr.write(
      `[jdbc sink kill -9] killed with ${finalAtKill} of ${KEYS} rows final; done in ${Date.now() - started} ms\n`,
    )
  })
})
