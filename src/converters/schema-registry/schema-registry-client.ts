/**
 * A client of Confluent's Schema Registry REST API (what Confluent's `CachedSchemaRegistryClient`
 * and `RestService` do for serializers), on `fetch`:
 *
 * - `POST /subjects/{s}/versions` register, `POST /subjects/{s}` look up without registering,
 *   `GET /schemas/ids/{id}`, `GET /schemas/guids/{guid}`, `GET /subjects/{s}/versions/{v|latest}`,
 *   `GET /schemas/ids/{id}/versions`; content type `application/vnd.schemaregistry.v1+json`.
 * - `schema.registry.url` is a list: a request that cannot reach one URL goes to the next (and the
 *   client stays on the one that answered). When none answers, the whole list is tried again after
 *   a backoff (`retries.wait.ms` doubling up to `retries.max.wait.ms`, `max.retries` times); then a
 *   `RetriableError` names every URL and the last cause. 5xx and 429 answers are retried the same way.
 * - A 4xx answer is not retried: a `SchemaRegistryError` carries the HTTP status and Confluent's
 *   `error_code` and `message` (40403 schema not found, 40901 incompatible, 42201 invalid schema…).
 * - Basic auth: `basic.auth.credentials.source=USER_INFO` sends `basic.auth.user.info`; `URL` takes
 *   the `user:password@` of each URL.
 * - https: the `schema.registry.ssl.*` keys give the CA certificates that verify the registry
 *   (else the system's), the client certificate for a registry that asks for one, and whether the
 *   host name is checked (`ssl.endpoint.identification.algorithm`, `https` by default).
 * - Ids, schemas and versions are cached (ids and schemas never change in a registry); the latest
 *   version of a subject is cached for `latest.cache.ttl.sec` (-1: until the client is closed).
 */
import { request as httpsRequest } from 'node:https'
import { ConnectError, type ConnectErrorOptions, RetriableError } from '../../api/errors.ts'

// Not `import … from 'node:http'`: that loads undici (decision 0031).
const { request: httpRequest } = process.getBuiltinModule('node:http')

export interface SchemaReference {
  name: string
  subject: string
  version: number
}

export interface RegistrySchema {
  /** The schema text (Avro or JSON Schema JSON, Protobuf source). */
  schema: string
  /** AVRO when absent, as the registry answers. */
  schemaType?: string
  references?: SchemaReference[]
  /** Confluent's GUID of the schema, when the registry answers it. */
  guid?: string
}

export interface RegisteredSchema extends RegistrySchema {
  subject: string
  id: number
  version: number
}

export interface SchemaRegistryClientOptions {
  urls: readonly string[]
  /** `user:password` sent with every request (USER_INFO). */
  userInfo?: string
  /** Take credentials from each URL's `user:password@` (credentials source URL). @default true */
  credentialsFromUrl?: boolean
  /** @default 3 */
  maxRetries?: number
  /** @default 1000 */
  retryWaitMs?: number
  /** @default 20000 */
  retryMaxWaitMs?: number
  /** Per request. @default 30000 */
  requestTimeoutMs?: number
  /** Entries per cache. @default 1000 */
  cacheCapacity?: number
  /** How long `latest` answers are reused; -1 = always. @default -1 */
  latestCacheTtlMs?: number
  /** TLS client settings for https URLs. */
  tls?: RegistryClientTls
}

export interface RegistryClientTls {
  /** PEM CA certificates that verify the registry; absent: the system's. */
  ca?: string
  /** PEM certificate chain and private key, presented when the registry asks for one. */
  cert?: string
  key?: string
  passphrase?: string
  /** Check that the certificate names the host (`ssl.endpoint.identification.algorithm=https`). @default true */
  verifyHostname?: boolean
}

/** A 4xx answer of the registry, with Confluent's error code and message. */
export class SchemaRegistryError extends ConnectError {
  readonly httpStatus: number
  readonly errorCode: number
  readonly registryMessage: string

  constructor(
    httpStatus: number,
    errorCode: number,
    registryMessage: string,
    context: string,
    options: ConnectErrorOptions = {},
  ) {
    const code = httpStatus === 401 || httpStatus === 403 ? 'CONFIG' : 'DATA'
    super(
      code,
      `${context}: the schema registry answered ${httpStatus} (error code ${errorCode}): ${registryMessage}`,
      options,
    )
    this.name = 'SchemaRegistryError'
    this.httpStatus = httpStatus
    this.errorCode = errorCode
    this.registryMessage = registryMessage
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
const ACCEPT =
  'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5'

interface Endpoint {
  /** The URL without credentials and trailing slash. */
  base: string
  authorization: string | undefined
}

/** A bounded map dropping its oldest entry first. */
class Cache<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()
  constructor(max: number) {
    this.#max = max
  }
  get(key: K): V | undefined {
    return this.#map.get(key)
  }
  set(key: K, value: V): V {
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K)
    return value
  }
  delete(key: K): void {
    this.#map.delete(key)
  }
}

function basic(userInfo: string): string {
  return `Basic ${Buffer.from(userInfo, 'utf8').toString('base64')}`
}

function endpoint(url: string, userInfo: string | undefined, fromUrl: boolean): Endpoint {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    throw new ConnectError('CONFIG', `schema.registry.url '${url}' is not a URL: use http(s)://host:port`, {
      key: 'schema.registry.url',
    })
  }
  let authorization = userInfo !== undefined ? basic(userInfo) : undefined
  if (parsed.username !== '' || parsed.password !== '') {
    if (fromUrl && authorization === undefined) {
      authorization = basic(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`)
    }
    parsed.username = ''
    parsed.password = ''
  }
  return { base: parsed.toString().replace(/\/+$/, ''), authorization }
}

export class SchemaRegistryClient {
  readonly urls: readonly string[]
  readonly #endpoints: Endpoint[]
  /** The endpoint that answered last: requests start there. */
  #current = 0
  readonly #maxRetries: number
  readonly #retryWaitMs: number
  readonly #retryMaxWaitMs: number
  readonly #timeoutMs: number
  readonly #latestTtlMs: number
  readonly #byId: Cache<number, Promise<RegistrySchema>>
  readonly #byGuid: Cache<string, Promise<RegistrySchema & { id?: number }>>
  readonly #registered: Cache<string, Promise<number>>
  readonly #lookedUp: Cache<string, Promise<RegisteredSchema>>
  readonly #versions: Cache<string, Promise<RegisteredSchema>>
  readonly #latest = new Map<string, { at: number; value: Promise<RegisteredSchema> }>()
  readonly #closed = new AbortController()
  readonly #tls: RegistryClientTls | undefined

  constructor(options: SchemaRegistryClientOptions) {
    if (options.urls.length === 0 || options.urls.every((u) => u.trim() === '')) {
      throw new ConnectError(
        'CONFIG',
        'schema.registry.url is required: the URL(s) of the schema registry, comma-separated',
        {
          key: 'schema.registry.url',
        },
      )
    }
    this.urls = options.urls.map((u) => u.trim()).filter((u) => u !== '')
    this.#endpoints = this.urls.map((u) => endpoint(u, options.userInfo, options.credentialsFromUrl ?? true))
    this.#maxRetries = options.maxRetries ?? 3
    this.#retryWaitMs = options.retryWaitMs ?? 1000
    this.#retryMaxWaitMs = options.retryMaxWaitMs ?? 20_000
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000
    this.#latestTtlMs = options.latestCacheTtlMs ?? -1
    this.#tls = options.tls
    const capacity = options.cacheCapacity ?? 1000
    this.#byId = new Cache(capacity)
    this.#byGuid = new Cache(capacity)
    this.#registered = new Cache(capacity)
    this.#lookedUp = new Cache(capacity)
    this.#versions = new Cache(capacity)
  }

  /** The URLs without credentials, for messages. */
  get displayUrls(): string {
    return this.#endpoints.map((e) => e.base).join(', ')
  }

  /** Registers a schema under a subject (idempotent) and returns its id. */
  register(subject: string, schema: RegistrySchema, normalize = false): Promise<number> {
    const key = `${subject}\u0000${normalize}\u0000${cacheKey(schema)}`
    return this.#cached(this.#registered, key, async () => {
      const body = await this.#request<{ id: number }>(
        'POST',
        `/subjects/${encodeURIComponent(subject)}/versions${normalize ? '?normalize=true' : ''}`,
        requestBody(schema),
        `registering a schema under subject '${subject}'`,
      )
      return body.id
    })
  }

  /** The id and version of a schema already registered under a subject (404 → SchemaRegistryError 40403/40401). */
  lookup(subject: string, schema: RegistrySchema, normalize = false): Promise<RegisteredSchema> {
    const key = `${subject}\u0000${normalize}\u0000${cacheKey(schema)}`
    return this.#cached(this.#lookedUp, key, async () => {
      const body = await this.#request<RegisteredSchema>(
        'POST',
        `/subjects/${encodeURIComponent(subject)}${normalize ? '?normalize=true' : ''}`,
        requestBody(schema),
        `looking up a schema under subject '${subject}'`,
      )
      return { ...body, subject }
    })
  }

  /** The schema with this id. */
  getSchemaById(id: number): Promise<RegistrySchema> {
    return this.#cached(this.#byId, id, () =>
      this.#request<RegistrySchema>('GET', `/schemas/ids/${id}`, undefined, `fetching schema id ${id}`),
    )
  }

  /** The schema with this GUID (wire format V1). */
  getSchemaByGuid(guid: string): Promise<RegistrySchema & { id?: number }> {
    return this.#cached(this.#byGuid, guid, () =>
      this.#request<RegistrySchema>(
        'GET',
        `/schemas/guids/${encodeURIComponent(guid)}`,
        undefined,
        `fetching schema guid ${guid}`,
      ),
    )
  }

  /** A version of a subject. */
  getVersion(subject: string, version: number): Promise<RegisteredSchema> {
    return this.#cached(this.#versions, `${subject}\u0000${version}`, () =>
      this.#fetchVersion(subject, String(version)),
    )
  }

  /** The latest version of a subject (cached for `latestCacheTtlMs`). */
  getLatest(subject: string): Promise<RegisteredSchema> {
    const cached = this.#latest.get(subject)
    if (cached !== undefined && (this.#latestTtlMs < 0 || Date.now() - cached.at < this.#latestTtlMs))
      return cached.value
    const value = this.#fetchVersion(subject, 'latest')
    this.#latest.set(subject, { at: Date.now(), value })
    value.catch(() => this.#latest.delete(subject))
    return value
  }

  /** The subjects and versions a schema id is registered under. */
  getIdVersions(id: number): Promise<{ subject: string; version: number }[]> {
    return this.#request(
      'GET',
      `/schemas/ids/${id}/versions`,
      undefined,
      `listing the versions of schema id ${id}`,
    )
  }

  /** Stops retries in progress. */
  close(): void {
    this.#closed.abort()
  }

  async #fetchVersion(subject: string, version: string): Promise<RegisteredSchema> {
    const body = await this.#request<RegisteredSchema>(
      'GET',
      `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
      undefined,
      `fetching version ${version} of subject '${subject}'`,
    )
    return { ...body, subject }
  }

  /** A cached promise; a failure is not kept, so the next call asks again. */
  #cached<K, V>(cache: Cache<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    const value = cache.set(key, load())
    value.catch(() => cache.delete(key))
    return value
  }

  /** One request, with failover across the URLs and retries with backoff while the registry is unreachable. */
  async #request<T>(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    context: string,
  ): Promise<T> {
    let lastError: unknown
    for (let attempt = 0; ; attempt++) {
      for (let i = 0; i < this.#endpoints.length; i++) {
        const index = (this.#current + i) % this.#endpoints.length
        const target = this.#endpoints[index]
        let response: { status: number; text: string }
        try {
          response = await send(`${target.base}${path}`, {
            method,
            headers: {
              Accept: ACCEPT,
              ...(body === undefined ? {} : { 'Content-Type': CONTENT_TYPE }),
              ...(target.authorization === undefined ? {} : { Authorization: target.authorization }),
            },
            body,
            signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#closed.signal]),
            tls: this.#tls,
          })
        } catch (error) {
          lastError = new Error(`${target.base}: ${describeFetchError(error)}`, { cause: error })
          continue
        }
        const text = response.text
        if (response.status >= 200 && response.status < 300) {
          this.#current = index
          try {
            return JSON.parse(text) as T
          } catch (error) {
            throw new ConnectError(
              'CONNECT',
              `${context}: ${target.base} answered ${response.status} with a body that is not JSON`,
              {
                cause: error,
              },
            )
          }
        }
        const { errorCode, message } = parseError(text, response.status)
        if (response.status >= 500 || response.status === 429 || response.status === 408) {
          // A registry that is there but cannot answer now: the next URL may, and a retry may.
          lastError = new Error(
            `${target.base} answered ${response.status} (error code ${errorCode}): ${message}`,
          )
          continue
        }
        this.#current = index
        throw new SchemaRegistryError(response.status, errorCode, message, `${context} at ${target.base}`)
      }
      if (attempt >= this.#maxRetries || this.#closed.signal.aborted) break
      await sleep(Math.min(this.#retryWaitMs * 2 ** attempt, this.#retryMaxWaitMs), this.#closed.signal)
    }
    throw new RetriableError(
      `${context}: the schema registry is unreachable at ${this.displayUrls} after ${this.#maxRetries + 1} attempts ` +
        `(${lastError instanceof Error ? lastError.message : String(lastError)}); check schema.registry.url and that the registry runs`,
      { cause: lastError },
    )
  }
}

function requestBody(schema: RegistrySchema): string {
  const body: Record<string, unknown> = { schema: schema.schema }
  if (schema.schemaType !== undefined && schema.schemaType !== 'AVRO') body.schemaType = schema.schemaType
  if (schema.references !== undefined && schema.references.length > 0) body.references = schema.references
  return JSON.stringify(body)
}

function cacheKey(schema: RegistrySchema): string {
  return `${schema.schemaType ?? 'AVRO'}\u0000${JSON.stringify(schema.references ?? [])}\u0000${schema.schema}`
}

function parseError(text: string, status: number): { errorCode: number; message: string } {
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown }
    return {
      errorCode: typeof body.error_code === 'number' ? body.error_code : status,
      message: typeof body.message === 'string' ? body.message : text,
    }
  } catch {
    return { errorCode: status, message: text.slice(0, 200) || `HTTP ${status}` }
  }
}

/** One HTTP(S) request (node:http, so that https can trust the configured CAs). */
function send(
  url: string,
  init: {
    method: string
    headers: Record<string, string>
    body: string | undefined
    signal: AbortSignal
    tls: RegistryClientTls | undefined
  },
): Promise<{ status: number; text: string }> {
  const target = new URL(url)
  const https = target.protocol === 'https:'
  const tls = https ? init.tls : undefined
  const headers = { ...init.headers }
  if (init.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(init.body))
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: init.method,
        headers,
        signal: init.signal,
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key, passphrase: tls.passphrase } : {}),
        ...(tls?.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        )
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  // node:http aborts with an AbortError whose cause is the timeout signal's reason.
  if (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'))
    return 'request timed out'
  const code = (error as NodeJS.ErrnoException).code
  if (code !== undefined && error.name !== 'AbortError') return `${error.message} (${code})`
  const cause =
    error.cause instanceof Error
      ? `: ${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message}`
      : ''
  return `${error.message}${cause}`
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
