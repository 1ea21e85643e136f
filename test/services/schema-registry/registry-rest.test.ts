/**
 * The schema registry's REST API on a standalone worker (embedded log): every endpoint, with
 * Confluent's bodies, status codes, error codes and content type.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { startTestWorker, type TestWorker } from '../../helpers/worker.ts'

const CT = 'application/vnd.schemaregistry.v1+json'

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Answer = any

let tw: TestWorker
let base: string

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Answer; type: string }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': CT },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: response.status, body: parsed, type: response.headers.get('content-type') ?? '' }
}

const record = (fields: object[], name = 'Bet') =>
  JSON.stringify({ type: 'record', name, namespace: 'tote', fields })
const v1 = record([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double' },
])
const v2 = record([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'race', type: ['null', 'int'], default: null },
])
const v3NoDefault = record([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'runner', type: 'int' },
])

before(async () => {
  tw = await startTestWorker({ 'schema.registry.listeners': 'http://127.0.0.1:0' })
  base = `http://127.0.0.1:${tw.worker.services.registryServer!.port}`
})
after(async () => {
  await tw?.close()
})

/** Confluent's GUID of a schema without references: its MD5 as a UUID (`Schema.getGuid`). */
function guidOf(schema: string): string {
  const hex = createHash('md5').update(schema).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

describe('schema registry REST API', () => {
  test('registers, is idempotent, and versions a subject', async () => {
    const first = await call('POST', '/subjects/bets-value/versions', { schema: v1 })
    assert.equal(first.status, 200)
    assert.equal(first.type, CT)
    assert.equal(typeof first.body.id, 'number')
    assert.equal(first.body.version, 1)
    // Same schema with other whitespace: the same id and version.
    const again = await call('POST', '/subjects/bets-value/versions', {
      schema: JSON.stringify(JSON.parse(v1), null, 2),
    })
    assert.deepEqual([again.body.id, again.body.version], [first.body.id, 1])
    const second = await call('POST', '/subjects/bets-value/versions', { schema: v2 })
    assert.equal(second.body.version, 2)
    assert.ok(second.body.id > first.body.id)
    assert.deepEqual((await call('GET', '/subjects/bets-value/versions')).body, [1, 2])
    const latest = await call('GET', '/subjects/bets-value/versions/latest')
    assert.deepEqual(latest.body, {
      subject: 'bets-value',
      version: 2,
      id: second.body.id,
      guid: guidOf(v2),
      schema: v2,
    })
    assert.deepEqual((await call('GET', '/subjects/bets-value/versions/-1')).body.version, 2)
    const raw = await call('GET', '/subjects/bets-value/versions/1/schema')
    assert.deepEqual(raw.body, JSON.parse(v1))
    assert.deepEqual((await call('GET', `/schemas/ids/${first.body.id}`)).body, {
      schema: v1,
      guid: guidOf(v1),
    })
    assert.deepEqual((await call('GET', `/schemas/ids/${first.body.id}/schema`)).body, JSON.parse(v1))
    assert.deepEqual((await call('GET', `/schemas/ids/${first.body.id}/versions`)).body, [
      { subject: 'bets-value', version: 1 },
    ])
    assert.deepEqual((await call('GET', `/schemas/ids/${first.body.id}/subjects`)).body, ['bets-value'])
    assert.ok((await call('GET', '/subjects')).body.includes('bets-value'))
    assert.deepEqual((await call('GET', '/schemas/types')).body.sort(), ['AVRO', 'JSON'])
  })

  test("schemas are found by Confluent's GUID, which register answers", async () => {
    const schema = '{"type":"record","name":"Guid","fields":[{"name":"g","type":"string"}]}'
    const registered = await call('POST', '/subjects/guid-value/versions', { schema })
    assert.deepEqual(registered.body, { id: registered.body.id, version: 1, guid: guidOf(schema) })
    const byGuid = await call('GET', `/schemas/guids/${guidOf(schema)}`)
    assert.deepEqual([byGuid.status, byGuid.body], [200, { schema, guid: guidOf(schema) }])
    assert.deepEqual((await call('GET', `/schemas/guids/${guidOf(schema)}/ids`)).body, [
      { context: '.', id: registered.body.id },
    ])
    const missing = await call('GET', `/schemas/guids/${guidOf('"nothing"')}`)
    assert.deepEqual([missing.status, missing.body.error_code], [404, 40403])
  })

  test('the same schema under another subject reuses its id', async () => {
    const a = await call('POST', '/subjects/shared-a/versions', { schema: '"string"' })
    const b = await call('POST', '/subjects/shared-b/versions', { schema: '"string"' })
    assert.equal(a.body.id, b.body.id)
    assert.deepEqual((await call('GET', `/schemas/ids/${a.body.id}/subjects`)).body, ['shared-a', 'shared-b'])
  })

  test('looks a schema up without registering it (POST /subjects/{s})', async () => {
    const found = await call('POST', '/subjects/bets-value', { schema: v1 })
    assert.equal(found.status, 200)
    assert.equal(found.body.version, 1)
    assert.equal(found.body.subject, 'bets-value')
    const missing = await call('POST', '/subjects/bets-value', { schema: v3NoDefault })
    assert.deepEqual([missing.status, missing.body.error_code], [404, 40403])
    const noSubject = await call('POST', '/subjects/nope', { schema: v1 })
    assert.deepEqual([noSubject.status, noSubject.body.error_code], [404, 40401])
  })

  test('refuses an incompatible schema with 409 and the reason', async () => {
    const refused = await call('POST', '/subjects/bets-value/versions', { schema: v3NoDefault })
    assert.equal(refused.status, 409)
    assert.equal(refused.body.error_code, 40901)
    assert.match(
      refused.body.message,
      /Schema being registered is incompatible with an earlier schema for subject "bets-value"/,
    )
    assert.match(refused.body.message, /READER_FIELD_MISSING_DEFAULT_VALUE/)
    assert.match(refused.body.message, /'runner'/)
    const check = await call('POST', '/compatibility/subjects/bets-value/versions/latest?verbose=true', {
      schema: v3NoDefault,
    })
    assert.equal(check.body.is_compatible, false)
    assert.ok(check.body.messages.some((m: string) => m.includes('READER_FIELD_MISSING_DEFAULT_VALUE')))
    const ok = await call('POST', '/compatibility/subjects/bets-value/versions/1', { schema: v2 })
    assert.deepEqual(ok.body, { is_compatible: true })
    const all = await call('POST', '/compatibility/subjects/bets-value/versions', { schema: v2 })
    assert.deepEqual(all.body, { is_compatible: true })
  })

  test('answers Confluent error codes for bad requests', async () => {
    const cases: [string, string, unknown, number, number][] = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/bets-value/versions/99', undefined, 404, 40402],
      ['GET', '/subjects/bets-value/versions/0', undefined, 422, 42202],
      ['GET', '/subjects/bets-value/versions/abc', undefined, 422, 42202],
      ['GET', '/schemas/ids/999999', undefined, 404, 40403],
      [
        'POST',
        '/subjects/bad/versions',
        { schema: '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}' },
        422,
        42201,
      ],
      ['POST', '/subjects/bad/versions', { schema: 'not json' }, 422, 42201],
      ['POST', '/subjects/bad/versions', {}, 422, 42201],
      [
        'POST',
        '/subjects/bad/versions',
        { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' },
        422,
        42201,
      ],
      ['PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['PUT', '/mode', { mode: 'SOMETIMES' }, 422, 42204],
      ['GET', '/config/bets-value', undefined, 404, 40408],
      ['POST', '/subjects/bad/versions', '{not json', 400, 400],
      ['GET', '/nothing/here', undefined, 404, 404],
    ]
    for (const [method, path, body, status, code] of cases) {
      const answer = await call(method, path, body)
      assert.deepEqual(
        [answer.status, answer.body.error_code],
        [status, code],
        `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`,
      )
      assert.equal(typeof answer.body.message, 'string')
    }
  })

  test('global and subject compatibility config', async () => {
    assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' })
    assert.deepEqual((await call('PUT', '/config/cfg-value', { compatibility: 'none' })).body, {
      compatibility: 'NONE',
    })
    assert.deepEqual((await call('GET', '/config/cfg-value')).body, { compatibilityLevel: 'NONE' })
    assert.deepEqual((await call('GET', '/config/other?defaultToGlobal=true')).body, {
      compatibilityLevel: 'BACKWARD',
    })
    // NONE lets an otherwise incompatible change through.
    await call('POST', '/subjects/cfg-value/versions', { schema: v1 })
    assert.equal((await call('POST', '/subjects/cfg-value/versions', { schema: '"int"' })).status, 200)
    assert.deepEqual((await call('DELETE', '/config/cfg-value')).body, { compatibilityLevel: 'NONE' })
    assert.equal((await call('GET', '/config/cfg-value')).body.error_code, 40408)
    assert.deepEqual((await call('PUT', '/config', { compatibility: 'FULL' })).body, {
      compatibility: 'FULL',
    })
    assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'FULL' })
    assert.deepEqual((await call('DELETE', '/config')).body, { compatibilityLevel: 'FULL' })
    assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' })
  })

  test('modes: READONLY refuses writes, IMPORT takes fixed ids', async () => {
    assert.deepEqual((await call('GET', '/mode')).body, { mode: 'READWRITE' })
    assert.deepEqual((await call('PUT', '/mode/ro-value', { mode: 'READONLY' })).body, { mode: 'READONLY' })
    const refused = await call('POST', '/subjects/ro-value/versions', { schema: v1 })
    assert.deepEqual([refused.status, refused.body.error_code], [422, 42205])
    assert.deepEqual((await call('DELETE', '/mode/ro-value')).body, { mode: 'READONLY' })
    assert.equal((await call('GET', '/mode/ro-value')).body.error_code, 40409)
    // IMPORT on a subject with schemas needs force.
    const noForce = await call('PUT', '/mode/bets-value', { mode: 'IMPORT' })
    assert.deepEqual([noForce.status, noForce.body.error_code], [422, 42205])
    assert.deepEqual((await call('PUT', '/mode/imported', { mode: 'IMPORT' })).body, { mode: 'IMPORT' })
    const imported = await call('POST', '/subjects/imported/versions', {
      schema: '"long"',
      id: 5000,
      version: 7,
    })
    assert.deepEqual([imported.body.id, imported.body.version], [5000, 7])
    const clash = await call('POST', '/subjects/imported/versions', { schema: '"bytes"', id: 5000 })
    assert.deepEqual([clash.status, clash.body.error_code], [422, 42207])
    const fixedIdOutsideImport = await call('POST', '/subjects/rw/versions', { schema: '"float"', id: 6000 })
    assert.deepEqual([fixedIdOutsideImport.status, fixedIdOutsideImport.body.error_code], [422, 42205])
    await call('DELETE', '/mode/imported')
    // The next id after an imported one is above it: ids are never handed out twice.
    const next = await call('POST', '/subjects/after-import/versions', { schema: '"boolean"' })
    assert.ok(next.body.id > 5000)
  })

  test('soft and permanent deletes', async () => {
    await call('POST', '/subjects/del-value/versions', { schema: v1 })
    await call('POST', '/subjects/del-value/versions', { schema: v2 })
    const notSoft = await call('DELETE', '/subjects/del-value/versions/1?permanent=true')
    assert.deepEqual([notSoft.status, notSoft.body.error_code], [404, 40407])
    assert.deepEqual((await call('DELETE', '/subjects/del-value/versions/1')).body, 1)
    assert.deepEqual((await call('GET', '/subjects/del-value/versions')).body, [2])
    assert.deepEqual((await call('GET', '/subjects/del-value/versions?deleted=true')).body, [1, 2])
    assert.equal((await call('GET', '/subjects/del-value/versions/1?deleted=true')).body.version, 1)
    assert.deepEqual((await call('DELETE', '/subjects/del-value/versions/1?permanent=true')).body, 1)
    assert.deepEqual((await call('GET', '/subjects/del-value/versions?deleted=true')).body, [2])
    const subjectNotSoft = await call('DELETE', '/subjects/del-value?permanent=true')
    assert.deepEqual([subjectNotSoft.status, subjectNotSoft.body.error_code], [404, 40405])
    assert.deepEqual((await call('DELETE', '/subjects/del-value')).body, [2])
    assert.ok(!(await call('GET', '/subjects')).body.includes('del-value'))
    assert.ok((await call('GET', '/subjects?deleted=true')).body.includes('del-value'))
    const twice = await call('DELETE', '/subjects/del-value')
    assert.deepEqual([twice.status, twice.body.error_code], [404, 40404])
    assert.deepEqual((await call('GET', '/subjects/del-value/versions')).body.error_code, 40401)
    // Versions continue after deleted ones.
    const again = await call('POST', '/subjects/del-value/versions', { schema: v1 })
    assert.equal(again.body.version, 3)
    await call('DELETE', '/subjects/del-value')
    assert.deepEqual((await call('DELETE', '/subjects/del-value?permanent=true')).body, [2, 3])
    assert.ok(!(await call('GET', '/subjects?deleted=true')).body.includes('del-value'))
  })

  test('references: a schema using a named type of another subject', async () => {
    const inner = JSON.stringify({
      type: 'record',
      name: 'Runner',
      namespace: 'tote',
      fields: [{ name: 'n', type: 'int' }],
    })
    const innerReg = await call('POST', '/subjects/runner/versions', { schema: inner })
    assert.equal(innerReg.status, 200)
    const outer = JSON.stringify({
      type: 'record',
      name: 'Race',
      namespace: 'tote',
      fields: [{ name: 'winner', type: 'tote.Runner' }],
    })
    const refs = [{ name: 'tote.Runner', subject: 'runner', version: 1 }]
    const unresolved = await call('POST', '/subjects/race/versions', { schema: outer })
    assert.equal(unresolved.body.error_code, 42201)
    const outerReg = await call('POST', '/subjects/race/versions', { schema: outer, references: refs })
    assert.equal(outerReg.status, 200, JSON.stringify(outerReg.body))
    assert.deepEqual((await call('GET', `/schemas/ids/${outerReg.body.id}`)).body.references, refs)
    assert.deepEqual((await call('GET', '/subjects/runner/versions/1/referencedby')).body, [outerReg.body.id])
    const inUse = await call('DELETE', '/subjects/runner/versions/1')
    assert.deepEqual([inUse.status, inUse.body.error_code], [422, 42206])
  })

  test('JSON Schema subjects', async () => {
    const js1 = JSON.stringify({
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
    })
    const js2 = JSON.stringify({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      additionalProperties: false,
    })
    const js3 = JSON.stringify({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['b'],
      additionalProperties: false,
    })
    const r1 = await call('POST', '/subjects/js-value/versions', { schema: js1, schemaType: 'JSON' })
    assert.deepEqual([r1.status, r1.body.schemaType], [200, 'JSON'])
    assert.equal(
      (await call('POST', '/subjects/js-value/versions', { schema: js2, schemaType: 'JSON' })).status,
      200,
    )
    const refused = await call('POST', '/subjects/js-value/versions', { schema: js3, schemaType: 'JSON' })
    assert.deepEqual([refused.status, refused.body.error_code], [409, 40901])
    assert.match(refused.body.message, /REQUIRED_ATTRIBUTE_ADDED/)
    assert.deepEqual((await call('GET', `/schemas/ids/${r1.body.id}`)).body, {
      schemaType: 'JSON',
      schema: js1,
      guid: guidOf(js1),
    })
    const bad = await call('POST', '/subjects/js-bad/versions', {
      schema: '{"type": 12}',
      schemaType: 'JSON',
    })
    assert.equal(bad.body.error_code, 42201)
  })
})
