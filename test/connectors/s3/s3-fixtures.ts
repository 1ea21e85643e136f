/**
 * What the S3 sink tests share: a fresh bucket on the test store (s3proxy), reading objects back,
 * and producing records to a fresh topic on the test broker.
 */
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { parquetReadObjects } from 'hyparquet'
import { WorkerConfig } from '../../../src/config/worker-config.ts'
import { createLog } from '../../../src/log/create-log.ts'
import { eventually } from '../../helpers/rest.ts'
import { kafkaBootstrap, s3Url } from '../../helpers/services.ts'

/** A file s3proxy's filesystem store lists while writing `<key>`: `<key>-<uuid>`. */
const S3PROXY_TEMP_FILE = /-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function s3Client(
  endpoint = s3Url(),
  credentials = { accessKeyId: 'test', secretAccessKey: 'test' },
): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials })
}

export class TestBucket {
  readonly name: string
  readonly client: S3Client

  constructor(name: string, client: S3Client) {
    this.name = name
    this.client = client
  }

  static async create(prefix: string, client = s3Client()): Promise<TestBucket> {
    const name = `${prefix}-${randomBytes(4).toString('hex')}`.toLowerCase()
    await client.send(new CreateBucketCommand({ Bucket: name }))
    return new TestBucket(name, client)
  }

  async keys(prefix = ''): Promise<string[]> {
    const out: string[] = []
    let token: string | undefined
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token }),
      )
      for (const o of page.Contents ?? []) out.push(o.Key!)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return out.sort()
  }

  /** Data objects (not the commit markers), sorted. */
  /**
   * The sink's data objects: not its commit markers, and not the temporary files s3proxy's
   * filesystem store lists while it writes an object (the key plus `-<uuid>`, renamed when complete).
   */
  async dataKeys(prefix = ''): Promise<string[]> {
    return (await this.keys(prefix)).filter((k) => !k.includes('_sluice/') && !S3PROXY_TEMP_FILE.test(k))
  }

  /** The data keys under `prefix` once there are exactly `count` (waiting up to `timeoutMs`). */
  async waitForDataKeys(prefix: string, count: number, timeoutMs = 30_000): Promise<string[]> {
    return await eventually(
      async () => {
        const keys = await this.dataKeys(prefix)
        return keys.length === count ? keys : undefined
      },
      timeoutMs,
      `${count} objects under '${prefix}'`,
    )
  }

  /** Resolves once `key` is listed (a complete object: s3proxy lists it once written). */
  async waitForKey(key: string, timeoutMs = 30_000): Promise<void> {
    await eventually(async () => ((await this.keys(key)).includes(key) ? true : undefined), timeoutMs, key)
  }

  async bytes(key: string): Promise<Uint8Array> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }))
    return await r.Body!.transformToByteArray()
  }

  async text(key: string): Promise<string> {
    const bytes = await this.bytes(key)
    return new TextDecoder().decode(key.endsWith('.gz') ? gunzipSync(bytes) : bytes)
  }

  /** The JSON documents of a JsonFormat object, one per line. */
  async jsonLines(key: string): Promise<unknown[]> {
    return (await this.text(key))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown)
  }

  async parquetRows(key: string): Promise<Record<string, unknown>[]> {
    const bytes = await this.bytes(key)
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    return (await parquetReadObjects({
      file,
      compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) },
    })) as Record<string, unknown>[]
  }

  async put(key: string, body: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body }))
  }

  async drop(): Promise<void> {
    for (const key of await this.keys())
      await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }))
    await this.client.send(new DeleteBucketCommand({ Bucket: this.name })).catch(() => {})
  }
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

export interface TestRecord {
  key?: string | Uint8Array | null
  value: string | Uint8Array | null
  partition?: number
  timestamp?: number
}

/** Creates the topic (when `partitions` is given) and produces the records to it on the test broker. */
export async function produce(topic: string, records: TestRecord[], partitions?: number): Promise<void> {
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': kafkaBootstrap() }), 's3-test')
  try {
    if (partitions !== undefined) await log.createTopics([{ name: topic, partitions, replicationFactor: 1 }])
    const producer = log.createProducer({ clientId: 's3-test-producer' })
    const toBytes = (v: string | Uint8Array | null | undefined) =>
      v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v)
    for (let i = 0; i < records.length; i += 5000) {
      await producer.send(
        records.slice(i, i + 5000).map((r) => ({
          topic,
          partition: r.partition ?? 0,
          key: toBytes(r.key),
          value: toBytes(r.value),
          timestamp: r.timestamp,
        })),
      )
    }
    await producer.close()
  } finally {
    await log.close()
  }
}

/** A JsonConverter envelope (schemas.enable=true) of a struct value. */
export function envelope(schema: object, payload: unknown): string {
  return JSON.stringify({ schema, payload })
}
