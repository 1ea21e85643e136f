import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { RetriableError } from '../../../src/api/errors.ts'
import {
  SchemaRegistryClient,
  SchemaRegistryError,
} from '../../../src/converters/schema-registry/schema-registry-client.ts'
import { subjectNameStrategy } from '../../../src/converters/schema-registry/subject-name-strategy.ts'
import { apicurioSkipReason, apicurioUrl } from '../../helpers/services.ts'

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const schemaText = (name: string) =>
  JSON.stringify({ type: 'record', name, namespace: 'test.client', fields: [{ name: 'a', type: 'int' }] })

describe('SchemaRegistryClient against Apicurio Registry', { skip: apicurioSkipReason() }, () => {
  test('registers a schema, finds it by id, by lookup and as the latest version', async () => {
    const client = new SchemaRegistryClient({ urls: [apicurioUrl()] })
    const subject = `client-${randomUUID()}-value`
    const schema = { schema: schemaText(`Registered${randomUUID().replaceAll('-', '')}`) }
    const id = await client.register(subject, schema)
    assert.equal(await client.register(subject, schema), id, 'registering again gives the same id')
    const byId = await client.getSchemaById(id)
    assert.match(JSON.parse(byId.schema).name, /^Registered/)
    const found = await client.lookup(subject, schema)
    assert.equal(found.id, id)
    assert.equal(found.version, 1)
    const latest = await client.getLatest(subject)
    assert.equal(latest.id, id)
    assert.equal(latest.version, 1)
    assert.deepEqual(
      (await client.getIdVersions(id)).filter((v) => v.subject === subject),
      [{ subject, version: 1 }],
    )
  })

  test('a 4xx answer carries Confluent error_code and message, and is not retried', async () => {
    const client = new SchemaRegistryClient({ urls: [apicurioUrl()], retryWaitMs: 5000 })
    const started = Date.now()
    await assert.rejects(client.getSchemaById(987_654_321), (error: unknown) => {
      assert.ok(error instanceof SchemaRegistryError)
      assert.equal(error.httpStatus, 404)
      assert.equal(error.errorCode, 40403)
      assert.match(
        error.message,
        /fetching schema id 987654321 at http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7/,
      )
      assert.equal(error.retriable, false)
      return true
    })
    assert.ok(Date.now() - started < 4000, 'no backoff for a 4xx')
    await assert.rejects(client.lookup(`nope-${randomUUID()}`, { schema: '"string"' }), (error: unknown) => {
      return error instanceof SchemaRegistryError && error.errorCode === 40401
    })
  })

  test('fails over to the next URL when the first cannot be reached, and stays there', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`
    const client = new SchemaRegistryClient({ urls: [dead, apicurioUrl()], retryWaitMs: 10_000 })
    const subject = `failover-${randomUUID()}-value`
    const started = Date.now()
    const id = await client.register(subject, { schema: schemaText('Failover') })
    assert.equal((await client.getVersion(subject, 1)).id, id)
    assert.ok(Date.now() - started < 5000, 'failover happens without waiting for a retry backoff')
  })
})

describe('SchemaRegistryClient when the registry is down', () => {
  test('retries with backoff, then fails with a retriable error naming every URL', async () => {
    const urls = [`http://127.0.0.1:${await deadPort()}`, `http://127.0.0.1:${await deadPort()}/prefix`]
    const client = new SchemaRegistryClient({ urls, maxRetries: 2, retryWaitMs: 100, retryMaxWaitMs: 150 })
    const started = Date.now()
    await assert.rejects(client.getSchemaById(1), (error: unknown) => {
      assert.ok(error instanceof RetriableError)
      assert.ok(error.retriable)
      assert.match(
        error.message,
        /unreachable at http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+\/prefix after 3 attempts/,
      )
      assert.match(error.message, /ECONNREFUSED/)
      return true
    })
    // Two backoffs: 100 ms, then 150 ms (capped).
    assert.ok(Date.now() - started >= 240, `waited ${Date.now() - started} ms`)
  })

  test('a registry that answers 5xx is retried, and served once it recovers', async () => {
    let calls = 0
    const server: Server = createServer((req, res) => {
      calls++
      if (calls < 3) {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error_code":50003,"message":"forwarding failed"}')
        return
      }
      assert.equal(req.headers.authorization, `Basic ${Buffer.from('fred:s3cr:et').toString('base64')}`)
      res
        .writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
        .end('{"schema":"\\"string\\""}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    after(() => server.close())
    const { port } = server.address() as AddressInfo
    const client = new SchemaRegistryClient({
      urls: [`http://fred:s3cr%3Aet@127.0.0.1:${port}`],
      maxRetries: 3,
      retryWaitMs: 20,
    })
    assert.equal((await client.getSchemaById(5)).schema, '"string"')
    assert.equal(calls, 3)
    // Cached: no further request.
    await client.getSchemaById(5)
    assert.equal(calls, 3)
  })
  test('a registry that does not answer within http.read.timeout.ms is reported as timed out', async () => {
    const server: Server = createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    after(() => {
      server.closeAllConnections()
      server.close()
    })
    const { port } = server.address() as AddressInfo
    const client = new SchemaRegistryClient({
      urls: [`http://127.0.0.1:${port}`],
      maxRetries: 0,
      requestTimeoutMs: 100,
    })
    await assert.rejects(client.getSchemaById(1), (error: Error) => {
      assert.ok(error instanceof RetriableError)
      assert.match(error.message, /request timed out/)
      return true
    })
  })
})

describe('basic auth from basic.auth.user.info', () => {
  let server: Server
  let seen: string | undefined
  before(async () => {
    server = createServer((req, res) => {
      seen = req.headers.authorization
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error_code":40101,"message":"Unauthorized"}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  after(() => server.close())

  test('sends the user info and reports a 401 as a configuration problem', async () => {
    const { port } = server.address() as AddressInfo
    const client = new SchemaRegistryClient({ urls: [`http://127.0.0.1:${port}`], userInfo: 'alice:pw' })
    await assert.rejects(client.getLatest('s'), (error: unknown) => {
      assert.ok(error instanceof SchemaRegistryError)
      assert.equal(error.code, 'CONFIG')
      assert.equal(error.errorCode, 40101)
      return true
    })
    assert.equal(seen, `Basic ${Buffer.from('alice:pw').toString('base64')}`)
  })
})

describe('subject name strategies', () => {
  test('Topic, Record and TopicRecord strategies by Java class name or simple name', () => {
    const topic = subjectNameStrategy('io.confluent.kafka.serializers.subject.TopicNameStrategy', 'k')
    assert.equal(topic('orders', true, 'x.R'), 'orders-key')
    assert.equal(topic('orders', false, 'x.R'), 'orders-value')
    assert.equal(subjectNameStrategy('RecordNameStrategy', 'k')('orders', false, 'x.R'), 'x.R')
    assert.equal(
      subjectNameStrategy('io.confluent.kafka.serializers.subject.TopicRecordNameStrategy', 'k')(
        'orders',
        false,
        'x.R',
      ),
      'orders-x.R',
    )
  })

  test('an unknown strategy is a ConfigError naming the key', () => {
    assert.throws(
      () => subjectNameStrategy('com.example.Mine', 'value.subject.name.strategy'),
      /value\.subject\.name\.strategy.*unknown subject name strategy/,
    )
  })
})
