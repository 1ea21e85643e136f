/**
 * `/ui/`: the web console (src/console/), served by every worker on the REST listener, behind the
 * same TLS and basic auth as the API it calls. Not part of Kafka Connect's REST API. `/ui` redirects
 * to `/ui/` (relatively, so a proxy's path prefix is kept); the page routes with the URL's fragment,
 * so only the bundle's few files are served. Responses carry a strict Content-Security-Policy: the
 * console loads nothing from elsewhere and talks only to this origin's API.
 */

import { ConnectError } from '../api/errors.ts'
import { type ConsoleAsset, consoleAssets } from './console-assets.ts'
import type { HttpApp, HttpReply, HttpRequest } from './http-router.ts'

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
}

function send(request: HttpRequest, reply: HttpReply, file: ConsoleAsset): HttpReply {
  reply.headers(SECURITY_HEADERS).header('ETag', file.etag).header('Vary', 'Accept-Encoding')
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
  reply.type(file.contentType)
  if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    return reply.header('Content-Encoding', 'gzip').send(file.gzip)
  }
  return reply.send(file.body)
}

async function load(): Promise<ReadonlyMap<string, ConsoleAsset>> {
  try {
    return await consoleAssets()
  } catch (error) {
    throw new ConnectError(
      'UNAVAILABLE',
      `The web console cannot be served: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

export function registerConsoleRoutes(app: HttpApp): void {
  app.get('/ui', async (_request, reply) => reply.code(301).header('Location', 'ui/').send())
  app.get('/ui/', async (request, reply) => send(request, reply, (await load()).get('index.html')!))
  app.get<{ Params: { file: string } }>('/ui/:file', async (request, reply) => {
    const file = (await load()).get(request.params.file)
    if (file === undefined || request.params.file === 'index.html') {
      throw new ConnectError('NOT_FOUND', `No file ${request.params.file} in the web console; open /ui/`)
    }
    return send(request, reply, file)
  })
}
