/**
 * Confluent REST Proxy's produce API (kafka-rest v2 `ProduceToTopicAction`/`ProduceToPartitionAction`,
 * v3 `ProduceAction`/`ProduceBatchAction`, `ClustersResource`), served on the worker's
 * `rest.proxy.listeners`. The v2 embedded format comes from the request's content type
 * (`application/vnd.kafka.{json|binary|avro|jsonschema}.v2+json`; `application/vnd.kafka.v2+json`
 * and `application/json` mean binary, as in kafka-rest); answers are `application/vnd.kafka.v2+json`.
 *
 * v3 records: a body of one JSON object is one record, answered with its delivery report (an
 * error report takes its HTTP status from the error code). A body of several concatenated JSON
 * objects, or any chunked body, is streaming mode: each record is produced as soon as it is read and
 * its report is written back in order, one JSON object per line, under HTTP 200.
 */
import type { IncomingMessage } from 'node:http'
import type { Logger } from '../common/logger.ts'
import {
  ProxyErrors,
  type RestProxy,
  type TopicInfo,
  V2_FORMATS,
  type V2Format,
  type V3Result,
} from '../services/rest-proxy/rest-proxy.ts'
import { ServiceError } from '../services/service-error.ts'
import type { HttpApp } from './http-router.ts'
import type { TlsSettings } from './rest-security.ts'
import type { ServiceAuth } from './service-security.ts'
import { createServiceApp, listenService, type ServiceServer } from './service-server.ts'

export const V2_CONTENT_TYPE = 'application/vnd.kafka.v2+json'

export interface RestProxyServerOptions {
  proxy: RestProxy
  host: string
  port: number
  logger: Logger
  /** https (service-security.ts). */
  tls?: TlsSettings
  /** HTTP basic authentication. */
  auth?: ServiceAuth
}

type Params = Record<string, string>

/** The v2 embedded format of a request's content type. */
export function v2Format(contentType: string | undefined): V2Format {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (
    type === '' ||
    type === 'application/json' ||
    type === 'application/vnd.kafka.v2+json' ||
    type === 'application/vnd.kafka+json' ||
    type === 'application/octet-stream'
  ) {
    return 'binary'
  }
  const m = /^application\/vnd\.kafka\.([a-z]+)\.v2\+json$/.exec(type)
  if (m && (V2_FORMATS as readonly string[]).includes(m[1]!)) return m[1] as V2Format
  if (m?.[1] === 'protobuf') {
    throw new ServiceError(
      ProxyErrors.INVALID_SCHEMA,
      'Invalid schema: the protobuf embedded format is not served; use avro, jsonschema, json or binary',
    )
  }
  throw new ServiceError(
    415,
    `HTTP 415 Unsupported Media Type: ${type} is not a v2 produce type (application/vnd.kafka.{json|binary|avro|jsonschema}.v2+json)`,
  )
}

function statusOf(result: V3Result): number {
  if (result.error_code === 200) return 200
  return result.error_code >= 10_000 ? Math.floor(result.error_code / 100) : result.error_code
}

/**
 * Splits concatenated JSON objects as they arrive: returns the complete ones and keeps the rest.
 * Strings (with escapes) are skipped so braces inside them do not count.
 */
export class JsonObjectSplitter {
  #buffer = ''
  #depth = 0
  #inString = false
  #escaped = false
  #start = -1
  #scanned = 0

  push(chunk: string): string[] {
    this.#buffer += chunk
    const out: string[] = []
    for (let i = this.#scanned; i < this.#buffer.length; i++) {
      const c = this.#buffer[i]!
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false
        else if (c === '\\') this.#escaped = true
        else if (c === '"') this.#inString = false
        continue
      }
      if (c === '"') this.#inString = true
      else if (c === '{') {
        if (this.#depth === 0) this.#start = i
        this.#depth++
      } else if (c === '}') {
        this.#depth--
        if (this.#depth === 0) out.push(this.#buffer.slice(this.#start, i + 1))
        if (this.#depth < 0) throw new ServiceError(400, 'Bad Request: unbalanced braces in the request body')
      } else if (this.#depth === 0 && !/\s/.test(c)) {
        throw new ServiceError(400, `Bad Request: expected a JSON object in the request body, found '${c}'`)
      }
    }
    if (this.#depth === 0) {
      this.#buffer = ''
      this.#scanned = 0
    } else {
      this.#buffer = this.#buffer.slice(this.#start)
      this.#start = 0
      this.#scanned = this.#buffer.length
    }
    return out
  }

  /** Whether a started object is still incomplete. */
  get pending(): boolean {
    return this.#depth > 0
  }
}

export function registerRestProxyRoutes(app: HttpApp, options: RestProxyServerOptions): void {
  const { proxy } = options

  app.get('/', async () => ({}))
  app.post('/topics/:topic', async (request, reply) => {
    const { topic } = request.params as Params
    const format = v2Format(request.headers['content-type'])
    return reply.type(V2_CONTENT_TYPE).send(await proxy.produceV2(topic!, undefined, format, request.body))
  })
  app.post('/topics/:topic/partitions/:partition', async (request, reply) => {
    const { topic, partition } = request.params as Params
    const format = v2Format(request.headers['content-type'])
    const p = Number(partition)
    if (!Number.isInteger(p) || p < 0)
      throw new ServiceError(ProxyErrors.PARTITION_NOT_FOUND, 'Partition not found.')
    return reply.type(V2_CONTENT_TYPE).send(await proxy.produceV2(topic!, p, format, request.body))
  })

  const base = (request: { protocol: string; headers: { host?: string } }) =>
    `${request.protocol}://${request.headers.host ?? 'localhost'}/v3/clusters`
  const cluster = (self: string) => ({
    kind: 'KafkaCluster',
    metadata: { self: `${self}/${proxy.clusterId}`, resource_name: `crn:///kafka=${proxy.clusterId}` },
    cluster_id: proxy.clusterId,
    acls: { related: `${self}/${proxy.clusterId}/acls` },
    brokers: { related: `${self}/${proxy.clusterId}/brokers` },
    broker_configs: { related: `${self}/${proxy.clusterId}/broker-configs` },
    consumer_groups: { related: `${self}/${proxy.clusterId}/consumer-groups` },
    topics: { related: `${self}/${proxy.clusterId}/topics` },
    partition_reassignments: { related: `${self}/${proxy.clusterId}/topics/-/partitions/-/reassignment` },
  })
  app.get('/v3/clusters', async (request, reply) => {
    const self = base(request)
    return reply
      .type('application/json')
      .send({ kind: 'KafkaClusterList', metadata: { self, next: null }, data: [cluster(self)] })
  })
  app.get('/v3/clusters/:cluster', async (request, reply) => {
    proxy.checkCluster((request.params as Params).cluster!)
    return reply.type('application/json').send(cluster(base(request)))
  })

  const topicBody = (self: string, t: TopicInfo) => ({
    kind: 'KafkaTopic',
    metadata: {
      self: `${self}/${proxy.clusterId}/topics/${t.topic_name}`,
      resource_name: `crn:///kafka=${proxy.clusterId}/topic=${t.topic_name}`,
    },
    cluster_id: proxy.clusterId,
    topic_name: t.topic_name,
    is_internal: t.is_internal,
    replication_factor: 0,
    partitions_count: t.partitions_count,
    partitions: { related: `${self}/${proxy.clusterId}/topics/${t.topic_name}/partitions` },
    configs: { related: `${self}/${proxy.clusterId}/topics/${t.topic_name}/configs` },
    partition_reassignments: {
      related: `${self}/${proxy.clusterId}/topics/${t.topic_name}/partitions/-/reassignment`,
    },
  })
  app.get('/v3/clusters/:cluster/topics', async (request, reply) => {
    proxy.checkCluster((request.params as Params).cluster!)
    const self = base(request)
    const data = (await proxy.listTopics()).map((t) => topicBody(self, t))
    return reply.type('application/json').send({
      kind: 'KafkaTopicList',
      metadata: { self: `${self}/${proxy.clusterId}/topics`, next: null },
      data,
    })
  })
  app.get('/v3/clusters/:cluster/topics/:topic', async (request, reply) => {
    const { cluster: clusterId, topic } = request.params as Params
    proxy.checkCluster(clusterId!)
    return reply.type('application/json').send(topicBody(base(request), await proxy.topic(topic!)))
  })
  app.post('/v3/clusters/:cluster/topics', async (request, reply) => {
    proxy.checkCluster((request.params as Params).cluster!)
    return reply
      .code(201)
      .type('application/json')
      .send(topicBody(base(request), await proxy.createTopic(request.body)))
  })
  app.delete('/v3/clusters/:cluster/topics/:topic', async (request, reply) => {
    const { cluster: clusterId, topic } = request.params as Params
    proxy.checkCluster(clusterId!)
    await proxy.deleteTopic(topic!)
    return reply.code(204).send()
  })

  app.post('/v3/clusters/:cluster/topics/:topic/records::batch', async (request, reply) => {
    const { cluster: clusterId, topic } = request.params as Params
    proxy.checkCluster(clusterId!)
    const body = request.body as { entries?: unknown } | undefined
    if (!body || typeof body !== 'object')
      throw new ServiceError(ProxyErrors.PRODUCE_BATCH, 'Request body is empty. Data is required.')
    const entries = body.entries
    if (!Array.isArray(entries) || entries.length === 0)
      throw new ServiceError(ProxyErrors.PRODUCE_BATCH, 'Empty batch.')
    if (entries.length > proxy.batchMaximumEntries)
      throw new ServiceError(ProxyErrors.PRODUCE_BATCH, 'Too many entries in batch.')
    const ids = entries.map((e) => (e as { id?: unknown } | null)?.id)
    if (ids.some((id) => typeof id !== 'string' || id.length < 1 || id.length > 80)) {
      throw new ServiceError(ProxyErrors.PRODUCE_BATCH, 'Batch entry identifier is not a valid string.')
    }
    if (new Set(ids).size !== ids.length)
      throw new ServiceError(ProxyErrors.PRODUCE_BATCH, 'Batch entry IDs are not distinct.')
    const results = await Promise.all(entries.map((entry) => proxy.produceV3(topic!, entry)))
    const successes: Record<string, unknown>[] = []
    const failures: Record<string, unknown>[] = []
    results.forEach((result, i) => {
      if (result.error_code === 200) {
        const { error_code: _code, ...rest } = result
        successes.push({ id: ids[i], ...rest })
      } else failures.push({ id: ids[i], error_code: result.error_code, message: result.message })
    })
    return reply.code(207).type('application/json').send({ successes, failures })
  })

  // Streaming mode needs the raw body: this route reads the request stream itself.
  app.post(
    '/v3/clusters/:cluster/topics/:topic/records',
    async (request, reply) => {
      const { cluster: clusterId, topic } = request.params as Params
      proxy.checkCluster(clusterId!)
      const stream = request.body as IncomingMessage | undefined
      const splitter = new JsonObjectSplitter()
      const produceOne = (text: string): Promise<V3Result> => {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch (error) {
          return Promise.resolve({ error_code: 400, message: `Bad Request: ${(error as Error).message}` })
        }
        return proxy.produceV3(topic!, parsed)
      }
      // Streaming: reports are written in record order as each produce completes.
      let streaming = false
      let reports: Promise<void> = Promise.resolve()
      const stream1 = (text: string) => {
        const result = produceOne(text)
        reports = reports.then(async () => {
          reply.raw.write(`${JSON.stringify(await result)}\n`)
        })
      }
      const startStreaming = () => {
        streaming = true
        reply.hijack()
        reply.raw.writeHead(200, { 'content-type': 'application/json' })
      }
      const objects: string[] = []
      if (/chunked/i.test(String(request.headers['transfer-encoding'] ?? ''))) startStreaming()
      if (stream) {
        stream.setEncoding('utf8')
        try {
          for await (const chunk of stream) {
            for (const text of splitter.push(chunk as string)) {
              if (!streaming && objects.length === 1) {
                startStreaming()
                stream1(objects.shift()!)
              }
              if (streaming) stream1(text)
              else objects.push(text)
            }
          }
        } catch (error) {
          if (!streaming) throw error
          const message = error instanceof Error ? error.message : String(error)
          reports = reports.then(() => {
            reply.raw.write(`${JSON.stringify({ error_code: 400, message })}\n`)
          })
        }
      }
      if (streaming) {
        if (splitter.pending) {
          reports = reports.then(() => {
            reply.raw.write(
              `${JSON.stringify({ error_code: 400, message: 'Bad Request: the request body ends inside a JSON object' })}\n`,
            )
          })
        }
        await reports
        reply.raw.end()
        return reply
      }
      if (splitter.pending)
        throw new ServiceError(400, 'Bad Request: the request body ends inside a JSON object')
      if (objects.length === 0) throw new ServiceError(400, 'Request body is empty. Data is required.')
      const result = await produceOne(objects[0]!)
      return reply.code(statusOf(result)).type('application/json').send(result)
    },
    { streamBody: true },
  )
}

export async function startRestProxyServer(options: RestProxyServerOptions): Promise<ServiceServer> {
  const app = createServiceApp({
    name: 'REST proxy',
    logger: options.logger,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    responseType: (url) => (url.startsWith('/v3/') ? 'application/json' : V2_CONTENT_TYPE),
  })
  registerRestProxyRoutes(app, options)
  return listenService(app, { host: options.host, port: options.port })
}
