/**
 * The registry survives worker restarts (its state is the `_schemas`-style topic, on the embedded
 * log and on Kafka), an independent client (`@kafkajs/confluent-schema-registry`) registers,
 * encodes and decodes against it, and two distributed workers share one registry: writes on either
 * go to the elected writer, ids are never handed out twice.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { SchemaRegistry as ConfluentClient, SchemaType } from '@kafkajs/confluent-schema-registry'
import { type DistributedWorker, startDistributed } from '../../../src/cli/distributed.ts'
import { type StandaloneWorker, startStandalone } from '../../../src/cli/standalone.ts'
import { DistributedConfig } from '../../../src/config/distributed-config.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createKafkaLog } from '../../../src/log/kafka/kafka-log.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../../helpers/services.ts'

const CT = 'application/vnd.schemaregistry.v1+json'
const schema = (n: number) =>
  JSON.stringify({
    type: 'record',
    name: 'Bet',
    namespace: 'tote',
    fields: [
      { name: 'bet_id', type: 'string' },
      ...Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: ['null', 'long'], default: null })),
    ],
  })

async function post(
  base: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': CT },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
async function get(base: string, path: string): Promise<unknown> {
  return (await fetch(`${base}${path}`)).json()
}

function registryUrl(worker: StandaloneWorker | DistributedWorker): string {
  return `http://127.0.0.1:${worker.services.registryServer!.port}`
}

const dirs: string[] = []
/** Topics made on the shared Kafka, deleted at the end. */
const kafkaTopics: string[] = []
after(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  if (kafkaTopics.length > 0 && !kafkaSkipReason()) {
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'sr-topics-cleanup' })
    await log.deleteTopics(kafkaTopics).catch(() => {})
    await log.close()
  }
})

for (const backend of ['embedded', 'kafka'] as const) {
  const skip = backend === 'kafka' ? kafkaSkipReason() : false
  describe(`schema registry on the ${backend} log`, { skip, timeout: 120_000 }, () => {
    test('keeps subjects, ids, configs, modes and deletes across a worker restart', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-'))
      dirs.push(dir)
      const props = {
        'sluice.data.dir': join(dir, 'data'),
        listeners: 'http://127.0.0.1:0',
        'schema.registry.listeners': 'http://127.0.0.1:0',
        'schema.registry.topic': `_schemas-${randomUUID().slice(0, 8)}`,
        'log.level': 'warn',
        ...(backend === 'kafka' ? { 'bootstrap.servers': kafkaBootstrap() } : {}),
      }
      if (backend === 'kafka') kafkaTopics.push(props['schema.registry.topic'])
      let worker = await startStandalone(new WorkerConfig(props))
      let ids: number[]
      try {
        const base = registryUrl(worker)
        ids = []
        for (let n = 0; n < 3; n++)
          ids.push(
            (await post(base, '/subjects/bets-value/versions', { schema: schema(n) })).body.id as number,
          )
        await post(base, '/subjects/other-value/versions', { schema: '"string"' })
        await fetch(`${base}/subjects/other-value`, { method: 'DELETE' })
        await fetch(`${base}/config/bets-value`, {
          method: 'PUT',
          headers: { 'content-type': CT },
          body: '{"compatibility":"FULL"}',
        })
        await fetch(`${base}/mode/frozen`, {
          method: 'PUT',
          headers: { 'content-type': CT },
          body: '{"mode":"READONLY"}',
        })
      } finally {
        await worker.stop()
      }
      worker = await startStandalone(new WorkerConfig(props))
      try {
        const base = registryUrl(worker)
        assert.deepEqual(await get(base, '/subjects/bets-value/versions'), [1, 2, 3])
        assert.deepEqual(((await get(base, '/subjects/bets-value/versions/2')) as { id: number }).id, ids[1])
        assert.equal(((await get(base, `/schemas/ids/${ids[2]}`)) as { schema: string }).schema, schema(2))
        assert.deepEqual(await get(base, '/subjects'), ['bets-value'])
        assert.deepEqual(await get(base, '/subjects?deleted=true'), ['bets-value', 'other-value'])
        assert.deepEqual(await get(base, '/config/bets-value'), { compatibilityLevel: 'FULL' })
        assert.deepEqual(await get(base, '/mode/frozen'), { mode: 'READONLY' })
        const next = await post(base, '/subjects/new-value/versions', { schema: '"int"' })
        assert.ok((next.body.id as number) > Math.max(...ids), `id ${next.body.id} was handed out before`)
      } finally {
        await worker.stop()
      }
    })

    test('an independent Confluent client registers, encodes and decodes against it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-client-'))
      dirs.push(dir)
      const topic = `_schemas-${randomUUID().slice(0, 8)}`
      if (backend === 'kafka') kafkaTopics.push(topic)
      const worker = await startStandalone(
        new WorkerConfig({
          'sluice.data.dir': join(dir, 'data'),
          listeners: 'http://127.0.0.1:0',
          'schema.registry.listeners': 'http://127.0.0.1:0',
          'schema.registry.topic': topic,
          'log.level': 'warn',
          ...(backend === 'kafka' ? { 'bootstrap.servers': kafkaBootstrap() } : {}),
        }),
      )
      try {
        const client = new ConfluentClient({ host: registryUrl(worker) })
        const { id } = await client.register(
          { type: SchemaType.AVRO, schema: schema(1) },
          { subject: 'client-value' },
        )
        assert.equal(await client.getLatestSchemaId('client-value'), id)
        const encoded = await client.encode(id, { bet_id: 'b1', f0: 42 })
        assert.equal(encoded[0], 0)
        assert.equal(encoded.readInt32BE(1), id)
        // A fresh client knows nothing cached: decoding fetches the schema by id from our registry.
        const fresh = new ConfluentClient({ host: registryUrl(worker) })
        assert.deepEqual({ ...(await fresh.decode(encoded)) }, { bet_id: 'b1', f0: 42 })
        assert.equal(await fresh.getRegistryId('client-value', 1), id)
        const js = await client.register(
          {
            type: SchemaType.JSON,
            schema: JSON.stringify({ type: 'object', properties: { n: { type: 'number' } } }),
          },
          { subject: 'client-json' },
        )
        const jsEncoded = await client.encode(js.id, { n: 5 })
        assert.deepEqual(await fresh.decode(jsEncoded), { n: 5 })
        // An incompatible schema is refused to the client with Confluent's 409.
        await assert.rejects(
          client.register(
            {
              type: SchemaType.AVRO,
              schema: JSON.stringify({
                type: 'record',
                name: 'Bet',
                namespace: 'tote',
                fields: [{ name: 'x', type: 'int' }],
              }),
            },
            { subject: 'client-value' },
          ),
          /incompatible/i,
        )
      } finally {
        await worker.stop()
      }
    })
  })
}

describe('schema registry on distributed workers', { skip: kafkaSkipReason(), timeout: 180_000 }, () => {
  const workers: DistributedWorker[] = []
  const group = `sluice-sr-${randomUUID().slice(0, 8)}`
  after(async () => {
    for (const w of workers) await w.stop().catch(() => {})
    const log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'sr-cleanup' })
    await log
      .deleteTopics(['configs', 'offsets', 'status', 'schemas'].map((t) => `${group}-${t}`))
      .catch(() => {})
    await log.close()
  })
  const config = () =>
    new DistributedConfig({
      'bootstrap.servers': kafkaBootstrap(),
      'group.id': group,
      'config.storage.topic': `${group}-configs`,
      'offset.storage.topic': `${group}-offsets`,
      'status.storage.topic': `${group}-status`,
      'config.storage.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'status.storage.replication.factor': '1',
      'offset.storage.partitions': '1',
      'status.storage.partitions': '1',
      'session.timeout.ms': '6000',
      'heartbeat.interval.ms': '1000',
      listeners: 'http://127.0.0.1:0',
      'schema.registry.listeners': 'http://127.0.0.1:0',
      'schema.registry.topic': `${group}-schemas`,
      'schema.registry.group.id': `${group}-sr`,
      'rest.proxy.listeners': 'http://127.0.0.1:0',
      'log.level': 'warn',
    })

  test('writes on any worker go through one writer; ids stay unique; the writer moves when it leaves', async () => {
    workers.push(await startDistributed(config()))
    workers.push(await startDistributed(config()))
    const [a, b] = workers.map(registryUrl) as [string, string]
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(i % 2 === 0 ? a : b, `/subjects/s${i}/versions`, { schema: schema(i) }),
      ),
    )
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body))
    const ids = results.map((r) => r.body.id as number)
    assert.equal(new Set(ids).size, ids.length, `ids handed out twice: ${ids}`)
    // Both see everything right after (the forwarding worker read the result back before answering).
    assert.equal(((await get(a, '/subjects')) as string[]).length, 20)
    assert.equal(((await get(b, '/subjects')) as string[]).length, 20)
    // The same schema registered on both workers at once gets one id and one version.
    const [x, y] = await Promise.all([
      post(a, '/subjects/same/versions', { schema: schema(30) }),
      post(b, '/subjects/same/versions', { schema: schema(30) }),
    ])
    assert.deepEqual([x.body.id, x.body.version], [y.body.id, y.body.version])
    // The REST proxy of either worker registers a schema given as text through the writer.
    const proxied = await Promise.all(
      workers.map(async (w) => {
        const res = await fetch(`http://127.0.0.1:${w.services.proxyServer!.port}/topics/${group}-t`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
          body: JSON.stringify({ value_schema: schema(50), records: [{ value: { bet_id: 'p' } }] }),
        })
        return (await res.json()) as { value_schema_id: number; offsets: { error_code: number | null }[] }
      }),
    )
    assert.equal(proxied[0]!.value_schema_id, proxied[1]!.value_schema_id, JSON.stringify(proxied))
    assert.ok(proxied.every((p) => p.offsets[0]!.error_code === null))
    // Stop whichever writes; the other takes over.
    await workers[0]!.stop()
    const survivor = workers[1]!
    let after: { status: number; body: Record<string, unknown> } | undefined
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      after = await post(registryUrl(survivor), '/subjects/after/versions', { schema: schema(40) })
      if (after.status === 200) break
      // While the writer is gone: forwarding failed (50003) or no writer elected yet (50004).
      assert.equal(after.status, 500, JSON.stringify(after.body))
      assert.ok([50003, 50004].includes(after.body.error_code as number), JSON.stringify(after.body))
      await new Promise((r) => setTimeout(r, 500))
    }
    assert.equal(after?.status, 200, JSON.stringify(after?.body))
    assert.ok(!ids.includes(after!.body.id as number) && (after!.body.id as number) > Math.max(...ids))
  })
})

describe('schema registry on two standalone workers sharing a Kafka topic', {
  skip: kafkaSkipReason(),
  timeout: 120_000,
}, () => {
  test('they elect one writer: concurrent registrations on both never share an id', async () => {
    const topic = `_schemas-pair-${randomUUID().slice(0, 8)}`
    kafkaTopics.push(topic)
    const started: StandaloneWorker[] = []
    try {
      for (let i = 0; i < 2; i++) {
        const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-pair-'))
        dirs.push(dir)
        started.push(
          await startStandalone(
            new WorkerConfig({
              'sluice.data.dir': join(dir, 'data'),
              listeners: 'http://127.0.0.1:0',
              'schema.registry.listeners': 'http://127.0.0.1:0',
              'schema.registry.topic': topic,
              'bootstrap.servers': kafkaBootstrap(),
              'log.level': 'error',
            }),
          ),
        )
      }
      const [a, b] = started.map(registryUrl) as [string, string]
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          post(i % 2 ? a : b, `/subjects/p${i}/versions`, { schema: schema(i) }),
        ),
      )
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body))
      const ids = results.map((r) => r.body.id as number)
      assert.equal(new Set(ids).size, 16, `ids handed out twice: ${ids}`)
    } finally {
      for (const w of started) await w.stop()
    }
  })
})
