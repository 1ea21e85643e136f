/**
 * The S3 calls of the sink, on `@aws-sdk/client-s3`: a client built from the connector's keys,
 * object uploads that send a part each time `s3.part.size` bytes are buffered (so memory per open
 * file stays near one part), conditional writes (`If-None-Match: *`), and errors turned into
 * messages that name the cause and the key to fix.
 *
 * Requests are retried here, `s3.part.retries` times with a backoff doubling from
 * `s3.retry.backoff.ms`; what still fails is a `RetriableError` for the task to retry later.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { RetriableError } from '../../api/errors.ts'
import { ACCESS_KEY, S3_BUCKET, type S3SinkSettings, STORE_URL } from './config.ts'
import type { ByteSink } from './formats.ts'

/** What went wrong with a request, with the key a user would change to fix it. */
export interface StoreProblem {
  key: string
  message: string
  /** The store answered (so it is reachable) and refused. */
  refused: boolean
}

function errorName(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string }
  return e?.Code ?? e?.name ?? e?.code ?? 'Error'
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let i = 0; i < 5 && current; i++) {
    const code = (current as { code?: string }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  const name = errorName(error)
  return name === 'TimeoutError' || name === 'RequestTimeout' ? 'ETIMEDOUT' : undefined
}

/** Explains a failed request: the bucket, the credentials, or the endpoint. */
export function describeProblem(error: unknown, s: S3SinkSettings): StoreProblem {
  const endpoint = s.storeUrl ?? `AWS S3 (${s.region})`
  const name = errorName(error)
  const status = httpStatus(error)
  const net = networkCode(error)
  if (name === 'CredentialsProviderError') {
    return {
      key: ACCESS_KEY,
      refused: false,
      message: `no AWS credentials: set ${ACCESS_KEY} and aws.secret.access.key, or give the AWS default chain some (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role) (${(error as Error).message})`,
    }
  }
  if (net !== undefined || (status === undefined && name !== 'NoSuchBucket')) {
    return {
      key: STORE_URL,
      refused: false,
      message: `cannot reach the S3 store at ${endpoint} (${net ?? name}: ${(error as Error)?.message ?? error}); check ${STORE_URL} and that the store is running`,
    }
  }
  if (name === 'NoSuchBucket' || (status === 404 && (name === 'NotFound' || name === 'NoSuchBucket'))) {
    return {
      key: S3_BUCKET,
      refused: true,
      message: `bucket '${s.bucket}' does not exist at ${endpoint}: create it (the connector does not) or fix ${S3_BUCKET}`,
    }
  }
  if (
    status === 403 ||
    status === 401 ||
    [
      'InvalidAccessKeyId',
      'SignatureDoesNotMatch',
      'AccessDenied',
      'Forbidden',
      'InvalidToken',
      'ExpiredToken',
    ].includes(name)
  ) {
    return {
      key: ACCESS_KEY,
      refused: true,
      message: `the S3 store at ${endpoint} refused the credentials (${name}${status ? `, HTTP ${status}` : ''}): check ${ACCESS_KEY} and aws.secret.access.key (or the AWS default credentials chain) and the bucket's permissions`,
    }
  }
  return {
    key: STORE_URL,
    refused: true,
    message: `the S3 store at ${endpoint} answered ${name}${status ? ` (HTTP ${status})` : ''}: ${(error as Error)?.message ?? error}`,
  }
}

export function isPreconditionFailed(error: unknown): boolean {
  return httpStatus(error) === 412 || errorName(error) === 'PreconditionFailed'
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error)
  return httpStatus(error) === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload'
}

export class S3Store {
  readonly client: S3Client
  readonly settings: S3SinkSettings
  #closed = false

  constructor(s: S3SinkSettings, options: { connectionTimeoutMs?: number; requestTimeoutMs?: number } = {}) {
    this.settings = s
    const config: S3ClientConfig = {
      region: s.region,
      forcePathStyle: s.pathStyle,
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 120_000,
      },
    }
    if (s.storeUrl !== null) config.endpoint = s.storeUrl
    if (s.accessKeyId !== '')
      config.credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
    if (s.checksumMode === 'WHEN_REQUIRED') {
      config.requestChecksumCalculation = 'WHEN_REQUIRED'
      config.responseChecksumValidation = 'WHEN_REQUIRED'
    }
    this.client = new S3Client(config)
  }

  /**
   * Runs a request, retrying `s3.part.retries` times with a doubling backoff; then throws a
   * `RetriableError` naming the cause. A refusal that retrying cannot change (412) is thrown as is.
   */
  async call<T>(
    what: string,
    request: () => Promise<T>,
    passThrough: (error: unknown) => boolean = () => false,
  ): Promise<T> {
    const { partRetries, s3RetryBackoffMs } = this.settings
    for (let attempt = 0; ; attempt++) {
      try {
        return await request()
      } catch (error) {
        if (passThrough(error)) throw error
        if (attempt >= partRetries || this.#closed) {
          throw new RetriableError(`${what} failed: ${describeProblem(error, this.settings).message}`, {
            cause: error,
          })
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(s3RetryBackoffMs * 2 ** attempt, 60_000)))
      }
    }
  }

  /** Throws a `RetriableError` when the bucket cannot be reached, does not exist or refuses us. */
  async checkBucket(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }))
  }

  /** The object's bytes, or null when there is no such object. */
  async get(key: string): Promise<Uint8Array | null> {
    try {
      return await this.call(
        `reading s3://${this.settings.bucket}/${key}`,
        async () => {
          const response = await this.client.send(
            new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }),
          )
          return await (
            response.Body as { transformToByteArray(): Promise<Uint8Array> }
          ).transformToByteArray()
        },
        isNotFound,
      )
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  /** Writes a whole object. With `ifNoneMatch`, answers 'exists' instead of replacing an object. */
  async put(key: string, body: Uint8Array, ifNoneMatch: boolean): Promise<'written' | 'exists'> {
    try {
      await this.call(
        `writing s3://${this.settings.bucket}/${key}`,
        () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.settings.bucket,
              Key: key,
              Body: body,
              ContentLength: body.length,
              ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            }),
          ),
        isPreconditionFailed,
      )
      return 'written'
    } catch (error) {
      if (isPreconditionFailed(error)) return 'exists'
      throw error
    }
  }

  /** Keys under `prefix`, in order, after `startAfter` if given. */
  async *list(prefix: string, startAfter?: string): AsyncGenerator<string> {
    let token: string | undefined
    do {
      const page = await this.call(`listing s3://${this.settings.bucket}/${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.settings.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
          }),
        ),
      )
      for (const o of page.Contents ?? []) if (o.Key !== undefined) yield o.Key
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  }

  async delete(key: string): Promise<void> {
    await this.call(`deleting s3://${this.settings.bucket}/${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key })),
    )
  }

  upload(key: string): ObjectUpload {
    return new ObjectUpload(this, key)
  }

  close(): void {
    this.#closed = true
    this.client.destroy()
  }
}

/**
 * One object being written. Bytes are buffered until a part's worth is there; the first full part
 * starts a multipart upload. An object smaller than one part is written with one PutObject when
 * committed. A failed request leaves the bytes buffered, so calling again retries it.
 */
export class ObjectUpload implements ByteSink {
  readonly key: string
  readonly #store: S3Store
  #chunks: Uint8Array[] = []
  #buffered = 0
  #uploadId: string | undefined
  #parts: { ETag: string; PartNumber: number }[] = []
  #done = false

  constructor(store: S3Store, key: string) {
    this.#store = store
    this.key = key
  }

  get buffered(): number {
    return this.#buffered
  }

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.#chunks.push(bytes)
    this.#buffered += bytes.length
  }

  /** Sends the buffered bytes as a part once at least `partSize` are buffered. */
  async sendFullParts(partSize: number): Promise<void> {
    if (this.#buffered >= partSize) await this.#sendPart()
  }

  async #sendPart(): Promise<void> {
    const { client, settings } = this.#store
    const where = `s3://${settings.bucket}/${this.key}`
    if (this.#uploadId === undefined) {
      const created = await this.#store.call(`starting the multipart upload of ${where}`, () =>
        client.send(new CreateMultipartUploadCommand({ Bucket: settings.bucket, Key: this.key })),
      )
      this.#uploadId = created.UploadId
    }
    const body = Buffer.concat(this.#chunks)
    const partNumber = this.#parts.length + 1
    const response = await this.#store.call(`uploading part ${partNumber} of ${where}`, () =>
      client.send(
        new UploadPartCommand({
          Bucket: settings.bucket,
          Key: this.key,
          UploadId: this.#uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      ),
    )
    this.#parts.push({ ETag: response.ETag as string, PartNumber: partNumber })
    this.#chunks = []
    this.#buffered = 0
  }

  /**
   * Makes the object visible. With `ifNoneMatch`, an object already at the key is not replaced:
   * the answer is then 'exists' (and the multipart upload stays open for a second call without it).
   */
  async commit(ifNoneMatch: boolean): Promise<'written' | 'exists'> {
    if (this.#done) return 'written'
    const { client, settings } = this.#store
    if (this.#uploadId === undefined) {
      const result = await this.#store.put(this.key, Buffer.concat(this.#chunks), ifNoneMatch)
      if (result === 'written') this.#finished()
      return result
    }
    if (this.#buffered > 0) await this.#sendPart()
    try {
      await this.#store.call(
        `completing the multipart upload of s3://${settings.bucket}/${this.key}`,
        () =>
          client.send(
            new CompleteMultipartUploadCommand({
              Bucket: settings.bucket,
              Key: this.key,
              UploadId: this.#uploadId,
              MultipartUpload: { Parts: this.#parts },
              ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            }),
          ),
        (error) => isPreconditionFailed(error) || isNotFound(error),
      )
    } catch (error) {
      if (isPreconditionFailed(error)) return 'exists'
      // The upload is gone: a completion whose answer was lost. The object is there.
      if (isNotFound(error)) {
        this.#finished()
        return 'written'
      }
      throw error
    }
    this.#finished()
    return 'written'
  }

  #finished(): void {
    this.#done = true
    this.#chunks = []
    this.#buffered = 0
  }

  /** Drops the upload: nothing becomes visible. Best effort (an unfinished upload expires by lifecycle rules). */
  async abort(): Promise<void> {
    this.#chunks = []
    this.#buffered = 0
    if (this.#uploadId === undefined || this.#done) return
    const { client, settings } = this.#store
    const uploadId = this.#uploadId
    this.#uploadId = undefined
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: settings.bucket, Key: this.key, UploadId: uploadId }))
      .catch(() => {})
  }
}
