/**
 * [integration] Exactly-once source delivery (KIP-618) through a 2-worker distributed cluster of real
 * worker processes on a real broker. A FileStreamSource reads a file of numbered lines while they are
 * appended; the worker running its task is killed (kill -9) at a random point and replaced; a
 * `read_committed` consumer must then count every number exactly once — no gap, no duplicate.
 * Without transactions the same kill duplicates the records sent since the last offset flush.
 *
 * `SLUICE_EOS_RUNS` sets how many kill runs (default 3; run it with 20 or more to measure).
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { eventually } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { Cluster, type ClusterWorker, restWithRetry } from './cluster.ts'
import { configRecords, readCommitted, tally } from './exactly-once-check.ts'

const skip = kafkaSkipReason()
const RUNS = Number(process.env.SLUICE_EOS_RUNS ?? 3)
const NUMBERS = 6000
const PARTITIONS = 3

describe('[integration] exactly-once source in a distributed cluster', { skip, timeout: 60 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-eos-'))
  let cluster: Cluster
  let log: Log
  const topics: string[] = []

  before(async () => {
    cluster = new Cluster({
      dir,
      bootstrap: kafkaBootstrap(),
      props: { 'exactly.once.source.support': 'enabled', 'scheduled.rebalance.max.delay.ms': '0' },
    })
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'eos-test' })
    await Promise.all([cluster.start(), cluster.start()])
  })

  after(async () => {
    await cluster?.stopAll()
    await cluster?.deleteTopics(topics)
    await log?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const url = () => cluster.alive()[0].url

  it('refuses exactly.once.support=required for a connector that cannot, naming the key', async () => {
    const res = await restWithRetry(`${url()}/connectors`, 'POST', {
      name: 'eos-stdin',
      // FileStreamSource without a file reads stdin, whose position it does not track.
      config: { 'connector.class': 'FileStreamSource', topic: 'unused', 'exactly.once.support': 'required' },
    })
    assert.equal(res.status, 400, JSON.stringify(res.body))
    assert.match(JSON.stringify(res.body), /exactly\.once\.support/)
  })

  it('refuses transaction.boundary=connector for a connector that cannot define transactions', async () => {
    const res = await restWithRetry(`${url()}/connector-plugins/FileStreamSource/config/validate`, 'PUT', {
      name: 'eos-validate',
      'connector.class': 'FileStreamSource',
      file: join(dir, 'x.txt'),
      topic: 'unused',
      'transaction.boundary': 'connector',
    })
    assert.equal(res.status, 200)
    const body = res.body as { error_count: number; configs: { value: { name: string; errors: string[] } }[] }
    const boundary = body.configs.find((c) => c.value.name === 'transaction.boundary')
    assert.equal(body.error_count, 1)
    assert.match(boundary?.value.errors[0] ?? '', /transaction boundaries/)
  })

  /**
   * Streams NUMBERS lines through a new connector while `fault` strikes the worker running its task,
   * then checks that a read_committed consumer sees every number exactly once.
   */
  async function streamThrough(name: string, fault: (owner: ClusterWorker) => Promise<void>): Promise<void> {
    const topic = `${cluster.groupId}-${name}`
    topics.push(topic)
    await log.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
    const file = join(dir, `${name}.txt`)
    writeFileSync(file, '')
    const created = await restWithRetry(`${url()}/connectors`, 'POST', {
      name,
      config: {
        'connector.class': 'FileStreamSource',
        file,
        topic,
        'batch.size': '40',
        'exactly.once.support': 'required',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    // Lines appended for ~3 s; the fault strikes at a random moment in between.
    let written = 0
    const writer = (async () => {
      while (written < NUMBERS) {
        const lines: string[] = []
        for (let i = 0; i < 100 && written < NUMBERS; i++) lines.push(String(++written))
        appendFileSync(file, `${lines.join('\n')}\n`)
        await sleep(50)
      }
    })()
    const ownerId = await taskWorker(name, url())
    await sleep(200 + Math.floor(Math.random() * 2500))
    const owner = cluster.alive().find((w: ClusterWorker) => w.id === ownerId)
    assert.ok(owner, `no live worker is ${ownerId}`)
    await fault(owner)
    await writer
    const values = await readCommitted(log, topic, NUMBERS, 120_000, PARTITIONS)
    const { missing, duplicated } = tally(values, NUMBERS)
    assert.deepEqual(
      { missing: missing.slice(0, 20), duplicated: duplicated.slice(0, 20), total: values.length },
      { missing: [], duplicated: [], total: NUMBERS },
      `fault on ${ownerId} while ${NUMBERS} lines were appended`,
    )
    const deleted = await restWithRetry(`${url()}/connectors/${name}`, 'DELETE')
    assert.equal(deleted.status, 204)
  }

  /** The worker id running task 0 of the connector, once it runs (asked at `via`). */
  function taskWorker(name: string, via: string, not?: string): Promise<string> {
    return eventually(
      async () => {
        const res = await fetch(`${via}/connectors/${name}/status`)
        const status = (await res.json()) as { tasks?: { state: string; worker_id: string }[] }
        const task = status.tasks?.[0]
        return task?.state === 'RUNNING' && task.worker_id !== not ? task.worker_id : undefined
      },
      90_000,
      `the task of ${name} running${not ? ` on another worker than ${not}` : ''}`,
    )
  }

  for (let run = 1; run <= RUNS; run++) {
    it(`run ${run}/${RUNS}: every number exactly once after kill -9 of the task's worker`, async () => {
      await streamThrough(`eos-${run}`, async (owner) => {
        await owner.kill9()
        await cluster.start(120_000)
      })
    })
  }

  it('a zombie (frozen while its task moved to another worker) is fenced: every number exactly once', async () => {
    await streamThrough('eos-zombie', async (zombie) => {
      zombie.signal('SIGSTOP')
      const other = cluster.alive().find((w) => w !== zombie)!
      // The coordinator drops the frozen member after its session timeout; the task starts elsewhere
      // and claims the transactional id, fencing the frozen instance.
      await taskWorker('eos-zombie', other.url, zombie.id)
      zombie.signal('SIGCONT')
    })
  })

  it('a reconfiguration fences the running generation, whose task stops without a FAILED status', async () => {
    const name = 'eos-reconfigure'
    await streamThrough(name, async () => {
      const res = await restWithRetry(`${url()}/connectors/${name}/config`, 'GET')
      const config = { ...(res.body as Record<string, string>), 'batch.size': '30' }
      const updated = await restWithRetry(`${url()}/connectors/${name}/config`, 'PUT', config)
      assert.equal(updated.status, 200, JSON.stringify(updated.body))
    })
    // Every status the task ever had, from the status topic: the fenced old generation must not
    // have written FAILED while the new one took over.
    const consumer = log.createConsumer({ groupId: `eos-status-${name}`, clientId: 'eos-status' })
    const topic = `${cluster.groupId}-status`
    const partitions = [0, 1].map((partition) => ({ topic, partition }))
    const states: string[] = []
    try {
      await consumer.assign(partitions)
      for (const tp of partitions) consumer.seek(tp, 0)
      for (let idle = 0; idle < 5; ) {
        const batch = await consumer.poll(300)
        idle = batch.length === 0 ? idle + 1 : 0
        for (const r of batch) {
          if (Buffer.from(r.key ?? []).toString() !== `status-task-${name}-0` || !r.value) continue
          const status = JSON.parse(Buffer.from(r.value).toString()) as { state: string; trace?: string }
          states.push(status.state === 'FAILED' ? `FAILED (${status.trace ?? 'no trace'})` : status.state)
        }
      }
    } finally {
      await consumer.close()
    }
    assert.ok(states.includes('RUNNING'), `task statuses: ${states.join(', ')}`)
    assert.ok(!states.some((s) => s.startsWith('FAILED')), `task statuses: ${states.join(', ')}`)
  })

  it('leaves Kafka Connect\'s task-count record in the config topic: tasks-fencing-<connector> {"task-count":N}', async () => {
    const records = await configRecords(log, `${cluster.groupId}-configs`)
    assert.equal(records.get('tasks-fencing-eos-1'), '{"task-count":1}')
    assert.equal(records.get('tasks-fencing-eos-zombie'), '{"task-count":1}')
  })
})
