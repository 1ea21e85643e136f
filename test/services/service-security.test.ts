/**
 * TLS and basic authentication of the schema registry and REST proxy listeners, with Confluent's
 * keys: a worker serving both over https (the registry from a keytool PKCS12 keystore, the proxy
 * from a PEM file) to users of a Jetty property file; the AvroConverter reaching the registry
 * through a keytool PKCS12 truststore and basic.auth.user.info; bad settings stop the start with
 * the key to fix.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SchemaBuilder } from '../../src/api/data/schema-builder.ts'
import { Struct } from '../../src/api/data/struct.ts'
import type { ConnectError } from '../../src/api/errors.ts'
import { AvroConverter } from '../../src/converters/avro-converter.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Answer = any

function send(
  url: string,
  options: { method?: string; ca: string; auth?: string; type?: string; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: Answer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        headers: {
          ...(options.auth ? { authorization: `Basic ${Buffer.from(options.auth).toString('base64')}` } : {}),
          ...(options.type ? { 'content-type': options.type } : {}),
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        res.on('end', () => {
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

function keytool(...args: string[]): void {
  execFileSync('keytool', args, { stdio: 'ignore' })
}

describe('schema registry and REST proxy over https with basic auth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-svc-tls-'))
  const file = (name: string) => join(dir, name)
  let ca: string
  let tw: TestWorker
  let registry: string
  let proxy: string

  before(async () => {
    // The registry's keystore and the clients' truststore, as a Confluent user makes them.
    keytool(
      '-genkeypair',
      '-alias',
      'registry',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-dname',
      'CN=127.0.0.1',
      '-ext',
      'SAN=ip:127.0.0.1',
      '-validity',
      '2',
      '-storetype',
      'PKCS12',
      '-keystore',
      file('registry.keystore.p12'),
      '-storepass',
      'store-secret',
      '-keypass',
      'store-secret',
    )
    keytool(
      '-exportcert',
      '-rfc',
      '-alias',
      'registry',
      '-keystore',
      file('registry.keystore.p12'),
      '-storepass',
      'store-secret',
      '-file',
      file('registry.pem'),
    )
    keytool(
      '-importcert',
      '-noprompt',
      '-alias',
      'registry',
      '-file',
      file('registry.pem'),
      '-storetype',
      'PKCS12',
      '-keystore',
      file('client.truststore.p12'),
      '-storepass',
      'trust-secret',
    )
    // The proxy's PEM keystore (key and chain in one file), as openssl makes it.
    const proxyCert = selfSignedCertificate(dir, 'proxy')
    ca = readFileSync(file('registry.pem'), 'utf8') + proxyCert.cert
    const md5 = createHash('md5').update('reader-secret').digest('hex')
    writeFileSync(
      file('users.properties'),
      `# Jetty PropertyFileLoginModule\nalice: alice-secret,developer\nbob: MD5:${md5},user\n`,
    )
    tw = await startTestWorker({
      'schema.registry.listeners': 'https://127.0.0.1:0',
      'schema.registry.ssl.keystore.location': file('registry.keystore.p12'),
      'schema.registry.ssl.keystore.password': 'store-secret',
      'schema.registry.ssl.key.password': 'store-secret',
      'schema.registry.authentication.method': 'BASIC',
      'schema.registry.authentication.realm': 'SchemaRegistry-Props',
      'schema.registry.authentication.roles': 'developer',
      'schema.registry.authentication.credentials.file': file('users.properties'),
      'rest.proxy.listeners': 'https://127.0.0.1:0',
      'rest.proxy.ssl.keystore.location': file('proxy.pem'),
      'rest.proxy.ssl.keystore.type': 'PEM',
      'rest.proxy.authentication.method': 'BASIC',
      'rest.proxy.authentication.realm': 'KafkaRest',
      'rest.proxy.authentication.credentials.file': file('users.properties'),
    })
    registry = `https://127.0.0.1:${tw.worker.services.registryServer!.port}`
    proxy = `https://127.0.0.1:${tw.worker.services.proxyServer!.port}`
  })
  after(async () => {
    await tw?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the registry refuses a request without credentials with 401 in Confluent error shape and its realm', async () => {
    const anonymous = await send(`${registry}/subjects`, { ca })
    assert.equal(anonymous.status, 401)
    assert.deepEqual(anonymous.body, { error_code: 401, message: 'Unauthorized' })
    assert.equal(anonymous.headers['www-authenticate'], 'Basic realm="SchemaRegistry-Props"')
    const wrong = await send(`${registry}/subjects`, { ca, auth: 'alice:nope' })
    assert.equal(wrong.status, 401)
    // bob's MD5 password is right, but his role is not among schema.registry.authentication.roles.
    const bob = await send(`${registry}/subjects`, { ca, auth: 'bob:reader-secret' })
    assert.deepEqual([bob.status, bob.body], [403, { error_code: 403, message: 'Forbidden' }])
    const alice = await send(`${registry}/subjects`, { ca, auth: 'alice:alice-secret' })
    assert.deepEqual([alice.status, alice.body], [200, []])
  })

  test('the registry is not served over plain http on its https listener', async () => {
    await assert.rejects(fetch(registry.replace('https:', 'http:') + '/subjects'))
  })

  test('the AvroConverter round-trips through the https registry with a PKCS12 truststore and basic auth', async () => {
    const topic = `tls-${randomUUID().slice(0, 8)}`
    const schema = SchemaBuilder.struct()
      .name('tote.Bet')
      .field('bet_id', SchemaBuilder.string().build())
      .field('amount', SchemaBuilder.float64().build())
      .build()
    const value = new Struct(schema).put('bet_id', 'b1').put('amount', 2.5)
    const settings = {
      'schema.registry.url': registry,
      'basic.auth.credentials.source': 'USER_INFO',
      'basic.auth.user.info': 'alice:alice-secret',
      'schema.registry.ssl.truststore.location': file('client.truststore.p12'),
      'schema.registry.ssl.truststore.password': 'trust-secret',
      'schema.registry.ssl.truststore.type': 'PKCS12',
      'max.retries': '0',
    }
    const writer = new AvroConverter()
    writer.configure(settings, false)
    const bytes = (await writer.fromConnectData(topic, schema, value))!
    assert.equal(bytes[0], 0)
    const reader = new AvroConverter()
    reader.configure(settings, false)
    const back = await reader.toConnectData(topic, bytes)
    assert.equal((back.value as Struct).get('bet_id'), 'b1')
    assert.equal((back.value as Struct).get('amount'), 2.5)
    const listed = await send(`${registry}/subjects`, { ca, auth: 'alice:alice-secret' })
    assert.ok((listed.body as string[]).includes(`${topic}-value`))
    writer.close()
    reader.close()

    // Without the truststore the registry's certificate is not trusted.
    const untrusting = new AvroConverter()
    untrusting.configure(
      {
        'schema.registry.url': registry,
        'basic.auth.credentials.source': 'USER_INFO',
        'basic.auth.user.info': 'alice:alice-secret',
        'max.retries': '0',
      },
      false,
    )
    await assert.rejects(
      async () => untrusting.fromConnectData(`${topic}-x`, schema, value),
      (error: Error) => /certificate/i.test(error.message),
    )
    untrusting.close()
    // Without credentials the registry's 401 is a configuration error, not retried.
    const anonymous = new AvroConverter()
    anonymous.configure(
      { ...settings, 'basic.auth.credentials.source': 'URL', 'basic.auth.user.info': '' },
      false,
    )
    await assert.rejects(
      async () => anonymous.fromConnectData(`${topic}-y`, schema, value),
      (error: ConnectError) => error.code === 'CONFIG' && /401/.test(error.message),
    )
    anonymous.close()
  })

  test('the proxy produces over https for an authenticated user and refuses others', async () => {
    const topic = `tls-proxy-${randomUUID().slice(0, 8)}`
    const body = JSON.stringify({ records: [{ value: { a: 1 } }] })
    const type = 'application/vnd.kafka.json.v2+json'
    const anonymous = await send(`${proxy}/topics/${topic}`, { method: 'POST', ca, type, body })
    assert.deepEqual([anonymous.status, anonymous.body], [401, { error_code: 401, message: 'Unauthorized' }])
    assert.equal(anonymous.headers['www-authenticate'], 'Basic realm="KafkaRest"')
    // rest.proxy.authentication.roles is *: any user of the file, bob too.
    const produced = await send(`${proxy}/topics/${topic}`, {
      method: 'POST',
      ca,
      type,
      body,
      auth: 'bob:reader-secret',
    })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    assert.equal(produced.body.offsets[0].offset, 0)
    const consumer = tw.worker.log.createConsumer({ groupId: `read-${topic}`, clientId: 'test-reader' })
    try {
      await consumer.assign([{ topic, partition: produced.body.offsets[0].partition }])
      const records = await consumer.poll(2000)
      assert.equal(Buffer.from(records[0]!.value!).toString(), '{"a":1}')
    } finally {
      await consumer.close()
    }
  })

  test('bad listener security settings stop the worker at start, naming the key', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'schema.registry.listeners': 'https://127.0.0.1:0' }, 'schema.registry.ssl.keystore.location'],
      [
        {
          'schema.registry.listeners': 'https://127.0.0.1:0',
          'schema.registry.ssl.keystore.location': file('registry.keystore.p12'),
          'schema.registry.ssl.keystore.password': 'wrong',
        },
        'schema.registry.ssl.keystore.password',
      ],
      [
        { 'rest.proxy.listeners': 'http://127.0.0.1:0', 'rest.proxy.authentication.method': 'BASIC' },
        'rest.proxy.authentication.credentials.file',
      ],
      [
        {
          'rest.proxy.listeners': 'https://127.0.0.1:0',
          'rest.proxy.ssl.keystore.location': file('proxy.pem'),
          'rest.proxy.ssl.client.authentication': 'REQUIRED',
        },
        'rest.proxy.ssl.truststore.location',
      ],
      [{ 'schema.registry.listeners': 'ftp://127.0.0.1:1' }, 'schema.registry.listeners'],
    ]
    for (const [props, key] of cases) {
      await assert.rejects(startTestWorker(props), (error: Error) => {
        assert.ok(error.message.includes(key), `${JSON.stringify(props)}: ${error.message}`)
        return true
      })
    }
  })

  test('on Kafka, two workers elect one writer and forward writes to it over https with credentials', {
    skip: kafkaSkipReason(),
    timeout: 120_000,
  }, async () => {
    const topic = `_schemas-tls-${randomUUID().slice(0, 8)}`
    const workers: TestWorker[] = []
    try {
      for (let i = 0; i < 2; i++) {
        workers.push(
          await startTestWorker({
            'bootstrap.servers': kafkaBootstrap(),
            'schema.registry.topic': topic,
            'schema.registry.listeners': 'https://127.0.0.1:0',
            'schema.registry.ssl.keystore.location': file('registry.keystore.p12'),
            'schema.registry.ssl.keystore.password': 'store-secret',
            // The truststore verifies the other worker when this one forwards to it.
            'schema.registry.ssl.truststore.location': file('client.truststore.p12'),
            'schema.registry.ssl.truststore.password': 'trust-secret',
            'schema.registry.authentication.method': 'BASIC',
            'schema.registry.authentication.roles': 'developer',
            'schema.registry.authentication.credentials.file': file('users.properties'),
            'rest.proxy.listeners': 'http://127.0.0.1:0',
            'log.level': 'error',
          }),
        )
      }
      const urls = workers.map((w) => `https://127.0.0.1:${w.worker.services.registryServer!.port}`)
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          send(`${urls[i % 2]}/subjects/tls-${i}/versions`, {
            method: 'POST',
            ca,
            auth: 'alice:alice-secret',
            type: 'application/vnd.schemaregistry.v1+json',
            body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: `R${i}`, fields: [] }) }),
          }),
        ),
      )
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body))
      assert.equal(new Set(results.map((r) => r.body.id)).size, 8)
      // A forwarded write without credentials is refused by the writer too.
      const anonymous = await Promise.all(
        urls.map((url) =>
          send(`${url}/subjects/tls-anon/versions`, {
            method: 'POST',
            ca,
            body: '{"schema":"\\"string\\""}',
          }),
        ),
      )
      assert.deepEqual(
        anonymous.map((r) => r.status),
        [401, 401],
      )
      // The in-process REST proxy of each worker registers an embedded schema: the follower's
      // registration goes to the writer over https as a user of the credentials file.
      for (const [i, w] of workers.entries()) {
        const response = await fetch(
          `http://127.0.0.1:${w.worker.services.proxyServer!.port}/topics/tls-proxy-${i}-${topic}`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
            body: JSON.stringify({
              value_schema: JSON.stringify({
                type: 'record',
                name: `P${i}`,
                fields: [{ name: 'n', type: 'int' }],
              }),
              records: [{ value: { n: i } }],
            }),
          },
        )
        assert.equal(response.status, 200, await response.text())
      }
    } finally {
      await workers[0]?.worker.log
        .deleteTopics([topic, `tls-proxy-0-${topic}`, `tls-proxy-1-${topic}`])
        .catch(() => {})
      for (const w of workers) await w.close()
    }
  })
})
