/**
 * The REST contract of Kafka Connect (`ConnectRestServer`), against a real standalone worker on the
 * embedded log. Status codes and messages were checked against a Kafka Connect 4.3.1 worker.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually, request } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

type Body = Record<string, unknown>

describe('REST API contract on a standalone worker', () => {
  let w: TestWorker
  let base: string
  let input: string
  const get = <T = Body>(path: string) => request<T>(base, 'GET', path)

  before(async () => {
    w = await startTestWorker()
    base = w.base
    input = join(w.dir, 'in.txt')
    writeFileSync(input, 'one\ntwo\nthree\n')
  })
  after(() => w.close())

  const source = (topic = 'contract-t') => ({
    'connector.class': 'FileStreamSource',
    file: input,
    topic,
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
  })

  async function running(name: string, tasks = 1): Promise<void> {
    await eventually(
      async () => {
        const s = await get<{ connector: { state: string }; tasks: { state: string }[] }>(
          `/connectors/${name}/status`,
        )
        return s.status === 200 &&
          s.body.connector.state === 'RUNNING' &&
          s.body.tasks.length === tasks &&
          s.body.tasks.every((t) => t.state === 'RUNNING')
          ? true
          : undefined
      },
      20_000,
      `${name} RUNNING`,
    )
  }

  it('GET / names the version and the log cluster id; /health is healthy', async () => {
    const root = await get('/')
    assert.equal(root.status, 200)
    assert.deepEqual(Object.keys(root.body), ['version', 'commit', 'kafka_cluster_id'])
    const health = await get('/health')
    assert.deepEqual(health.body, {
      status: 'healthy',
      message: 'Worker has completed startup and is ready to handle requests.',
    })
  })

  it('creates a connector: 201, absolute Location, ConnectorInfo; 409 on a duplicate', async () => {
    const created = await request<Body>(base, 'POST', '/connectors', {
      name: 'src',
      config: { ...source(), 'tasks.max': 1 },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.equal(created.headers.get('location'), `${base}/connectors/src`)
    assert.deepEqual(created.body.config, { ...source(), 'tasks.max': '1', name: 'src' })
    assert.equal(created.body.type, 'source')
    await running('src')
    const again = await request(base, 'POST', '/connectors', { name: 'src', config: source() })
    assert.deepEqual(
      [again.status, again.body],
      [409, { error_code: 409, message: 'Connector src already exists' }],
    )
  })

  it('400 on invalid config, listing every failing key', async () => {
    const res = await request<Body>(base, 'POST', '/connectors', {
      name: 'bad',
      config: { 'connector.class': 'FileStreamSource', 'tasks.max': '0' },
    })
    assert.equal(res.status, 400)
    const message = String(res.body.message)
    assert.match(message, /^Connector configuration is invalid and contains the following 2 error\(s\):\n/)
    assert.match(message, /tasks\.max/)
    assert.match(message, /"topic"/)
    assert.match(
      message,
      /You can also find the above list of errors at the endpoint `\/connector-plugins\/\{connectorType\}\/config\/validate`$/,
    )
    assert.equal((await get('/connectors/bad')).status, 404)
  })

  it('rejects names with control characters and empty names as Kafka Connect validation does', async () => {
    const control = await request<Body>(base, 'POST', '/connectors', { name: 'a\u0001b', config: source() })
    assert.equal(control.status, 400)
    assert.match(String(control.body.message), /name/)
    const empty = await request<Body>(base, 'POST', '/connectors', { name: '  ', config: source() })
    assert.equal(empty.status, 400)
    assert.match(String(empty.body.message), /name/)
  })

  it('400 when the body name and the URL name differ; a missing name is filled in', async () => {
    const post = await request(base, 'POST', '/connectors', {
      name: 'n1',
      config: { ...source(), name: 'n2' },
    })
    assert.deepEqual(post.body, {
      error_code: 400,
      message: "Connector name configuration (n2) doesn't match connector name in the URL (n1)",
    })
    const put = await request(base, 'PUT', '/connectors/x1/config', { ...source(), name: 'y1' })
    assert.equal(put.status, 400)
  })

  it('PUT config: 201 + Location when created, 200 when replaced; PATCH merges and null removes', async () => {
    const created = await request<Body>(base, 'PUT', '/connectors/up/config', source('up-t'))
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('location'), `${base}/connectors/up`)
    const replaced = await request<Body>(base, 'PUT', '/connectors/up/config', {
      ...source('up-t'),
      'batch.size': 5,
    })
    assert.equal(replaced.status, 200)
    assert.equal(replaced.headers.get('location'), null)
    const patched = await request<{ config: Body }>(base, 'PATCH', '/connectors/up/config', {
      'batch.size': null,
      'tasks.max': '1',
    })
    assert.equal(patched.status, 200)
    assert.equal(patched.body.config['batch.size'], undefined)
    assert.equal(patched.body.config['tasks.max'], '1')
    const missing = await request(base, 'PATCH', '/connectors/nope/config', { a: 'b' })
    assert.deepEqual(missing.body, { error_code: 404, message: 'Connector nope not found' })
    const nullValue = await request<Body>(base, 'PUT', '/connectors/up/config', { ...source(), file: null })
    assert.equal(nullValue.status, 400)
    assert.match(
      String(nullValue.body.message),
      /Null value can not be supplied as the configuration value\./,
    )
    assert.equal(
      (await get<Body>('/connectors/up/config')).body.file,
      input,
      'a rejected update changes nothing',
    )
  })

  it('a config-provider reference the worker cannot resolve is a 400 naming the key and the reference', async () => {
    // Kafka Connect would store it unresolved; resolved references staying raw when shown are
    // covered in test/config-providers/worker.test.ts.
    const reference = ['$', '{env:HOME}'].join('')
    const res = await request<{ error_code: number; message: string }>(
      base,
      'PUT',
      '/connectors/raw/config',
      {
        ...source('raw-t'),
        'custom.reference': reference,
      },
    )
    assert.equal(res.status, 400, JSON.stringify(res.body))
    assert.equal(res.body.error_code, 400)
    assert.ok(res.body.message.includes(`Invalid value ${reference} for configuration custom.reference`))
    assert.match(res.body.message, /config provider 'env' is not configured on this worker/)
    assert.equal((await get('/connectors/raw')).status, 404)
  })

  it('GET /connectors with expand=status and expand=info; unknown expand values give empty entries', async () => {
    const plain = await get<string[]>('/connectors')
    assert.ok(plain.body.includes('src'))
    const both = await get<Record<string, { status: Body; info: Body }>>(
      '/connectors?expand=status&expand=info',
    )
    assert.equal(both.body.src.status.name, 'src')
    assert.equal(both.body.src.info.type, 'source')
    const unknown = await get<Record<string, Body>>('/connectors?expand=bogus')
    assert.deepEqual(unknown.body.src, {})
  })

  it('status, tasks, tasks-config and task status; 404 bodies for unknown connectors and tasks', async () => {
    const status = await get<{ tasks: { id: number; state: string; worker_id: string }[] }>(
      '/connectors/src/status',
    )
    assert.equal(status.body.tasks[0].id, 0)
    const tasks = await get<{ id: Body; config: Body }[]>('/connectors/src/tasks')
    assert.deepEqual(tasks.body[0].id, { connector: 'src', task: 0 })
    const tasksConfig = await get<Body>('/connectors/src/tasks-config')
    assert.ok('src-0' in tasksConfig.body)
    assert.equal((await get<Body>('/connectors/src/tasks/0/status')).body.state, 'RUNNING')
    assert.deepEqual((await get('/connectors/nope')).body, {
      error_code: 404,
      message: 'Connector nope not found',
    })
    assert.deepEqual((await get('/connectors/nope/status')).body, {
      error_code: 404,
      message: 'No status found for connector nope',
    })
    assert.deepEqual((await get('/connectors/src/tasks/9/status')).body, {
      error_code: 404,
      message: 'No status found for task src-9',
    })
    assert.deepEqual((await get('/connectors/src/tasks/x/status')).body, {
      error_code: 404,
      message: 'HTTP 404 Not Found',
    })
    const restartTask = await request(base, 'POST', '/connectors/src/tasks/9/restart')
    assert.deepEqual(restartTask.body, { error_code: 404, message: 'Task src-9 not found' })
  })

  it('pause 202, resume 202, restart 204 (legacy) and 202 with includeTasks; unknown connector 404', async () => {
    assert.equal((await request(base, 'PUT', '/connectors/src/pause')).status, 202)
    await eventually(async () =>
      (await get<{ connector: { state: string } }>('/connectors/src/status')).body.connector.state ===
      'PAUSED'
        ? true
        : undefined,
    )
    assert.equal((await request(base, 'PUT', '/connectors/src/resume')).status, 202)
    await running('src')
    assert.equal((await request(base, 'POST', '/connectors/src/restart')).status, 204)
    const full = await request<{ name: string }>(
      base,
      'POST',
      '/connectors/src/restart?includeTasks=true&onlyFailed=false',
    )
    assert.equal(full.status, 202)
    assert.equal(full.body.name, 'src')
    await running('src')
    assert.deepEqual((await request(base, 'PUT', '/connectors/nope/pause')).body, {
      error_code: 404,
      message: 'Unknown connector nope',
    })
    assert.equal((await request(base, 'PUT', '/connectors/nope/resume')).status, 404)
    assert.equal((await request(base, 'PUT', '/connectors/nope/stop')).status, 404)
    assert.equal((await request(base, 'POST', '/connectors/nope/restart')).status, 404)
    assert.equal((await request(base, 'DELETE', '/connectors/nope')).status, 404)
  })

  it('tracks the topics a source produced to and a sink consumed from (KIP-558), and resets them', async () => {
    const out = join(w.dir, 'out.txt')
    const sink = await request(base, 'POST', '/connectors', {
      name: 'snk',
      config: { 'connector.class': 'FileStreamSink', topics: 'contract-t', file: out },
    })
    assert.equal(sink.status, 201)
    await eventually(
      async () => {
        const s = await get<Body>('/connectors/src/topics')
        const k = await get<Body>('/connectors/snk/topics')
        return JSON.stringify(s.body) === '{"src":{"topics":["contract-t"]}}' &&
          JSON.stringify(k.body) === '{"snk":{"topics":["contract-t"]}}'
          ? true
          : undefined
      },
      20_000,
      'active topics',
    )
    assert.equal((await request(base, 'PUT', '/connectors/src/topics/reset')).status, 202)
    assert.deepEqual((await get('/connectors/src/topics')).body, { src: { topics: [] } })
    assert.deepEqual((await get('/connectors/unknown/topics')).body, { unknown: { topics: [] } })
  })

  it('offsets: 400 on a running connector, then GET/PATCH/DELETE once STOPPED (source and sink)', async () => {
    const running400 = await request(base, 'DELETE', '/connectors/src/offsets')
    assert.deepEqual(running400.body, {
      error_code: 400,
      message:
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint",
    })
    const empty = await request(base, 'PATCH', '/connectors/src/offsets', { offsets: [] })
    assert.deepEqual(empty.body, {
      error_code: 400,
      message: 'Partitions / offsets need to be provided for an alter offsets request',
    })
    assert.equal((await request(base, 'PUT', '/connectors/src/stop')).status, 204)
    assert.equal((await request(base, 'PUT', '/connectors/snk/stop')).status, 204)
    const stopped = await get<{ connector: { state: string }; tasks: unknown[] }>('/connectors/src/status')
    assert.deepEqual([stopped.body.connector.state, stopped.body.tasks.length], ['STOPPED', 0])
    const src = await get<{ offsets: Body[] }>('/connectors/src/offsets')
    assert.deepEqual(src.body.offsets, [{ partition: { filename: input }, offset: { position: 14 } }])
    const alter = await request<Body>(base, 'PATCH', '/connectors/src/offsets', {
      offsets: [{ partition: { filename: input }, offset: { position: 4 } }],
    })
    assert.equal(alter.status, 200)
    assert.equal(alter.body.message, 'The offsets for this connector have been altered successfully')
    assert.deepEqual((await get<{ offsets: Body[] }>('/connectors/src/offsets')).body.offsets, [
      { partition: { filename: input }, offset: { position: 4 } },
    ])
    const sinkOffsets = await get<{ offsets: Body[] }>('/connectors/snk/offsets')
    assert.deepEqual(sinkOffsets.body.offsets, [
      { partition: { kafka_topic: 'contract-t', kafka_partition: 0 }, offset: { kafka_offset: 3 } },
    ])
    const badSink = await request(base, 'PATCH', '/connectors/snk/offsets', {
      offsets: [{ partition: { kafka_topic: 'contract-t' }, offset: { kafka_offset: 1 } }],
    })
    assert.deepEqual(badSink.body, {
      error_code: 400,
      message:
        "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
    })
    const badValue = await request<Body>(base, 'PATCH', '/connectors/snk/offsets', {
      offsets: [
        { partition: { kafka_topic: 'contract-t', kafka_partition: 0 }, offset: { kafka_offset: 'x' } },
      ],
    })
    assert.equal(badValue.status, 400)
    assert.match(String(badValue.body.message), /Offset values for sink connectors need to be integers\./)
    const sinkAlter = await request(base, 'PATCH', '/connectors/snk/offsets', {
      offsets: [
        { partition: { kafka_topic: 'contract-t', kafka_partition: '0' }, offset: { kafka_offset: '1' } },
      ],
    })
    assert.equal(sinkAlter.status, 200)
    assert.deepEqual((await get<{ offsets: Body[] }>('/connectors/snk/offsets')).body.offsets, [
      { partition: { kafka_topic: 'contract-t', kafka_partition: 0 }, offset: { kafka_offset: 1 } },
    ])
    const reset = await request<Body>(base, 'DELETE', '/connectors/snk/offsets')
    assert.equal(reset.status, 200)
    assert.match(String(reset.body.message), /reset successfully/)
    assert.deepEqual((await get('/connectors/snk/offsets')).body, { offsets: [] })
    assert.deepEqual((await get('/connectors/nope/offsets')).body, {
      error_code: 404,
      message: 'Connector nope not found',
    })
    // Resumed from the altered offset: the source re-reads from byte 4 ("two", "three").
    assert.equal((await request(base, 'PUT', '/connectors/src/resume')).status, 202)
    await running('src')
  })

  it('initial_state creates a connector PAUSED or STOPPED', async () => {
    const paused = await request(base, 'POST', '/connectors', {
      name: 'init-p',
      config: source('init-t'),
      initial_state: 'PAUSED',
    })
    assert.equal(paused.status, 201)
    const stopped = await request<{ tasks: unknown[] }>(base, 'POST', '/connectors', {
      name: 'init-s',
      config: source('init-t'),
      initial_state: 'STOPPED',
    })
    assert.equal(stopped.status, 201)
    assert.deepEqual(stopped.body.tasks, [])
    await eventually(async () =>
      (await get<{ connector: { state: string } }>('/connectors/init-p/status')).body.connector.state ===
      'PAUSED'
        ? true
        : undefined,
    )
    assert.equal(
      (await get<{ connector: { state: string } }>('/connectors/init-s/status')).body.connector.state,
      'STOPPED',
    )
    // A connector created STOPPED starts on resume like any stopped one (it once answered 409).
    assert.equal((await request(base, 'PUT', '/connectors/init-s/resume')).status, 202)
    await eventually(async () =>
      (await get<{ connector: { state: string } }>('/connectors/init-s/status')).body.connector.state ===
      'RUNNING'
        ? true
        : undefined,
    )
    assert.equal((await request(base, 'PUT', '/connectors/init-s/stop')).status, 204)
    const bad = await request(base, 'POST', '/connectors', {
      name: 'init-x',
      config: source(),
      initial_state: 'BOGUS',
    })
    assert.equal(bad.status, 400)
  })

  it('DELETE answers 204 and forgets the connector', async () => {
    assert.equal((await request(base, 'DELETE', '/connectors/init-s')).status, 204)
    assert.equal((await get('/connectors/init-s')).status, 404)
  })

  it('plugins: list, config keys, validate; 404 for unknown plugins; 400 on a type mismatch', async () => {
    const list = await get<{ class: string; type: string }[]>('/connector-plugins')
    assert.ok(list.body.some((p) => p.class === 'org.apache.kafka.connect.file.FileStreamSourceConnector'))
    assert.ok(list.body.every((p) => p.type === 'source' || p.type === 'sink'))
    const all = await get<{ type: string }[]>('/connector-plugins?connectorsOnly=false')
    assert.ok(all.body.some((p) => p.type === 'converter'))
    const keys = await get<{ name: string }[]>('/connector-plugins/FileStreamSource/config')
    assert.ok(keys.body.some((k) => k.name === 'topic'))
    assert.deepEqual((await get('/connector-plugins/Nope/config')).body, {
      error_code: 404,
      message: 'Unknown plugin Nope.',
    })
    const validate = await request<{ error_count: number }>(
      base,
      'PUT',
      '/connector-plugins/FileStreamSource/config/validate',
      {
        'connector.class': 'FileStreamSource',
      },
    )
    assert.equal(validate.status, 200)
    assert.ok(validate.body.error_count >= 1)
    const mismatch = await request(base, 'PUT', '/connector-plugins/FileStreamSource/config/validate', {
      'connector.class': 'FileStreamSink',
    })
    assert.deepEqual(mismatch.body, {
      error_code: 400,
      message: 'Included connector type FileStreamSink does not match request type FileStreamSource',
    })
  })

  it('admin/loggers: list, get, set with Kafka level names, 404 for unknown loggers and levels', async () => {
    const all = await get<Record<string, { level: string; last_modified: number | null }>>('/admin/loggers')
    assert.deepEqual(all.body.root, { level: 'WARN', last_modified: null })
    assert.deepEqual((await get('/admin/loggers/org.nope')).body, {
      error_code: 404,
      message: 'Logger org.nope not found.',
    })
    const set = await request<string[]>(base, 'PUT', '/admin/loggers/sluice', { level: 'debug' })
    assert.equal(set.status, 200)
    assert.ok(set.body.includes('sluice') && set.body.includes('sluice.rest'), JSON.stringify(set.body))
    const rest = await get<{ level: string; last_modified: number }>('/admin/loggers/sluice.rest')
    assert.equal(rest.body.level, 'DEBUG')
    assert.ok(rest.body.last_modified > 0)
    assert.deepEqual((await request(base, 'PUT', '/admin/loggers/sluice', { level: 'LOUD' })).body, {
      error_code: 404,
      message: "invalid log level 'LOUD'.",
    })
    assert.deepEqual((await request(base, 'PUT', '/admin/loggers/sluice', {})).body, {
      error_code: 400,
      message: "Desired 'level' parameter was not specified in request.",
    })
    assert.equal(
      (await request(base, 'PUT', '/admin/loggers/com.foo?scope=cluster', { level: 'OFF' })).status,
      204,
    )
    assert.equal((await get<{ level: string }>('/admin/loggers/com.foo')).body.level, 'OFF')
    await request(base, 'PUT', '/admin/loggers/root', { level: 'WARN' })
  })

  it('malformed JSON is a 500 with the parser message, as Jersey/Jackson answer; wrong media type 415', async () => {
    const malformed = await request<Body>(base, 'POST', '/connectors', '{"name":"a",')
    assert.equal(malformed.status, 500)
    assert.equal(malformed.body.error_code, 500)
    assert.match(String(malformed.body.message), /not valid JSON/)
    const unknownField = await request<Body>(base, 'POST', '/connectors', { name: 'a', config: {}, bogus: 1 })
    assert.equal(unknownField.status, 500)
    assert.match(String(unknownField.body.message), /^Unrecognized field "bogus"/)
    const text = await fetch(`${base}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    })
    assert.deepEqual(
      [text.status, await text.json()],
      [415, { error_code: 415, message: 'HTTP 415 Unsupported Media Type' }],
    )
  })

  it('405 for a known path with the wrong method, 404 for unknown paths', async () => {
    assert.deepEqual((await request(base, 'DELETE', '/connectors')).body, {
      error_code: 405,
      message: 'HTTP 405 Method Not Allowed',
    })
    assert.equal((await get('/connectors/src/restart')).status, 405)
    assert.equal((await request(base, 'PATCH', '/connectors/src')).status, 405)
    assert.deepEqual((await get('/nope')).body, { error_code: 404, message: 'HTTP 404 Not Found' })
    assert.equal((await get('/connectors/src/nope')).status, 404)
  })
})
