/**
 * Seed 003: the `kafka_connect_helpers` library of layer-kafka-connect-base, replayed with fetch
 * exactly as it calls the API (python-requests): every call sends `Content-type: application/json`
 * and `Accept: application/json`, bodiless PUT/POST/DELETE included (requests sends
 * `Content-Length: 0` then), and it reads every answer with `r.json()`, falling back to None on a
 * JSONDecodeError only for unregister, restart, pause and resume.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../helpers/rest.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

interface ApiResponse {
  status_code: number
  json: unknown
}

const headers = { 'Content-type': 'application/json', Accept: 'application/json' }

/** requests' `r.json()`: a body that is not JSON raises, which the helper may turn into None. */
async function call(
  service: string,
  method: string,
  path: string,
  options: { json?: unknown; noneOnDecodeError?: boolean } = {},
): Promise<ApiResponse> {
  const body = options.json === undefined ? '' : JSON.stringify(options.json)
  const res = await fetch(`http://${service}${path}`, {
    method,
    headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
    body: method === 'GET' ? undefined : body,
  })
  const text = await res.text()
  try {
    return { status_code: res.status, json: JSON.parse(text) }
  } catch (error) {
    if (options.noneOnDecodeError) return { status_code: res.status, json: null }
    throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text}`, {
      cause: error,
    })
  }
}

describe('seed 003: the kafka_connect_helpers call sequence', () => {
  let w: TestWorker
  let service: string
  let file: string
  before(async () => {
    w = await startTestWorker()
    service = w.base.replace('http://', '')
    file = join(w.dir, 'mongo-like.txt')
    writeFileSync(file, 'a\nb\n')
  })
  after(() => w.close())

  const register_connector = (connector: unknown, name: string) =>
    call(service, 'PUT', `/connectors/${name}/config`, { json: connector })
  const unregister_connector = (name: string) =>
    call(service, 'DELETE', `/connectors/${name}`, { noneOnDecodeError: true })
  const list_connectors = () => call(service, 'GET', '/connectors')
  const connector_status = (name: string) => call(service, 'GET', `/connectors/${name}/status`)
  const connector_restart = (name: string) =>
    call(service, 'POST', `/connectors/${name}/restart`, { noneOnDecodeError: true })
  const connector_pause = (name: string) =>
    call(service, 'PUT', `/connectors/${name}/pause`, { noneOnDecodeError: true })
  const connector_resume = (name: string) =>
    call(service, 'PUT', `/connectors/${name}/resume`, { noneOnDecodeError: true })
  const list_tasks = (name: string) => call(service, 'GET', `/connectors/${name}/tasks`)

  it('registers, lists, inspects, restarts, pauses, resumes and unregisters a connector', async () => {
    const config = { 'connector.class': 'FileStreamSource', file, topic: 'seed003', 'tasks.max': '1' }
    const created = await register_connector(config, 'seed-connector')
    // The charm's check: `status_code == 200 or status_code == 201`.
    assert.equal(created.status_code, 201)
    assert.equal((created.json as { name: string }).name, 'seed-connector')
    const again = await register_connector({ ...config, 'batch.size': '100' }, 'seed-connector')
    assert.equal(again.status_code, 200)

    assert.deepEqual(await list_connectors(), { status_code: 200, json: ['seed-connector'] })
    const status = await eventually(async () => {
      const s = await connector_status('seed-connector')
      const body = s.json as { connector: { state: string }; tasks: { state: string }[] }
      return body.connector.state === 'RUNNING' && body.tasks[0]?.state === 'RUNNING' ? s : undefined
    })
    assert.equal(status.status_code, 200)
    const tasks = await list_tasks('seed-connector')
    assert.equal(tasks.status_code, 200)
    assert.deepEqual((tasks.json as { id: unknown }[])[0].id, { connector: 'seed-connector', task: 0 })

    assert.deepEqual(await connector_restart('seed-connector'), { status_code: 204, json: null })
    assert.deepEqual(await connector_pause('seed-connector'), { status_code: 202, json: null })
    await eventually(async () => {
      const s = (await connector_status('seed-connector')).json as { connector: { state: string } }
      return s.connector.state === 'PAUSED' ? true : undefined
    })
    assert.deepEqual(await connector_resume('seed-connector'), { status_code: 202, json: null })
    await eventually(async () => {
      const s = (await connector_status('seed-connector')).json as { connector: { state: string } }
      return s.connector.state === 'RUNNING' ? true : undefined
    })

    // unregister_latest_connector accepts 204 or 404.
    assert.deepEqual(await unregister_connector('seed-connector'), { status_code: 204, json: null })
    const gone = await unregister_connector('seed-connector')
    assert.equal(gone.status_code, 404)
    assert.deepEqual(gone.json, { error_code: 404, message: 'Connector seed-connector not found' })
    assert.deepEqual(await list_connectors(), { status_code: 200, json: [] })
  })

  it('answers the helper on an unknown connector with JSON error bodies', async () => {
    const status = await connector_status('missing')
    assert.deepEqual(status, {
      status_code: 404,
      json: { error_code: 404, message: 'No status found for connector missing' },
    })
    assert.equal((await list_tasks('missing')).status_code, 404)
    assert.equal((await connector_pause('missing')).status_code, 404)
    assert.equal((await connector_restart('missing')).status_code, 404)
  })
})
