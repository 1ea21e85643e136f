// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${provider:path:key}` references are the subject here
/**
 * [integration] Config providers in distributed mode, as Kafka Connect has them: the config topic
 * holds connector and task configs with the `${…}` text, the worker that runs a task resolves it,
 * and the leader refuses a config whose reference cannot be resolved.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Props } from '../../src/api/connector.ts'
import { type DistributedWorker, startDistributed } from '../../src/cli/distributed.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { distributedTestConfig } from '../helpers/worker.ts'

const FIXTURES = resolve(import.meta.dirname, 'fixtures')
const SECRET = 'distributed-secret-5d2c81'

interface Shared {
  values: Map<string, string>
  starts: { kind: 'connector' | 'task'; name: string; props: Props }[]
}
function shared(): Shared {
  const g = globalThis as { sluiceProviderTest?: Shared }
  g.sluiceProviderTest ??= { values: new Map(), starts: [] }
  return g.sluiceProviderTest
}

async function readAll(log: Log, topic: string): Promise<{ key: string; value: string | null }[]> {
  const tps = [{ topic, partition: 0 }]
  const end = await log.endOffsets(tps)
  const consumer = log.createConsumer({ groupId: `peek-${randomUUID()}`, clientId: 'peek' })
  await consumer.assign(tps)
  consumer.seek(tps[0]!, 0)
  const out: { key: string; value: string | null }[] = []
  const deadline = Date.now() + 20_000
  while (consumer.position(tps[0]!) < (end.get(`${topic}\u00000`) ?? 0) && Date.now() < deadline) {
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

describe('[integration] config providers in a distributed worker', {
  skip: kafkaSkipReason(),
  timeout: 120_000,
}, () => {
  const group = `sluice-providers-${randomUUID().slice(0, 8)}`
  let worker: DistributedWorker
  let log: Log
  let base: string

  before(async () => {
    shared().values.set('dist:password', SECRET)
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'providers-test' })
    worker = await startDistributed(
      distributedTestConfig(group, {
        'offset.storage.partitions': '1',
        'status.storage.partitions': '1',
        'plugin.path': FIXTURES,
        'config.providers': 'mem',
        'config.providers.mem.class': 'test.MemoryConfigProvider',
      }),
    )
    base = `http://127.0.0.1:${worker.rest.port}`
  })
  after(async () => {
    await worker?.stop()
    await log?.deleteTopics(['configs', 'offsets', 'status'].map((t) => `${group}-${t}`)).catch(() => {})
    await log?.close()
  })

  it('writes configs with the references to the config topic and resolves them where the task runs', async () => {
    const name = `dist-${randomUUID().slice(0, 6)}`
    const created = await request(base, 'POST', '/connectors', {
      name,
      config: { 'connector.class': 'test.RecordingSource', secret: '${mem:dist:password}' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const task = await eventually(
      () => shared().starts.find((s) => s.name === name && s.kind === 'task'),
      30_000,
      'the task to start',
    )
    assert.equal(task.props.secret, SECRET)
    assert.equal(task.props.embedded, `prefix-${SECRET}-suffix`)
    const records = await readAll(log, `${group}-configs`)
    const connector = records.find((r) => r.key === `connector-${name}`)
    const taskRecord = records.find((r) => r.key === `task-${name}-0`)
    assert.ok(connector?.value?.includes('${mem:dist:password}'), connector?.value ?? 'no connector record')
    assert.ok(taskRecord?.value?.includes('${mem:dist:password}'), taskRecord?.value ?? 'no task record')
    assert.ok(taskRecord!.value!.includes('prefix-${mem:dist:password}-suffix'))
    for (const r of records) assert.ok(!r.value?.includes(SECRET), `${r.key} holds the value`)
  })

  it('refuses, on the leader, a reference that cannot be resolved', async () => {
    const res = await request<{ message: string }>(base, 'POST', '/connectors', {
      name: 'unresolvable',
      config: { 'connector.class': 'test.RecordingSource', secret: '${mem:dist:nope}' },
    })
    assert.equal(res.status, 400)
    assert.match(
      res.body.message,
      /Invalid value \$\{mem:dist:nope\} for configuration secret: no key 'nope'/,
    )
  })
})
