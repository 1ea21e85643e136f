/**
 * The Kafka signal channel in a real worker on Kafka: bad signal settings are refused with 400 naming
 * the key; a signal broker that cannot be reached keeps the task RUNNING with the error in its status
 * trace until it can — changes stream on meanwhile — then signals work.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { dropReplicationSlot, freshPostgresDatabase, type TestDatabase } from '../../helpers/databases.ts'
import { eventually, request, type StatusBody } from '../../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason, postgresSkipReason } from '../../helpers/services.ts'
import { TcpProxy } from '../../helpers/tcp-proxy.ts'
import { type KafkaWorker, startKafkaWorker, TopicReader } from '../jdbc/source/support.ts'

describe('[integration] PostgreSQL CDC Kafka signal channel in a worker', {
  skip: postgresSkipReason() || kafkaSkipReason(),
}, () => {
  let worker: KafkaWorker
  let db: TestDatabase
  const suffix = randomBytes(4).toString('hex')
  const slot = `ksw_${suffix}`
  const readers: TopicReader[] = []
  const proxies: TcpProxy[] = []

  before(async () => {
    worker = await startKafkaWorker()
    db = await freshPostgresDatabase('cdc_ksig_worker')
    await db.sql(
      'CREATE TABLE t (id int PRIMARY KEY, v text)',
      `INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g`,
    )
  })
  after(async () => {
    for (const r of readers) await r.close()
    for (const p of proxies) await p.close()
    await worker?.close()
    if (db) {
      await dropReplicationSlot(db.url, slot)
      await db.drop()
    }
  })

  const config = (extra: Record<string, string>): Record<string, string> => {
    const url = new URL(db.url)
    return {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': url.hostname,
      'database.port': url.port,
      'database.user': 'postgres',
      'database.dbname': db.name,
      'topic.prefix': `ksw-${suffix}`,
      'plugin.name': 'pgoutput',
      'slot.name': slot,
      'publication.name': `pub_${suffix}`,
      'snapshot.mode': 'no_data',
      'table.include.list': 'public.t',
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '1',
      ...extra,
    }
  }

  it('refuses bad signal settings with 400 naming the key', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [
        { 'signal.enabled.channels': 'source,file' },
        'signal.enabled.channels',
        /supported channels are source, kafka/,
      ],
      [{ 'signal.enabled.channels': 'source,kafka' }, 'signal.kafka.bootstrap.servers', /required/],
      [
        {
          'signal.enabled.channels': 'kafka',
          'signal.kafka.bootstrap.servers': kafkaBootstrap(),
          'signal.consumer.ssl.keystore.type': 'JKS',
        },
        'signal.consumer.ssl.keystore.type',
        /only PEM/,
      ],
      [
        {
          'signal.enabled.channels': 'kafka',
          'signal.kafka.bootstrap.servers': kafkaBootstrap(),
          'signal.consumer.sasl.kerberos.service.name': 'kafka',
        },
        'signal.consumer.sasl.kerberos.service.name',
        /not supported/,
      ],
      [
        {
          'signal.enabled.channels': 'kafka',
          'signal.kafka.bootstrap.servers': kafkaBootstrap(),
          'signal.consumer.security.protocol': 'SASL_SSL',
        },
        'signal.consumer.sasl.jaas.config',
        /needs signal\.consumer\.sasl\.jaas\.config|username/,
      ],
    ]
    for (const [extra, key, message] of cases) {
      const name = `bad-${randomBytes(3).toString('hex')}`
      const res = await request<{ error_code: number; message: string }>(worker.base, 'POST', '/connectors', {
        name,
        config: config(extra),
      })
      if (res.status !== 400) await request(worker.base, 'DELETE', `/connectors/${name}`)
      assert.equal(res.status, 400, `${key}: ${JSON.stringify(res.body)}`)
      assert.ok(res.body.message.includes(key), `the message names ${key}: ${res.body.message}`)
      assert.match(res.body.message, message)
    }
  })

  it('an unreachable signal broker shows in the task status while changes stream on; once reachable, signals work', async () => {
    const [host, port] = kafkaBootstrap().split(':')
    const proxy = await new TcpProxy({ host, port: Number(port) }).start()
    proxies.push(proxy)
    await proxy.cut()
    const topic = `ksw-sig-${suffix}`
    // The topic does not exist yet: the channel creates it (as a broker auto-creates it for Debezium's consumer).
    const name = `ksw-${suffix}`
    const res = await request(worker.base, 'POST', '/connectors', {
      name,
      config: config({
        'signal.enabled.channels': 'kafka',
        'signal.kafka.topic': topic,
        'signal.kafka.bootstrap.servers': `127.0.0.1:${proxy.port}`,
        'signal.kafka.groupId': `kafka-signal-${suffix}`,
      }),
    })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    const away = await eventually(
      async () => {
        const status = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
        const task = status.body?.tasks?.[0]
        return task?.trace?.includes('Kafka signal channel') ? task : undefined
      },
      60_000,
      'the signal channel error in the task status',
    )
    assert.equal(away.state, 'RUNNING')
    assert.match(
      away.trace ?? '',
      new RegExp(`cannot read topic '${topic}' from 127\\.0\\.0\\.1:${proxy.port}`),
    )
    // A signal channel outage does not stop capture: a change made meanwhile streams.
    const reader = new TopicReader(worker.worker, `ksw-${suffix}.public.t`)
    readers.push(reader)
    await db.sql(`INSERT INTO t VALUES (100, 'during the outage')`)
    const streamed = await reader.until((r) => r.length >= 1, 60_000, 'the insert made during the outage')
    assert.equal(streamed[0].value.payload.op, 'c')
    assert.equal((streamed[0].value.payload.after as { id: number }).id, 100)

    await proxy.restore()
    await eventually(
      async () => {
        const status = await request<StatusBody>(worker.base, 'GET', `/connectors/${name}/status`)
        const task = status.body?.tasks?.[0]
        return task?.state === 'RUNNING' && !task.trace ? true : undefined
      },
      60_000,
      'the trace to clear',
    )
    const producer = worker.worker.log.createProducer({ clientId: 'ksw-test' })
    await producer.send([
      {
        topic,
        partition: 0,
        key: Buffer.from(`ksw-${suffix}`),
        value: Buffer.from(
          JSON.stringify({
            id: 'b1',
            type: 'execute-snapshot',
            data: { 'data-collections': ['public.t'], type: 'blocking' },
          }),
        ),
      },
    ])
    await producer.close()
    const records = (await reader.until((r) => r.length >= 7, 60_000, 'the blocking snapshot of t')).slice(1)
    assert.deepEqual(
      records.map((r) => (r.value.payload.after as { id: number }).id).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 100],
    )
    assert.ok(records.every((r) => r.value.payload.op === 'r'))
    await request(worker.base, 'DELETE', `/connectors/${name}`)
    await worker.worker.log.deleteTopics([topic]).catch(() => {})
  })
})
