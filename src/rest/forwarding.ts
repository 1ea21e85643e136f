/**
 * Forwarding of REST requests between the workers of a cluster (Kafka Connect's
 * `HerderRequestHandler.completeOrForwardRequest`): a request the herder says must
 * run elsewhere (`RequestTargetError`) goes to the leader's or owner's advertised URL with
 * `?forward=true`; a worker receiving `forward=true` may forward once more with `forward=false`; a
 * worker receiving `forward=false` that still is not the target answers 409. The answer of the
 * target (status, body, Location) is relayed as is. Only the Authorization header (the caller's
 * credentials, which the target checks again) and the internal request signature travel along.
 * Over https the worker is a TLS client with its listener's settings (see inter-worker-client.ts).
 */

import { ConnectError, errorMessage } from '../api/errors.ts'
import { type InterWorkerTls, interWorkerRequest } from '../herder/distributed/inter-worker-client.ts'
import type { RequestTargetError } from '../herder/distributed/request-target.ts'
import type { HttpReply, HttpRequest } from './http-router.ts'

const CARRIED_HEADERS = ['authorization', 'x-connect-authorization', 'x-connect-request-signature-algorithm']

export async function forwardRequest(
  error: RequestTargetError,
  request: HttpRequest,
  reply: HttpReply,
  tls?: InterWorkerTls,
): Promise<HttpReply> {
  const url = new URL(request.url, 'http://localhost')
  const forward = url.searchParams.get('forward')
  if (forward === 'false' || error.forwardUrl === null) {
    if (error.forwardUrl === null) throw error
    throw new ConnectError(
      'CONFLICT',
      'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
    )
  }
  const query = new URLSearchParams()
  query.set('forward', forward === null ? 'true' : 'false')
  for (const [k, v] of url.searchParams) if (k !== 'forward') query.append(k, v)
  const target = `${error.forwardUrl.replace(/\/$/, '')}${url.pathname}?${query}`
  const headers: Record<string, string> = {}
  for (const name of CARRIED_HEADERS) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  const body = (request as { rawBody?: string }).rawBody
  if (body !== undefined) headers['content-type'] = 'application/json'
  let response: Awaited<ReturnType<typeof interWorkerRequest>>
  try {
    response = await interWorkerRequest(target, {
      method: request.method,
      headers,
      body: body === undefined || request.method === 'GET' ? undefined : body,
      timeoutMs: 90_000,
      tls,
    })
  } catch (cause) {
    throw new ConnectError('CONNECT', `IO Error trying to forward REST request: ${errorMessage(cause)}`, {
      cause,
    })
  }
  reply.code(response.status)
  const location = response.headers.location
  if (location) reply.header('Location', location)
  if (response.body === '') return reply.send()
  return reply.type(response.headers['content-type'] ?? 'application/json').send(response.body)
}
