/**
 * The registry's topic holds Confluent's `KafkaStore` records: what Sluice writes has Confluent's key
 * and value layout, and records a Confluent registry writes (including key types Sluice does not
 * write itself: DELETE_SUBJECT, NOOP) are read back into the same state.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startStandalone } from '../../../src/cli/standalone.ts'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'
import { type Log, type LogRecord, tpKey } from '../../../src/log/log.ts'

const CT = 'application/vnd.schemaregistry.v1+json'
const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'))

async function readAll(log: Log, topic: string): Promise<LogRecord[]> {
  const consumer = log.createConsumer({ groupId: `read-${randomUUID()}`, clientId: 'format-reader' })
  try {
    await consumer.assign([{ topic, partition: 0 }])
    const end = (await log.endOffsets([{ topic, partition: 0 }])).get(tpKey({ topic, partition: 0 })) ?? 0
    const out: LogRecord[] = []
    const deadline = Date.now() + 10_000
    while ((out.at(-1)?.offset ?? -1) < end - 1 && Date.now() < deadline)
      out.push(...(await consumer.poll(200)))
    return out
  } finally {
    await consumer.close()
  }
}

test("writes Confluent's key and value layout, and reads records a Confluent registry wrote", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-format-'))
  const props = {
    'sluice.data.dir': join(dir, 'data'),
    listeners: 'http://127.0.0.1:0',
    'schema.registry.listeners': 'http://127.0.0.1:0',
    'log.level': 'error',
  }
  try {
    // Records as Confluent's registry writes them, before Sluice ever opens the topic.
    const setup = await createLog(new WorkerConfig(props), 'setup')
    await setup.createTopics([{ name: '_schemas', partitions: 1, configs: { 'cleanup.policy': 'compact' } }])
    const producer = setup.createProducer({ clientId: 'confluent' })
    const record = (key: object, value: object | null) => ({
      topic: '_schemas',
      partition: 0,
      key: Buffer.from(JSON.stringify(key)),
      value: value === null ? null : Buffer.from(JSON.stringify(value)),
    })
    await producer.send([
      record({ keytype: 'NOOP', magic: 0 }, null),
      record(
        { keytype: 'SCHEMA', subject: 'old-value', version: 1, magic: 1 },
        { subject: 'old-value', version: 1, id: 7, schema: '"string"', deleted: false },
      ),
      record(
        { keytype: 'SCHEMA', subject: 'old-value', version: 2, magic: 1 },
        { subject: 'old-value', version: 2, id: 8, schema: '"bytes"', deleted: false },
      ),
      record(
        { keytype: 'SCHEMA', subject: 'gone-value', version: 1, magic: 1 },
        { subject: 'gone-value', version: 1, id: 9, schema: '"int"', deleted: false },
      ),
      record(
        { keytype: 'DELETE_SUBJECT', subject: 'gone-value', magic: 0 },
        { subject: 'gone-value', version: 1 },
      ),
      record({ keytype: 'CONFIG', subject: null, magic: 0 }, { compatibilityLevel: 'FULL' }),
      record({ keytype: 'ASSOC', magic: 0 }, { whatever: true }),
    ])
    await producer.close()
    await setup.close()

    const worker = await startStandalone(new WorkerConfig(props))
    try {
      const base = `http://127.0.0.1:${worker.services.registryServer!.port}`
      const get = async (path: string) => (await fetch(`${base}${path}`)).json()
      assert.deepEqual(await get('/subjects'), ['old-value'])
      assert.deepEqual(await get('/subjects?deleted=true'), ['gone-value', 'old-value'])
      // The GUID is the MD5 of the schema text (Confluent's Schema.getGuid): md5('"bytes"').
      assert.deepEqual(await get('/schemas/ids/8'), {
        schema: '"bytes"',
        guid: 'b462f06c-b909-be57-c850-08867784cde6',
      })
      assert.deepEqual(await get('/config'), { compatibilityLevel: 'FULL' })
      const registered = (await (
        await fetch(`${base}/subjects/new-value/versions`, {
          method: 'POST',
          headers: { 'content-type': CT },
          body: JSON.stringify({
            schema: JSON.stringify({ type: 'record', name: 'N', fields: [{ name: 'a', type: 'int' }] }),
          }),
        })
      ).json()) as { id: number }
      assert.equal(registered.id, 10, 'the next id is one above the highest one in the topic')
      await fetch(`${base}/subjects/new-value`, { method: 'DELETE' })
      const json = JSON.stringify({ type: 'object' })
      await fetch(`${base}/subjects/js-value/versions`, {
        method: 'POST',
        headers: { 'content-type': CT },
        body: JSON.stringify({ schema: json, schemaType: 'JSON' }),
      })

      const written = (await readAll(worker.log, '_schemas'))
        .slice(7)
        .map((r) => [text(r.key), text(r.value)])
      assert.deepEqual(written, [
        [
          '{"keytype":"SCHEMA","subject":"new-value","version":1,"magic":1}',
          '{"subject":"new-value","version":1,"id":10,"schema":"{\\"type\\":\\"record\\",\\"name\\":\\"N\\",\\"fields\\":[{\\"name\\":\\"a\\",\\"type\\":\\"int\\"}]}","deleted":false}',
        ],
        [
          '{"keytype":"SCHEMA","subject":"new-value","version":1,"magic":1}',
          '{"subject":"new-value","version":1,"id":10,"schema":"{\\"type\\":\\"record\\",\\"name\\":\\"N\\",\\"fields\\":[{\\"name\\":\\"a\\",\\"type\\":\\"int\\"}]}","deleted":true}',
        ],
        [
          '{"keytype":"SCHEMA","subject":"js-value","version":1,"magic":1}',
          `{"subject":"js-value","version":1,"id":11,"schemaType":"JSON","schema":${JSON.stringify(json)},"deleted":false}`,
        ],
      ])
    } finally {
      await worker.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
