/**
 * Malformed and mistyped bodies on every produce path of the REST proxy and every write path of the
 * schema registry: each is a 4xx in Confluent's error shape, never a 5xx.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestWorker } from '../helpers/worker.ts'

test('bad input to the REST proxy and the schema registry is never answered 5xx', async () => {
  const tw = await startTestWorker({
    'rest.proxy.listeners': 'http://127.0.0.1:0',
    'schema.registry.listeners': 'http://127.0.0.1:0',
  })
  try {
    const proxy = `http://127.0.0.1:${tw.worker.services.proxyServer!.port}`
    const reg = `http://127.0.0.1:${tw.worker.services.registryServer!.port}`
    const cid = await tw.worker.log.clusterId()
    const bodies: unknown[] = [
      null,
      1,
      'x',
      [],
      {},
      { records: null },
      { records: [null] },
      { records: [1] },
      { records: [{ value: 1 }], value_schema: 123 },
      { records: [{ value: 1 }], value_schema_id: 'abc' },
      { records: [{ value: 1 }], value_schema_id: 1.5 },
      { records: [{ key: {}, value: 1 }], key_schema: '"string"', value_schema: '"int"' },
      { records: [{ value: 1, partition: '0' }] },
      { records: [{ value: 1, partition: -1 }] },
    ]
    const v3: unknown[] = [
      null,
      1,
      [],
      {},
      { value: 'x' },
      { value: { type: 'NOPE', data: 1 } },
      { headers: {} },
      { headers: [{ name: 1 }] },
      { timestamp: 'x', value: { type: 'STRING', data: 'a' } },
      { partition_id: 'x' },
      { value: { schema_version: 'abc', data: 1 } },
      { value: { schema_id: 'x', data: 1 } },
      { value: { schema: '{', data: 1 } },
      { value: { type: 'STRING', data: 5 } },
      { value: { subject: 'nope', data: 1 } },
      { key: { type: 'JSON', data: { a: 1 } } },
    ]
    const bad: string[] = []
    for (const fmt of ['json', 'binary', 'avro', 'jsonschema']) {
      for (const b of bodies) {
        const res = await fetch(`${proxy}/topics/fz`, {
          method: 'POST',
          headers: { 'content-type': `application/vnd.kafka.${fmt}.v2+json` },
          body: JSON.stringify(b),
        })
        if (res.status >= 500) bad.push(`${fmt} ${JSON.stringify(b)} → ${res.status} ${await res.text()}`)
      }
    }
    for (const b of v3) {
      const res = await fetch(`${proxy}/v3/clusters/${cid}/topics/fz/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(b),
      })
      if (res.status >= 500) bad.push(`v3 ${JSON.stringify(b)} → ${res.status} ${await res.text()}`)
      const res2 = await fetch(`${proxy}/v3/clusters/${cid}/topics/fz/records:batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entries: [{ id: 'a', ...(b as object) }] }),
      })
      if (res2.status >= 500) bad.push(`batch ${JSON.stringify(b)} → ${res2.status} ${await res2.text()}`)
    }
    const regBodies: unknown[] = [
      null,
      1,
      [],
      {},
      { schema: 1 },
      { schema: '"int"', references: 'x' },
      { schema: '"int"', references: [{}] },
      { schema: '"int"', schemaType: 'XML' },
      { schema: '"int"', version: 'x' },
      { schema: '"int"', id: -1 },
    ]
    for (const b of regBodies) {
      for (const path of [
        '/subjects/fz/versions',
        '/subjects/fz',
        '/compatibility/subjects/fz/versions/latest',
      ]) {
        const res = await fetch(`${reg}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify(b),
        })
        if (res.status >= 500)
          bad.push(`registry ${path} ${JSON.stringify(b)} → ${res.status} ${await res.text()}`)
      }
      for (const path of ['/config', '/mode', '/config/fz', '/mode/fz']) {
        const res = await fetch(`${reg}${path}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(b),
        })
        if (res.status >= 500)
          bad.push(`registry PUT ${path} ${JSON.stringify(b)} → ${res.status} ${await res.text()}`)
      }
    }

    assert.deepEqual(bad, [])
  } finally {
    await tw.close()
  }
})
