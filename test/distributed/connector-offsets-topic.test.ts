/**
 * [integration] A source connector's own `offsets.storage.topic` (KIP-618) on distributed workers
 * (real worker processes, the shared broker), with exactly-once source support disabled and
 * enabled: the offsets land in the connector's topic (created with the worker's offsets topic
 * settings, compacted) and are copied to the worker's; a restart resumes from the connector's topic
 * even when the worker's copy is gone; a connector that ran without the key and then gets it resumes
 * where it was (fallback to the worker's topic, no rewind); GET/PATCH/DELETE of the offsets read and
 * write both topics (DELETE every stored spelling of a partition); under exactly-once a PATCH fences
 * a zombie of the stopped generation first, and a kill -9 of the task's worker counts every line once; a
 * topic that is not compacted fails the task naming the key; the worker's config topic is refused.
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, type ClusterWorker, restWithRetry } from './cluster.ts'
import { readCommitted, tally } from './exactly-once-check.ts'

const skip = kafkaSkipReason()
const WORKER_OFFSET_PARTITIONS = 5

/** The latest value of each key of a topic's partitions, read `read_committed` to its end (null: deleted). */
async function topicEntries(log: Log, topic: string): Promise<Map<string, string | null>> {
  const partitions = (await log.describeTopics([topic])).get(topic)?.partitions ?? 0
  const consumer = log.createConsumer({
    groupId: `offsets-topic-check-${topic}-${Date.now()}`,
    clientId: 'offsets-topic-check',
    isolationLevel: 'read_committed',
  })
  const assigned = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  try {
    await consumer.assign(assigned)
    for (const tp of assigned) consumer.seek(tp, 0)
    const entries = new Map<string, string | null>()
    for (let idle = 0; idle < 4; ) {
      const batch = await consumer.poll(300)
      idle = batch.length === 0 ? idle + 1 : 0
      for (const r of batch)
        entries.set(
          Buffer.from(r.key ?? []).toString(),
          r.value === null ? null : Buffer.from(r.value).toString(),
        )
    }
    return entries
  } finally {
    await consumer.close()
  }
}

const lines = (from: number, to: number) =>
  `${Array.from({ length: to - from + 1 }, (_, i) => String(from + i)).join('\n')}\n`

for (const mode of [
  { name: 'exactly-once disabled', eos: false },
  { name: 'exactly-once enabled', eos: true },
]) {
  describe(`[integration] a source connector's own offsets topic (${mode.name})`, {
    skip,
    timeout: 15 * 60_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-offsets-topic-'))
    let cluster: Cluster
    let log: Log
    const topics: string[] = []

    before(async () => {
      cluster = new Cluster({
        dir,
        bootstrap: kafkaBootstrap(),
        props: {
          'exactly.once.source.support': mode.eos ? 'enabled' : 'disabled',
          'task.threads': mode.eos ? '0' : '2',
          'scheduled.rebalance.max.delay.ms': '0',
          'offset.storage.partitions': String(WORKER_OFFSET_PARTITIONS),
        },
      })
      log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'offsets-topic-test' })
      await Promise.all([cluster.start(), cluster.start()])
    })

    after(async () => {
      await cluster?.stopAll()
      await cluster?.deleteTopics(topics)
      await log?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    const url = () => cluster.alive()[0].url
    const workerTopic = () => `${cluster.groupId}-offsets`

    /** A REST call retried while a rebalance (409) or a task still stopping (400 before STOPPED) is in the way. */
    async function call(
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: unknown }> {
      return eventually(
        async () => {
          const res = await restWithRetry(`${url()}${path}`, method, body)
          return res.status === 400 && /STOPPED state/.test(JSON.stringify(res.body)) ? undefined : res
        },
        60_000,
        `${method} ${path}`,
      )
    }

    async function fileSource(name: string, extra: Record<string, string> = {}) {
      const topic = `${cluster.groupId}-${name}`
      const ownTopic = `offsets-topic-${cluster.groupId}-${name}`
      topics.push(topic, ownTopic)
      await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
      const file = join(dir, `${name}.txt`)
      writeFileSync(file, '')
      const config = {
        'connector.class': 'FileStreamSource',
        file,
        topic,
        'batch.size': '20',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        ...(mode.eos ? { 'exactly.once.support': 'required' } : {}),
        ...extra,
      }
      const key = JSON.stringify([name, { filename: file }])
      return { name, topic, ownTopic, file, config, key }
    }

    async function create(name: string, config: Record<string, string>): Promise<void> {
      const res = await call('POST', '/connectors', { name, config })
      assert.equal(res.status, 201, JSON.stringify(res.body))
    }

    async function stop(name: string): Promise<void> {
      assert.equal((await call('PUT', `/connectors/${name}/stop`)).status, 204)
      await eventually(
        async () => {
          const res = await restWithRetry(`${url()}/connectors/${name}/status`, 'GET')
          const body = res.body as { connector: { state: string }; tasks: unknown[] }
          return body.connector.state === 'STOPPED' && body.tasks.length === 0 ? true : undefined
        },
        60_000,
        `${name} STOPPED`,
      )
    }

    async function resume(name: string): Promise<void> {
      assert.equal((await call('PUT', `/connectors/${name}/resume`)).status, 202)
    }

    /** Every value of the connector's topic once `expected` arrived; asserts there are exactly those. */
    async function expectValues(topic: string, expected: number, duplicates: number[] = []): Promise<void> {
      const values = await readCommitted(log, topic, expected, 90_000)
      const { missing, duplicated } = tally(values, Math.max(...values.map(Number), 0))
      assert.deepEqual(
        { total: values.length, missing: missing.slice(0, 10), duplicated: duplicated.slice(0, 10) },
        { total: expected, missing: [], duplicated: duplicates.slice(0, 10) },
      )
    }

    const position = (file: string) => JSON.stringify({ position: statSync(file).size })

    it('offsets land in the connector topic (and are copied to the worker topic); a restart resumes from it', async () => {
      const c = await fileSource('land')
      await create(c.name, { ...c.config, 'offsets.storage.topic': c.ownTopic })
      appendFileSync(c.file, lines(1, 50))
      await expectValues(c.topic, 50)
      await eventually(
        async () =>
          (await topicEntries(log, c.ownTopic)).get(c.key) === position(c.file) ? true : undefined,
        30_000,
        'the position in the connector topic',
      )
      const described = (await log.describeTopics([c.ownTopic])).get(c.ownTopic)
      assert.equal(described?.partitions, WORKER_OFFSET_PARTITIONS)
      assert.equal(described?.configs['cleanup.policy'], 'compact')
      await eventually(
        async () =>
          (await topicEntries(log, workerTopic())).get(c.key) === position(c.file) ? true : undefined,
        30_000,
        'the copy in the worker topic',
      )
      await stop(c.name)
      // Only the connector topic knows the position now: a resume that read the worker topic would
      // start the file over.
      const producer = log.createProducer({ clientId: 'offsets-topic-tombstone' })
      await producer.send([{ topic: workerTopic(), key: Buffer.from(c.key), value: null }])
      await producer.close()
      appendFileSync(c.file, lines(51, 80))
      await resume(c.name)
      await expectValues(c.topic, 80)
    })

    it('a connector that ran without the key and then gets it resumes where it was (fallback), then writes its own topic', async () => {
      const c = await fileSource('fallback')
      await create(c.name, c.config)
      appendFileSync(c.file, lines(1, 50))
      await expectValues(c.topic, 50)
      await eventually(
        async () =>
          (await topicEntries(log, workerTopic())).get(c.key) === position(c.file) ? true : undefined,
        30_000,
        'the position in the worker topic',
      )
      await stop(c.name)
      const updated = await call('PUT', `/connectors/${c.name}/config`, {
        ...c.config,
        'offsets.storage.topic': c.ownTopic,
      })
      assert.equal(updated.status, 200, JSON.stringify(updated.body))
      // GET reads the connector topic (empty) and falls back to the worker topic.
      const before = await call('GET', `/connectors/${c.name}/offsets`)
      assert.deepEqual(before.body, {
        offsets: [{ partition: { filename: c.file }, offset: { position: statSync(c.file).size } }],
      })
      appendFileSync(c.file, lines(51, 80))
      await resume(c.name)
      await expectValues(c.topic, 80)
      await eventually(
        async () =>
          (await topicEntries(log, c.ownTopic)).get(c.key) === position(c.file) ? true : undefined,
        30_000,
        'the new position in the connector topic',
      )
    })

    it('GET, PATCH and DELETE of the offsets work on both topics', async () => {
      const c = await fileSource('endpoints')
      await create(c.name, { ...c.config, 'offsets.storage.topic': c.ownTopic })
      appendFileSync(c.file, lines(1, 80))
      await expectValues(c.topic, 80)
      const end = statSync(c.file).size
      await eventually(
        async () => {
          const res = await restWithRetry(`${url()}/connectors/${c.name}/offsets`, 'GET')
          return JSON.stringify(res.body) ===
            JSON.stringify({ offsets: [{ partition: { filename: c.file }, offset: { position: end } }] })
            ? true
            : undefined
        },
        30_000,
        'GET of the offsets',
      )
      await stop(c.name)
      // Back to the end of line 70: lines 71…80 are read again.
      const at70 = Buffer.byteLength(lines(1, 70))
      const patched = await call('PATCH', `/connectors/${c.name}/offsets`, {
        offsets: [{ partition: { filename: c.file }, offset: { position: at70 } }],
      })
      assert.equal(patched.status, 200, JSON.stringify(patched.body))
      assert.equal((await topicEntries(log, c.ownTopic)).get(c.key), JSON.stringify({ position: at70 }))
      assert.equal((await topicEntries(log, workerTopic())).get(c.key), JSON.stringify({ position: at70 }))
      assert.deepEqual((await call('GET', `/connectors/${c.name}/offsets`)).body, {
        offsets: [{ partition: { filename: c.file }, offset: { position: at70 } }],
      })
      await resume(c.name)
      await expectValues(c.topic, 90, [71, 72, 73, 74, 75, 76, 77, 78, 79, 80])
      await eventually(
        async () =>
          (await topicEntries(log, c.ownTopic)).get(c.key) === position(c.file) ? true : undefined,
        30_000,
        'the position after the resume',
      )
      await stop(c.name)
      // One partition spelled two ways, its fields in another order in the worker topic (as a Java
      // worker may have written it): the reset deletes every stored key of both topics.
      const other = { filename: join(dir, 'endpoints-other.txt'), shard: 1 }
      const ownSpelling = JSON.stringify([c.name, other])
      const javaSpelling = JSON.stringify([c.name, { shard: other.shard, filename: other.filename }])
      const producer = log.createProducer({ clientId: 'offsets-topic-spellings' })
      await producer.send([
        { topic: workerTopic(), key: Buffer.from(javaSpelling), value: Buffer.from('{"position":1}') },
        { topic: c.ownTopic, key: Buffer.from(ownSpelling), value: Buffer.from('{"position":2}') },
      ])
      await producer.close()
      const reset = await call('DELETE', `/connectors/${c.name}/offsets`)
      assert.equal(reset.status, 200, JSON.stringify(reset.body))
      // Deleted in both topics: the fallback cannot bring the old position back.
      assert.equal((await topicEntries(log, c.ownTopic)).get(c.key), null)
      assert.equal((await topicEntries(log, workerTopic())).get(c.key), null)
      assert.equal((await topicEntries(log, c.ownTopic)).get(ownSpelling), null)
      assert.equal((await topicEntries(log, workerTopic())).get(javaSpelling), null, 'the other spelling')
      assert.deepEqual((await call('GET', `/connectors/${c.name}/offsets`)).body, { offsets: [] })
      await resume(c.name)
      // The file is read from its start again: 80 more.
      const values = await readCommitted(log, c.topic, 170, 90_000)
      assert.equal(values.length, 170)
    })

    if (mode.eos) {
      it('PATCH of the offsets fences a zombie of the previous generation first (a Kafka Connect leader stopped it without fencing)', async () => {
        const c = await fileSource('fence')
        await create(c.name, { ...c.config, 'offsets.storage.topic': c.ownTopic })
        appendFileSync(c.file, lines(1, 20))
        await expectValues(c.topic, 20)
        await stop(c.name)
        // A zombie of task 0 (a worker cut off from the group) holds its transactional id, with a
        // transaction open.
        const zombie = log.createTransactionalProducer!({
          clientId: 'offsets-topic-zombie',
          transactionalId: `${cluster.groupId}-${c.name}-0`,
        })
        await zombie.init()
        await zombie.begin()
        await zombie.send([{ topic: c.topic, key: null, value: Buffer.from('zombie') }])
        // What a Kafka Connect leader leaves after a stop: the empty generation committed after the
        // task-count record of the one-task generation, no fencing yet.
        const configs = log.createProducer({ clientId: 'offsets-topic-java-leader' })
        await configs.send([
          {
            topic: `${cluster.groupId}-configs`,
            key: Buffer.from(`tasks-fencing-${c.name}`),
            value: Buffer.from('{"task-count":1}'),
          },
          {
            topic: `${cluster.groupId}-configs`,
            key: Buffer.from(`commit-${c.name}`),
            value: Buffer.from('{"tasks":0}'),
          },
        ])
        await configs.close()
        const patched = await call('PATCH', `/connectors/${c.name}/offsets`, {
          offsets: [{ partition: { filename: c.file }, offset: { position: 0 } }],
        })
        assert.equal(patched.status, 200, JSON.stringify(patched.body))
        await assert.rejects(zombie.commit(), 'the zombie was fenced before the offsets were written')
        await zombie.close().catch(() => {})
        assert.equal((await topicEntries(log, c.ownTopic)).get(c.key), JSON.stringify({ position: 0 }))
      })

      it('kill -9 of the worker running the task: every line exactly once, offsets committed in the connector topic', async () => {
        const c = await fileSource('kill')
        await create(c.name, { ...c.config, 'offsets.storage.topic': c.ownTopic })
        const total = 4000
        let written = 0
        const writer = (async () => {
          while (written < total) {
            const next = Math.min(written + 100, total)
            appendFileSync(c.file, lines(written + 1, next))
            written = next
            await sleep(50)
          }
        })()
        const owner = await eventually(
          async () => {
            const res = await restWithRetry(`${url()}/connectors/${c.name}/status`, 'GET')
            const task = (res.body as { tasks?: { state: string; worker_id: string }[] }).tasks?.[0]
            return task?.state === 'RUNNING' ? task.worker_id : undefined
          },
          60_000,
          'the task running',
        )
        await sleep(300 + Math.floor(Math.random() * 1500))
        const victim = cluster.alive().find((w: ClusterWorker) => w.id === owner)
        assert.ok(victim, `no live worker is ${owner}`)
        await victim.kill9()
        await cluster.start(120_000)
        await writer
        await expectValues(c.topic, total)
        await eventually(
          async () =>
            (await topicEntries(log, c.ownTopic)).get(c.key) === position(c.file) ? true : undefined,
          60_000,
          'the final position in the connector topic',
        )
      })
    } else {
      it('a connector topic that is not compacted fails the task naming the key; the config topic is refused', async () => {
        const c = await fileSource('deleting')
        await log.createTopics([
          { name: c.ownTopic, partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'delete' } },
        ])
        await create(c.name, { ...c.config, 'offsets.storage.topic': c.ownTopic })
        const trace = await eventually(
          async () => {
            const res = await restWithRetry(`${url()}/connectors/${c.name}/status`, 'GET')
            const task = (res.body as { tasks?: { state: string; trace?: string }[] }).tasks?.[0]
            return task?.state === 'FAILED' ? (task.trace ?? '') : undefined
          },
          60_000,
          'the task FAILED',
        )
        assert.match(trace, /offsets\.storage\.topic/)
        assert.match(trace, /cleanup\.policy=compact/)
        const refused = await call('POST', '/connectors', {
          name: 'offsets-topic-configs',
          config: { ...c.config, 'offsets.storage.topic': `${cluster.groupId}-configs` },
        })
        assert.equal(refused.status, 400)
        assert.match(JSON.stringify(refused.body), /config\.storage\.topic/)
      })
    }
  })
}
