/**
 * S3 sink throughput: 1,000,000 records from a 12-partition Kafka topic into s3proxy (filesystem
 * store on loopback), as JSON and as Parquet, through a Sluice standalone worker (one task):
 *
 *   json      JsonFormat, schemaless JSON values of 200 bytes (JsonConverter, schemas.enable=false)
 *   parquet   ParquetFormat (snappy), the same 200-byte payloads as Struct records (JsonConverter
 *             envelopes with the schema inline, about 520 bytes on the wire)
 *
 *   npx node bench/s3-sink.ts [--records 1000000] [--partitions 12] [--cases json,parquet] [--keep]
 *
 * Sink keys: Confluent's defaults (s3.part.size 25 MiB) with flush.size=10000 and
 * rotate.schedule.interval.ms=1000 so the last partial files close within a second. Progress is read
 * from the bucket: the sum over partitions of the commit markers' endOffset+1, i.e. records in
 * complete objects. Throughput = records / (first committed rotation → all committed); also from
 * spawn. Worker CPU and peak RSS are of the worker's process tree. Prints a Markdown table and writes
 * the JSON to bench/out/s3-sink-<time>.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { ensureKafka } from '../scripts/kafka.ts'
import { ensureS3proxy } from '../scripts/s3proxy.ts'
import { freePort } from './lib/cases.ts'
import { machineInfo } from './lib/machine.ts'
import { writeProperties } from './lib/properties-file.ts'
import { sluiceRevision } from './lib/revision.ts'
import { startSluiceStandalone } from './lib/sluice.ts'
import { round } from './lib/stats.ts'
import { createTopics, deleteTopics, produceRecords } from './lib/topics.ts'
import { measureDrain } from './lib/worker-process.ts'

const CASES = ['json', 'parquet'] as const
type CaseName = (typeof CASES)[number]

const SCHEMA = {
  type: 'struct',
  name: 'bench.Event',
  optional: false,
  fields: [
    { field: 'seq', type: 'int64', optional: false },
    { field: 'at', type: 'int64', optional: false },
    { field: 'kind', type: 'string', optional: false },
    { field: 'payload', type: 'string', optional: false },
  ],
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

/** A 200-byte JSON object for record `seq`. */
function payload(seq: number): string {
  const head = `{"seq":${seq},"at":${1_700_000_000_000 + seq},"kind":"k${seq % 7}","payload":"`
  return `${head}${'x'.repeat(200 - head.length - 2)}"}`
}

async function produce(
  bootstrap: string,
  topic: string,
  records: number,
  partitions: number,
  withSchema: boolean,
): Promise<void> {
  const schemaHead = `{"schema":${JSON.stringify(SCHEMA)},"payload":`
  const ms = await produceRecords(bootstrap, 'bench-s3-producer', records, (seq) => ({
    topic,
    partition: seq % partitions,
    key: null,
    value: Buffer.from(withSchema ? `${schemaHead}${payload(seq)}}` : payload(seq)),
  }))
  log(`produced ${records} records to ${topic} in ${round(ms / 1000, 1)} s`)
}

/** Records in complete objects: the sum of the commit markers' endOffset + 1. */
async function committedRecords(client: S3Client, bucket: string): Promise<number> {
  const listed = await client.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: 'topics/_sluice/commits/' }),
  )
  let total = 0
  for (const o of listed.Contents ?? []) {
    try {
      const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))
      total += (JSON.parse(await body.Body!.transformToString()) as { endOffset: number }).endOffset + 1
    } catch {
      // s3proxy's filesystem store replaces an object by delete and rename: read it at the next poll.
      return -1
    }
  }
  return total
}

interface CaseResult {
  case: CaseName
  loadAverageAtStart: number
  records?: number
  objects?: number
  firstCommitMs?: number
  lastCommitMs?: number
  recordsPerSecond?: number
  recordsPerSecondFromSpawn?: number
  peakRssMiB?: number
  cpuSeconds?: number
  error?: string
}

async function runCase(
  name: CaseName,
  o: {
    bootstrap: string
    s3: string
    client: S3Client
    records: number
    partitions: number
    dir: string
    timeoutMs: number
  },
): Promise<CaseResult> {
  const result: CaseResult = { case: name, loadAverageAtStart: round(loadavg()[0]!, 2) }
  const topic = `bench-s3-${name}-${Date.now().toString(36)}`
  const bucket = topic
  await o.client.send(new CreateBucketCommand({ Bucket: bucket }))
  await createTopics(o.bootstrap, [topic], o.partitions)
  const cwd = join(o.dir, name)
  mkdirSync(cwd, { recursive: true })
  try {
    await produce(o.bootstrap, topic, o.records, o.partitions, name === 'parquet')
    const port = await freePort()
    const file = writeProperties(join(cwd, 'sink.properties'), {
      name: topic,
      'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
      'storage.class': 'io.confluent.connect.s3.storage.S3Storage',
      'tasks.max': 1,
      topics: topic,
      's3.bucket.name': bucket,
      'store.url': o.s3,
      'aws.access.key.id': 'bench',
      'aws.secret.access.key': 'bench',
      'format.class':
        name === 'json'
          ? 'io.confluent.connect.s3.format.json.JsonFormat'
          : 'io.confluent.connect.s3.format.parquet.ParquetFormat',
      'flush.size': 10_000,
      'rotate.schedule.interval.ms': 1000,
      timezone: 'UTC',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': name === 'parquet' ? 'true' : 'false',
    })
    const worker = startSluiceStandalone({
      cwd,
      worker: {
        'bootstrap.servers': o.bootstrap,
        'offset.storage.file.filename': join(cwd, 'connect.offsets'),
        'offset.flush.interval.ms': 10_000,
        listeners: `http://127.0.0.1:${port}`,
      },
      connectorFiles: [file],
    })
    try {
      const drain = await measureDrain(worker, port, {
        count: () => committedRecords(o.client, bucket),
        target: o.records,
        timeoutMs: o.timeoutMs,
        pollMs: 250,
        unit: 'records',
      })
      Object.assign<CaseResult, Partial<CaseResult>>(result, {
        records: drain.count,
        firstCommitMs: drain.firstMs,
        lastCommitMs: drain.lastMs,
        recordsPerSecond: drain.perSecond,
        recordsPerSecondFromSpawn: drain.perSecondFromSpawn,
        cpuSeconds: drain.cpuSeconds,
        peakRssMiB: drain.peakRssMiB,
      })
      if (drain.lastMs === undefined) throw new Error(`timed out with ${drain.count}/${o.records} records`)
      let objects = 0
      let token: string | undefined
      do {
        const page = await o.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: `topics/${topic}/`, ContinuationToken: token }),
        )
        objects += page.KeyCount ?? 0
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      result.objects = objects
      log(
        `${name}: ${result.records} records, ${result.recordsPerSecond} records/s, peak RSS ${result.peakRssMiB} MiB`,
      )
    } finally {
      await worker.stop()
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error)
    log(`${name} failed: ${result.error.split('\n')[0]}`)
  } finally {
    await deleteTopics(o.bootstrap, [topic])
  }
  return result
}

function table(results: CaseResult[]): string {
  const n = (v: number | undefined) => (v === undefined ? '–' : v.toLocaleString('en-US'))
  const s = (ms: number | undefined) => (ms === undefined ? '–' : (ms / 1000).toFixed(1))
  return [
    '| case | records committed | objects | records/s first→last commit | records/s from spawn | spawn→last commit (s) | worker CPU (s) | peak RSS (MiB) | load avg at start |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.case}${r.error ? ` (failed: ${r.error.split('\n')[0]})` : ''} | ${n(r.records)} | ${n(r.objects)} | ${n(r.recordsPerSecond)} | ${n(r.recordsPerSecondFromSpawn)} | ${s(r.lastCommitMs)} | ${r.cpuSeconds ?? '–'} | ${r.peakRssMiB ?? '–'} | ${r.loadAverageAtStart} |`,
    ),
  ].join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '12' },
      cases: { type: 'string', default: CASES.join(',') },
      'timeout-ms': { type: 'string', default: '900000' },
      keep: { type: 'boolean', default: false },
    },
  })
  const cases = values.cases.split(',').map((c) => c.trim()) as CaseName[]
  for (const c of cases)
    if (!CASES.includes(c)) throw new Error(`unknown case '${c}'; choose from ${CASES.join(', ')}`)
  const { bootstrap } = await ensureKafka()
  const { url: s3 } = await ensureS3proxy()
  const client = new S3Client({
    endpoint: s3,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  })
  const dir = join(import.meta.dirname, 'out', `s3-sink-${Date.now().toString(36)}`)
  mkdirSync(dir, { recursive: true })
  const results: CaseResult[] = []
  try {
    for (const name of cases) {
      log(`case ${name} (load average ${loadavg()[0]!.toFixed(2)})`)
      results.push(
        await runCase(name, {
          bootstrap,
          s3,
          client,
          records: Number(values.records),
          partitions: Number(values.partitions),
          dir,
          timeoutMs: Number(values['timeout-ms']),
        }),
      )
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
    client.destroy()
  }
  const report = {
    benchmark: 's3-sink',
    at: new Date().toISOString(),
    records: Number(values.records),
    partitions: Number(values.partitions),
    machine: machineInfo(),
    revision: sluiceRevision(),
    loadAverageAtEnd: loadavg().map((v) => round(v, 2)),
    results,
  }
  mkdirSync(join(import.meta.dirname, 'out'), { recursive: true })
  const out = join(import.meta.dirname, 'out', `s3-sink-${report.at.replaceAll(':', '-')}.json`)
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  console.log(table(results))
  log(`wrote ${out}`)
}

await main()
