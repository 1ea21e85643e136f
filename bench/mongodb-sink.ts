/**
 * The MongoDB connectors' tasks against a MongoDB test server of its own (mongo-java-server 1.47.0,
 * in-memory, scripts/mongo.ts, port 27121; the sink's without an oplog), without Kafka:
 *
 * - sink: N records of the 10-field bet (bench/lib/bet-records.ts) as JsonConverter-with-schemas JSON
 *   are converted and handed to the sink task `--batch` per put, as the runtime would, with
 *   `FullKeyStrategy` + `ReplaceOneDefaultStrategy` (an upsert per record, by `{id}`). Prints records/s,
 *   the time inside `put`, and the process's peak RSS.
 * - source: `--source-records` documents inserted (insertMany of 1,000) while the source task polls a
 *   collection change stream; prints inserts/s from the first insert to the last record polled.
 *
 *   npx node bench/mongodb-sink.ts [--records 1000000] [--batch 500] [--source-records 100000]
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { MongoClient } from 'mongodb'
import { MongoTestServer } from '../scripts/mongo.ts'
import type { OffsetStorageReader, SinkTaskContext, SourceTaskContext } from '../src/api/connector.ts'
import { RetriableError } from '../src/api/errors.ts'
import { SinkRecord } from '../src/api/records.ts'
import { MongoSinkTask } from '../src/connectors/mongodb/sink/sink-task.ts'
import { MongoSourceTask } from '../src/connectors/mongodb/source/source-task.ts'
import { JsonConverter } from '../src/converters/json-converter.ts'
import { betPayload, KEY_SCHEMA, VALUE_SCHEMA } from './lib/bet-records.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '500' },
    'source-records': { type: 'string', default: '100000' },
  },
})
const N = Number(values.records)
const BATCH = Number(values.batch)
const SOURCE_N = Number(values['source-records'])
// Servers of their own: the sink's without an oplog (mongo-java-server keeps every write of it in
// memory, a million upserts' worth), the source's with one.
const stateDir = join(import.meta.dirname, '..', '.services', 'mongo-bench')
let server = new MongoTestServer({ port: 27121, stateDir, heap: '3g', oplog: false })
await server.stop('SIGKILL')
await server.start()
let uri = server.uri
let client = new MongoClient(uri)
const database = `bench_${process.pid}`

let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 100)

// Sink
{
  const keys = new JsonConverter()
  keys.configure({}, true)
  const vals = new JsonConverter()
  vals.configure({}, false)
  const context: SinkTaskContext = {
    configs: () => ({}),
    offset: () => {},
    timeout: () => {},
    assignment: () => [],
    pause: () => {},
    resume: () => {},
    requestCommit: () => {},
    errantRecordReporter: () => null,
  }
  const task = new MongoSinkTask()
  task.initialize(context)
  task.start({
    'connection.uri': uri,
    database,
    collection: 'bets',
    'document.id.strategy': 'com.mongodb.kafka.connect.sink.processor.id.strategy.FullKeyStrategy',
    'writemodel.strategy': 'com.mongodb.kafka.connect.sink.writemodel.strategy.ReplaceOneDefaultStrategy',
  })
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  let inPut = 0
  let retries = 0
  for (let from = 0; from < N; from += BATCH) {
    const batch: SinkRecord[] = []
    for (let id = from; id < Math.min(N, from + BATCH); id++) {
      const key = keys.toConnectData(
        'bench',
        Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { id } })),
      )
      const value = vals.toConnectData(
        'bench',
        Buffer.from(JSON.stringify({ schema: VALUE_SCHEMA, payload: betPayload(id) })),
      )
      batch.push(
        new SinkRecord({
          topic: 'bench',
          kafkaPartition: 0,
          kafkaOffset: id,
          keySchema: key.schema,
          key: key.value,
          valueSchema: value.schema,
          value: value.value,
        }),
      )
    }
    const t = performance.now()
    // As the runtime does: a retriable failure (the busy server missing a heartbeat) redelivers the batch.
    for (;;) {
      try {
        await task.put(batch)
        break
      } catch (error) {
        if (!(error instanceof RetriableError)) throw error
        retries++
        await new Promise((r) => setTimeout(r, 1000))
      }
    }
    inPut += performance.now() - t
    if ((from + BATCH) % 100_000 === 0)
      console.log(
        `  ${from + BATCH} records, ${Math.round((from + BATCH) / ((performance.now() - started) / 1000))} records/s so far`,
      )
  }
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  await task.stop()
  const count = await client.db(database).collection('bets').countDocuments()
  console.log(
    `sink: ${N} records (${count} documents) in ${seconds.toFixed(1)} s = ${Math.round(N / seconds)} records/s; ` +
      `put ${(inPut / 1000).toFixed(1)} s (${Math.round(N / (inPut / 1000))} records/s inside put); ` +
      `${retries} batches redelivered; bench process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; peak RSS ${Math.round(peakRss / 2 ** 20)} MiB; load ${loadavg()[0]!.toFixed(2)}`,
  )
}

// Source
await client.close()
await server.stop()
server = new MongoTestServer({ port: 27121, stateDir, heap: '1g' })
await server.start()
uri = server.uri
client = new MongoClient(uri)
{
  const reader: OffsetStorageReader = {
    offset: async () => null,
    offsets: async (ps) => new Map(ps.map((p) => [p, null])),
  }
  const context: SourceTaskContext = { configs: () => ({}), offsetStorageReader: () => reader }
  const task = new MongoSourceTask()
  task.initialize(context)
  task.start({ 'connection.uri': uri, database, collection: 'events', 'poll.await.time.ms': '200' })
  await task.poll() // opens the stream at "now"
  const coll = client.db(database).collection('events')
  const started = performance.now()
  const inserting = (async () => {
    for (let from = 0; from < SOURCE_N; from += 1000) {
      await coll.insertMany(
        Array.from({ length: Math.min(1000, SOURCE_N - from) }, (_, i) => ({
          _id: from + i,
          ...betPayload(from + i),
        })) as never[],
      )
    }
  })()
  let received = 0
  const deadline = Date.now() + 600_000
  while (received < SOURCE_N && Date.now() < deadline) received += (await task.poll())?.length ?? 0
  await inserting
  const seconds = (performance.now() - started) / 1000
  await task.stop()
  console.log(
    `source: ${received} of ${SOURCE_N} inserts streamed in ${seconds.toFixed(1)} s = ${Math.round(received / seconds)} inserts/s; load ${loadavg()[0]!.toFixed(2)}`,
  )
}

clearInterval(sampler)
await client.db(database).dropDatabase()
await client.close()
await server.stop()
