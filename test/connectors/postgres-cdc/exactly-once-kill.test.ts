/**
 * [integration] The PostgreSQL CDC connector (Debezium's class name) with exactly-once source
 * delivery (KIP-618) in a 2-worker distributed cluster of real worker processes: a writer inserts
 * numbered rows without pause while the worker running the task is killed (kill -9) at a random
 * point and a new worker started, again and again. A `read_committed` consumer of the table's topic
 * must see each row's create event exactly once, in insertion order.
 *
 * `SLUICE_CDC_EOS_KILLS` sets how many kills (default 3; run it with 20 or more to measure).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaLog } from '../../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../../src/log/log.ts'
import { Cluster, type ClusterWorker, restWithRetry } from '../../distributed/cluster.ts'
import { readCommitted } from '../../distributed/exactly-once-check.ts'
import {
  dropReplicationSlot,
  freshPostgresDatabase,
  postgresCdcProps,
  type TestDatabase,
} from '../../helpers/databases.ts'
import { eventually } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'

const skip = postgresSkipReason() || kafkaSkipReason()
const KILLS = Number(process.env.SLUICE_CDC_EOS_KILLS ?? 3)
const ROWS_PER_INSERT = 10

describe('[integration] CDC with exactly-once source under kill -9 of the task worker', {
  skip,
  timeout: 60 * 60_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cdc-eos-'))
  const suffix = randomBytes(4).toString('hex')
  const slot = `cdc_eos_${suffix}`
  const prefix = `cdc-eos-${suffix}`
  const topic = `${prefix}.public.w`
  const name = `cdc-eos-${suffix}`
  let cluster: Cluster
  let log: Log
  let db: TestDatabase

  before(async () => {
    db = await freshPostgresDatabase('cdc_eos')
    await db.sql('CREATE TABLE w (id int PRIMARY KEY, v text)')
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'cdc-eos-test' })
    await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
    cluster = new Cluster({
      dir,
      bootstrap: kafkaBootstrap(),
      props: {
        'exactly.once.source.support': 'enabled',
        'scheduled.rebalance.max.delay.ms': '0',
        'key.converter.schemas.enable': 'false',
        'value.converter.schemas.enable': 'false',
      },
    })
    await Promise.all([cluster.start(), cluster.start()])
  })

  after(async () => {
    await cluster?.stopAll()
    await cluster?.deleteTopics([topic])
    await log?.close()
    if (db) {
      await dropReplicationSlot(db.url, slot).catch(() => {})
      await db.drop()
    }
    if (process.env.SLUICE_KEEP_TEST_DIR) console.log(`kept ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  })

  const url = () => cluster.alive()[0].url

  /** The worker id running the task, once it runs on a worker other than `not`. */
  function taskWorker(not?: string): Promise<string> {
    return eventually(
      async () => {
        const res = await fetch(`${url()}/connectors/${name}/status`).catch(() => undefined)
        if (res?.status !== 200) return undefined
        const task = (
          (await res.json()) as { tasks?: { state: string; worker_id: string; trace?: string }[] }
        ).tasks?.[0]
        if (task?.state === 'FAILED') throw new Error(`the CDC task FAILED: ${task.trace}`)
        return task?.state === 'RUNNING' && task.worker_id !== not ? task.worker_id : undefined
      },
      180_000,
      `the CDC task running${not ? ` elsewhere than ${not}` : ''}`,
    )
  }

  it(`every row's create event exactly once, in order, over ${KILLS} kills`, async () => {
    const created = await restWithRetry(`${url()}/connectors`, 'POST', {
      name,
      config: {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        ...postgresCdcProps(db, { prefix, slot, publication: `pub_${suffix}` }),
        'snapshot.mode': 'no_data',
        'tombstones.on.delete': 'false',
        'exactly.once.support': 'required',
        // A killed worker's walsender holds the slot until the server notices the dead peer.
        'slot.max.retries': '60',
        'slot.retry.delay.ms': '1000',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    let owner = await taskWorker()
    // Rows written before the slot exists are not streamed (snapshot.mode=no_data): wait for it.
    await eventually(
      async () => {
        const [rows] = (await db.sql(
          `SELECT 1 FROM pg_replication_slots WHERE slot_name = '${slot}'`,
        )) as unknown[][]
        return rows.length > 0 ? true : undefined
      },
      60_000,
      'the replication slot',
    )
    let written = 0
    let writing = true
    const writer = (async () => {
      while (writing) {
        await db.sql(
          `INSERT INTO w SELECT g, 'v' || g FROM generate_series(${written + 1}, ${written + ROWS_PER_INSERT}) g`,
        )
        written += ROWS_PER_INSERT
        await sleep(20)
      }
    })()
    const started = Date.now()
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(500 + Math.floor(Math.random() * 2500))
      const victim = cluster.alive().find((w: ClusterWorker) => w.id === owner)
      assert.ok(victim, `no live worker is ${owner}`)
      await victim.kill9()
      await cluster.start(120_000)
      owner = await taskWorker(victim.id)
      console.log(`kill ${kill}/${KILLS}: ${written} rows written, the task runs on ${owner}`)
    }
    await sleep(1000)
    writing = false
    await writer
    const values = await readCommitted(log, topic, written, 180_000)
    const ids: number[] = []
    for (const v of values) {
      const event = JSON.parse(v) as { op: string; after: { id: number } | null }
      if (event.op === 'c' && event.after) ids.push(event.after.id)
    }
    const seen = new Map<number, number>()
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1)
    const missing: number[] = []
    const duplicated: number[] = []
    for (let id = 1; id <= written; id++) {
      if (!seen.has(id)) missing.push(id)
      else if (seen.get(id)! > 1) duplicated.push(id)
    }
    const outOfOrder = ids.findIndex((id, i) => i > 0 && id <= ids[i - 1])
    console.log(
      `${written} rows, ${KILLS} kills in ${((Date.now() - started) / 1000).toFixed(0)} s: ${missing.length} missing, ${duplicated.length} duplicated`,
    )
    assert.deepEqual(
      {
        missing: missing.slice(0, 20),
        duplicated: duplicated.slice(0, 20),
        outOfOrder: outOfOrder === -1 ? null : ids.slice(outOfOrder - 2, outOfOrder + 2),
        total: ids.length,
      },
      { missing: [], duplicated: [], outOfOrder: null, total: written },
    )
  })
})
