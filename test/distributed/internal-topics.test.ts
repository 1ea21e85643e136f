/**
 * [integration] Distributed workers in this process on the shared Kafka: the internal topics are
 * created as Kafka Connect creates them and hold its record formats; misconfigured topics are
 * refused with the fix; REST forwards to the leader, refuses a third hop, and checks the signature
 * of internal requests.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type DistributedWorker, startDistributed } from '../../src/cli/distributed.ts'
import { DistributedConfig } from '../../src/config/distributed-config.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { distributedTestConfig } from '../helpers/worker.ts'

const skip = kafkaSkipReason()

function workerConfig(group: string, extra: Record<string, string> = {}): DistributedConfig {
  return distributedTestConfig(group, {
    'session.timeout.ms': '6000',
    'heartbeat.interval.ms': '1000',
    'offset.flush.interval.ms': '300',
    // A sink consumer closed mid-join lingers in its group until its own session times out.
    'consumer.session.timeout.ms': '6000',
    'consumer.heartbeat.interval.ms': '1000',
    ...extra,
  })
}

async function readAll(log: Log, topic: string): Promise<{ key: string; value: string | null }[]> {
  const description = (await log.describeTopics([topic])).get(topic)!
  const tps = Array.from({ length: description.partitions }, (_, partition) => ({ topic, partition }))
  const end = await log.endOffsets(tps)
  const consumer = log.createConsumer({ groupId: `peek-${randomUUID()}`, clientId: 'peek' })
  await consumer.assign(tps)
  for (const tp of tps) consumer.seek(tp, 0)
  const out: { key: string; value: string | null }[] = []
  const deadline = Date.now() + 20_000
  while (tps.some((tp) => consumer.position(tp) < (end.get(`${tp.topic}\u0000${tp.partition}`) ?? 0))) {
    if (Date.now() > deadline) break
    for (const r of await consumer.poll(300)) {
      out.push({
        key: Buffer.from(r.key ?? []).toString(),
        value: r.value === null ? null : Buffer.from(r.value).toString(),
      })
    }
  }
  await consumer.close()
  return out
}

describe('[integration] distributed internal topics and REST', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dist-topics-'))
  const group = `sluice-topics-${randomUUID().slice(0, 8)}`
  let log: Log
  const workers: DistributedWorker[] = []
  const url = (w: DistributedWorker) => `http://127.0.0.1:${w.rest.port}`

  before(async () => {
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'dist-topics-test' })
    workers.push(await startDistributed(workerConfig(group)))
    workers.push(await startDistributed(workerConfig(group)))
  })

  after(async () => {
    for (const w of workers.reverse()) await w.stop()
    await log
      ?.deleteTopics(['configs', 'offsets', 'status', 'data'].map((t) => `${group}-${t}`))
      .catch(() => {})
    await log?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates the internal topics compacted, with Kafka Connect’s default partition counts', async () => {
    const topics = await log.describeTopics([`${group}-configs`, `${group}-offsets`, `${group}-status`])
    assert.equal(topics.get(`${group}-configs`)?.partitions, 1)
    assert.equal(topics.get(`${group}-offsets`)?.partitions, 25)
    assert.equal(topics.get(`${group}-status`)?.partitions, 5)
    for (const t of topics.values()) assert.equal(t.configs['cleanup.policy'], 'compact')
  })

  it('writes configs, status and offsets in Kafka Connect’s record formats', async () => {
    const input = join(dir, 'in.txt')
    writeFileSync(input, 'a\nb\nc\n')
    await log.createTopics([{ name: `${group}-data`, partitions: 1, replicationFactor: 1 }])
    const follower = workers.find((w) => !w.herder.isLeader)!
    const created = await request(url(follower), 'POST', '/connectors', {
      name: 'src',
      config: { 'connector.class': 'FileStreamSource', file: input, topic: `${group}-data` },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await eventually(async () => {
      const res = await request<{ tasks: { state: string }[] }>(
        url(follower),
        'GET',
        '/connectors/src/status',
      )
      return res.status === 200 && res.body.tasks[0]?.state === 'RUNNING' ? true : undefined
    })
    assert.equal((await request(url(follower), 'PUT', '/connectors/src/pause')).status, 202)
    const offsetKey = JSON.stringify(['src', { filename: input }])
    const offsets = await eventually(async () => {
      const records = await readAll(log, `${group}-offsets`)
      return records.some((r) => r.key === offsetKey) ? records : undefined
    })
    assert.deepEqual(JSON.parse(offsets.filter((r) => r.key === offsetKey).at(-1)!.value!), { position: 6 })

    const configs = await eventually(async () => {
      const records = await readAll(log, `${group}-configs`)
      return records.some((r) => r.key === 'target-state-src') ? records : undefined
    })
    const value = (key: string) => {
      const r = configs.filter((c) => c.key === key).at(-1)
      return r?.value === null || r === undefined ? r?.value : JSON.parse(r.value)
    }
    assert.deepEqual(value('connector-src'), {
      properties: { 'connector.class': 'FileStreamSource', file: input, topic: `${group}-data`, name: 'src' },
    })
    assert.equal(value('task-src-0').properties.file, input)
    assert.deepEqual(value('commit-src'), { tasks: 1 })
    assert.deepEqual(value('target-state-src'), { state: 'PAUSED', 'state.v2': 'PAUSED' })
    const sessionKey = value('session-key')
    assert.deepEqual(Object.keys(sessionKey), ['key', 'algorithm', 'creation-timestamp'])
    assert.equal(sessionKey.algorithm, 'HmacSHA256')
    assert.equal(Buffer.from(sessionKey.key, 'base64').length, 32)
    // Task records come before their commit.
    const keys = configs.map((c) => c.key)
    assert.ok(keys.indexOf('task-src-0') < keys.indexOf('commit-src'))

    const status = await readAll(log, `${group}-status`)
    const connectorStatus = JSON.parse(status.filter((r) => r.key === 'status-connector-src').at(-1)!.value!)
    assert.deepEqual(Object.keys(connectorStatus), ['state', 'trace', 'worker_id', 'generation'])
    assert.ok(status.some((r) => r.key === 'status-task-src-0'))
    const topicStatus = status.filter((r) => r.key === `status-topic-${group}-data:connector-src`).at(-1)
    assert.ok(topicStatus?.value, 'a status-topic record for the source topic')
    const topic = JSON.parse(topicStatus.value).topic
    assert.deepEqual([topic.name, topic.connector, topic.task], [`${group}-data`, 'src', 0])
    assert.equal(typeof topic.discoverTimestamp, 'number')
  })

  it('forwards writes to the leader, refuses a third hop with 409, and checks internal signatures', async () => {
    const follower = workers.find((w) => !w.herder.isLeader)!
    const leader = workers.find((w) => w.herder.isLeader)!
    const body = { 'connector.class': 'FileStreamSink', topics: `${group}-data`, file: join(dir, 'out.txt') }
    const hop = await request<{ message: string }>(
      url(follower),
      'PUT',
      '/connectors/sink/config?forward=false',
      body,
    )
    assert.equal(hop.status, 409)
    assert.equal(
      hop.body.message,
      'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
    )
    const put = await request(url(follower), 'PUT', '/connectors/sink/config', body)
    assert.equal(put.status, 201, JSON.stringify(put.body))
    assert.match(put.headers.get('location') ?? '', /\/connectors\/sink$/)

    // A task restart asked of a worker that does not run the task goes to the leader, then the owner.
    const owner = await eventually(async () => {
      const res = await request<{ state: string; worker_id: string }>(
        url(leader),
        'GET',
        '/connectors/sink/tasks/0/status',
      )
      return res.status === 200 && res.body.state === 'RUNNING' ? res.body.worker_id : undefined
    })
    const notOwner = workers.find((w) => `127.0.0.1:${w.rest.port}` !== owner)!
    const restart = await eventually(async () => {
      const res = await request(url(notOwner), 'POST', '/connectors/sink/tasks/0/restart')
      return res.status === 409 ? undefined : res
    })
    assert.equal(restart.status, 204, JSON.stringify(restart.body))

    const unsigned = await request(url(leader), 'POST', '/connectors/sink/tasks?forward=true', [{ a: 'b' }])
    assert.equal(unsigned.status, 400)
    const forged = await fetch(`${url(leader)}/connectors/sink/tasks?forward=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-Connect-Authorization': Buffer.alloc(32).toString('base64'),
        'X-Connect-Request-Signature-Algorithm': 'HmacSHA256',
      },
      body: '[{"a":"b"}]',
    })
    assert.equal(forged.status, 403)
    assert.equal(
      ((await forged.json()) as { message: string }).message,
      'Internal request contained invalid signature.',
    )
  })

  it('updates, pauses, resumes, stops and deletes a connector across the cluster', async () => {
    const [a, b] = workers
    const out = join(dir, 'life.txt')
    const base = { 'connector.class': 'FileStreamSink', topics: `${group}-data`, file: out, 'tasks.max': '2' }
    const status = async () => {
      const res = await request<{ connector: { state: string }; tasks: { state: string }[] }>(
        url(b),
        'GET',
        '/connectors/life/status',
      )
      return res.status === 200 ? res.body : undefined
    }
    const until = (what: string, check: (s: NonNullable<Awaited<ReturnType<typeof status>>>) => boolean) =>
      eventually(
        async () => {
          const s = await status()
          return s && check(s) ? s : undefined
        },
        30_000,
        what,
      )
    assert.equal((await request(url(a), 'PUT', '/connectors/life/config', base)).status, 201)
    await until('2 RUNNING tasks', (s) => s.tasks.length === 2 && s.tasks.every((t) => t.state === 'RUNNING'))
    const updated = await eventually(async () => {
      const res = await request(url(b), 'PUT', '/connectors/life/config', { ...base, 'tasks.max': '3' })
      return res.status === 409 ? undefined : res
    })
    assert.equal(updated.status, 200)
    await until('3 RUNNING tasks', (s) => s.tasks.length === 3 && s.tasks.every((t) => t.state === 'RUNNING'))
    assert.equal((await request(url(b), 'PUT', '/connectors/life/pause')).status, 202)
    await until('PAUSED', (s) => s.connector.state === 'PAUSED' && s.tasks.every((t) => t.state === 'PAUSED'))
    assert.equal((await request(url(a), 'PUT', '/connectors/life/resume')).status, 202)
    await until(
      'RUNNING again',
      (s) => s.connector.state === 'RUNNING' && s.tasks.every((t) => t.state === 'RUNNING'),
    )
    // KIP-745 restart: written to the config topic by the leader, executed by each owner.
    const restarted = await eventually(async () => {
      const res = await request<{ connector: { state: string }; tasks: { state: string }[] }>(
        url(b),
        'POST',
        '/connectors/life/restart?includeTasks=true',
      )
      return res.status === 409 ? undefined : res
    })
    assert.equal(restarted.status, 202, JSON.stringify(restarted.body))
    assert.equal(restarted.body.connector.state, 'RESTARTING')
    assert.deepEqual(
      restarted.body.tasks.map((t) => t.state),
      ['RESTARTING', 'RESTARTING', 'RESTARTING'],
    )
    await until('RUNNING after the restart', (s) => s.tasks.every((t) => t.state === 'RUNNING'))
    const legacy = await eventually(async () => {
      const res = await request(url(a), 'POST', '/connectors/life/restart')
      return res.status === 409 ? undefined : res
    })
    assert.equal(legacy.status, 204)
    const stopped = await eventually(async () => {
      const res = await request(url(b), 'PUT', '/connectors/life/stop')
      return res.status === 409 ? undefined : res
    })
    assert.equal(stopped.status, 204)
    await until('STOPPED without tasks', (s) => s.connector.state === 'STOPPED' && s.tasks.length === 0)
    // KIP-875: a stopped sink's offsets are its consumer group's; reset goes through the leader.
    // 409 also while the stopped tasks' consumers are still leaving group connect-life.
    const reset = await eventually(
      async () => {
        const res = await request<{ message: string }>(url(b), 'DELETE', '/connectors/life/offsets')
        return res.status === 409 ? undefined : res
      },
      60_000,
      'the offsets reset',
    )
    assert.equal(reset.status, 200, JSON.stringify(reset.body))
    assert.match(reset.body.message, /reset successfully/)
    assert.equal((await request(url(a), 'PUT', '/connectors/life/resume')).status, 202)
    await until(
      'RUNNING after STOPPED',
      (s) => s.tasks.length === 3 && s.tasks.every((t) => t.state === 'RUNNING'),
    )
    const deleted = await eventually(async () => {
      const res = await request(url(a), 'DELETE', '/connectors/life')
      return res.status === 409 ? undefined : res
    })
    assert.equal(deleted.status, 204)
    await eventually(async () => {
      const res = await request(url(b), 'GET', '/connectors/life/status')
      const views = workers.map((w) => w.herder.clusterView())
      const gone = views.every(
        (v) => !v.tasks.some((t) => t.startsWith('life-')) && !v.connectors.includes('life'),
      )
      return res.status === 404 && gone ? true : undefined
    })
  })

  it('refuses a multi-partition config topic and a non-compacted topic, saying how to fix it', async () => {
    const bad = `sluice-bad-${randomUUID().slice(0, 8)}`
    await log.createTopics([
      {
        name: `${bad}-configs`,
        partitions: 2,
        replicationFactor: 1,
        configs: { 'cleanup.policy': 'compact' },
      },
    ])
    await assert.rejects(startDistributed(workerConfig(bad)), (error: Error) => {
      assert.match(error.message, /config\.storage\.topic/)
      assert.match(error.message, /single partition/)
      assert.match(error.message, /found 2 partitions/)
      return true
    })
    const bad2 = `sluice-bad-${randomUUID().slice(0, 8)}`
    await log.createTopics([
      {
        name: `${bad2}-offsets`,
        partitions: 1,
        replicationFactor: 1,
        configs: { 'cleanup.policy': 'delete' },
      },
    ])
    await assert.rejects(startDistributed(workerConfig(bad2)), (error: Error) => {
      assert.match(error.message, /offset\.storage\.topic/)
      assert.match(error.message, /cleanup\.policy=compact/)
      return true
    })
    await log.deleteTopics([
      `${bad}-configs`,
      `${bad}-offsets`,
      `${bad}-status`,
      `${bad2}-configs`,
      `${bad2}-offsets`,
      `${bad2}-status`,
    ])
  })
})

describe('distributed worker config', () => {
  it('sluice distributed exits 2 naming the key of a bad worker file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-dist-cli-'))
    try {
      const file = join(dir, 'worker.properties')
      const base =
        'bootstrap.servers=localhost:9092\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\nstatus.storage.topic=s\n'
      const run = () =>
        spawnSync(
          process.execPath,
          [resolve(import.meta.dirname, '../../src/cli/main.ts'), 'distributed', file],
          {
            encoding: 'utf8',
            timeout: 20_000,
          },
        )
      writeFileSync(file, `${base}scheduled.rebalance.max.delay.ms=soon\n`)
      let result = run()
      assert.equal(result.status, 2, result.stderr)
      assert.match(result.stderr, /scheduled\.rebalance\.max\.delay\.ms/)
      writeFileSync(file, `${base}sesion.timeout.ms=1000\n`)
      result = run()
      assert.equal(result.status, 2, result.stderr)
      assert.match(result.stderr, /Unknown worker config key 'sesion\.timeout\.ms'/)
      writeFileSync(file, base.replace('group.id=g\n', ''))
      result = run()
      assert.equal(result.status, 2, result.stderr)
      assert.match(result.stderr, /group\.id/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names the key of a wrong value or an unknown key', async () => {
    const { checkKnownKeys } = await import('../../src/config/distributed-config.ts')
    assert.throws(() => checkKnownKeys({ 'group.ld': 'x' }), /Unknown worker config key 'group\.ld'/)
    assert.throws(
      () =>
        new DistributedConfig({
          'bootstrap.servers': 'localhost:9092',
          'group.id': 'g',
          'config.storage.topic': 'c',
          'offset.storage.topic': 'o',
          'status.storage.topic': 's',
          'connect.protocol': 'cooperative',
        }),
      /connect\.protocol/,
    )
    assert.throws(
      () =>
        new DistributedConfig({
          'bootstrap.servers': 'localhost:9092',
          'config.storage.topic': 'c',
          'offset.storage.topic': 'o',
          'status.storage.topic': 's',
        }),
      /group\.id/,
    )
  })
})
