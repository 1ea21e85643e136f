/**
 * The semantics of src/rest/http-router.ts that the servers rely on and that fastify had
 * (decision 0036): routing, body reading and its refusals, how replies are serialized.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { HttpApp } from '../../src/rest/http-router.ts'

describe('http-router', () => {
  const app = new HttpApp({ bodyLimit: 64 })
  let base: string
  const call = async (method: string, path: string, init: { body?: string; type?: string } = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      body: init.body,
      headers: init.type ? { 'content-type': init.type } : {},
    })
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
  }

  before(async () => {
    app.addContentTypeParser('application/json', (_request, text) =>
      text.trim() ? JSON.parse(text) : undefined,
    )
    app.setErrorHandler((error, _request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 500
      return reply.code(status).send({ error_code: status, message: (error as Error).message })
    })
    app.setNotFoundHandler((request, reply) => {
      const status = app.knownPath(request.url.split('?')[0]!) ? 405 : 404
      return reply.code(status).send({ error_code: status })
    })
    app.get<{ Params: { name: string } }>('/things/:name', async (request) => ({
      name: request.params.name,
      query: request.query,
    }))
    app.get('/things/special', async () => 'static wins')
    app.post('/things', async (request, reply) => reply.code(201).send({ body: request.body ?? null }))
    app.delete('/things/:name', async (_request, reply) => reply.code(204).send({ ignored: true }))
    app.get('/typed', async (_request, reply) => reply.type('application/vnd.x+json').send('{"a":1}'))
    app.post('/v1/records::batch', async () => ({ batch: true }))
    app.post(
      '/stream',
      async (request) => {
        let text = ''
        for await (const chunk of request.body as IncomingMessage) text += chunk
        return { length: text.length }
      },
      { streamBody: true },
    )
    base = await app.listen({ host: '127.0.0.1', port: 0 })
  })
  after(() => app.close())

  it('routes with decoded parameters, static segments first, and repeated query keys as arrays', async () => {
    const res = await call('GET', '/things/a%2Fb%20c?x=1&x=2&flag')
    assert.equal(res.status, 200)
    assert.equal(res.type, 'application/json; charset=utf-8')
    assert.deepEqual(JSON.parse(res.text), { name: 'a/b c', query: { x: ['1', '2'], flag: '' } })
    assert.deepEqual(await call('GET', '/things/special'), {
      status: 200,
      type: 'text/plain; charset=utf-8',
      text: 'static wins',
    })
    assert.equal((await call('POST', '/v1/records:batch')).text, '{"batch":true}')
  })

  it('answers 404, 405 for a known path (a trailing slash too) and 400 for a path that is not percent-encoding', async () => {
    assert.equal((await call('GET', '/nowhere')).status, 404)
    assert.equal((await call('PUT', '/things/x')).status, 405)
    assert.equal((await call('GET', '/things/x/')).status, 405)
    assert.equal((await call('GET', '/things/%zz')).status, 400)
  })

  it('reads JSON bodies; refuses other media types (415), large bodies (413) and bad JSON', async () => {
    assert.equal(
      (await call('POST', '/things', { body: '{"a":1}', type: 'application/json' })).text,
      '{"body":{"a":1}}',
    )
    assert.equal(
      (await call('POST', '/things', { body: ' ', type: 'application/json' })).text,
      '{"body":null}',
    )
    assert.equal((await call('POST', '/things')).status, 201)
    assert.equal((await call('POST', '/things', { body: 'x', type: 'text/plain' })).status, 415)
    assert.equal((await call('POST', '/things', { body: 'x', type: 'garbage' })).status, 415)
    assert.equal((await call('POST', '/nowhere', { body: 'x', type: 'text/plain' })).status, 404)
    const big = await call('POST', '/things', { body: `"${'y'.repeat(100)}"`, type: 'application/json' })
    assert.deepEqual(JSON.parse(big.text), { error_code: 413, message: 'Request body is too large' })
    assert.equal((await call('POST', '/things', { body: '{', type: 'application/json' })).status, 500)
    assert.deepEqual(
      JSON.parse((await call('POST', '/stream', { body: 'z'.repeat(200), type: 'x/y' })).text),
      {
        length: 200,
      },
    )
  })

  it('sends no body on 204, adds charset to JSON types and answers HEAD from the GET route', async () => {
    assert.deepEqual(await call('DELETE', '/things/x'), { status: 204, type: null, text: '' })
    assert.deepEqual(await call('GET', '/typed'), {
      status: 200,
      type: 'application/vnd.x+json; charset=utf-8',
      text: '{"a":1}',
    })
    const head = await fetch(`${base}/things/x`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-length'), String('{"name":"x","query":{}}'.length))
  })
})
