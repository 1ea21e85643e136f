/**
 * Where an exactly-once source transaction spends its time: the log's transactional producer alone
 * (no worker), on the test broker, sends `--transactions` transactions of `--batch` × 200 B records
 * into a 3-partition topic plus one offset record into a 5-partition offsets topic (what a
 * FileStreamSource task's `transaction.boundary=poll` transaction holds), and reports per step
 * (begin, send, commit) the median and p99 time, and every request the client made to the broker per
 * transaction (counted on @platformatic/kafka's `connections:api` diagnostics channel), against the
 * same batches sent by the idempotent producer without transactions.
 *
 *   npx node bench/exactly-once-steps.ts [--transactions 200] [--batch 2000]
 */
import { randomUUID } from 'node:crypto'
import diagnosticsChannel from 'node:diagnostics_channel'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { createKafkaLog } from '../src/log/kafka/kafka-log.ts'
import type { ProduceRecord } from '../src/log/log.ts'
import { machineInfo } from './lib/machine.ts'
import { median } from './lib/stats.ts'

const { values: args } = parseArgs({
  options: {
    transactions: { type: 'string', default: '200' },
    batch: { type: 'string', default: '2000' },
    bootstrap: { type: 'string', default: process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092' },
  },
})
const transactions = Number(args.transactions)
const batchSize = Number(args.batch)
const prefix = `eos-steps-${randomUUID().slice(0, 8)}`
const topic = `${prefix}-out`
const offsetsTopic = `${prefix}-offsets`
const log = createKafkaLog({ bootstrapServers: [args.bootstrap], clientId: prefix })

/** Kafka API keys of the requests counted. */
const API_NAMES: Record<number, string> = {
  0: 'Produce',
  3: 'Metadata',
  18: 'ApiVersions',
  10: 'FindCoordinator',
  22: 'InitProducerId',
  24: 'AddPartitionsToTxn',
  25: 'AddOffsetsToTxn',
  26: 'EndTxn',
}
const requests = new Map<string, number>()
diagnosticsChannel.tracingChannel('plt:kafka:connections:api').subscribe({
  start(message) {
    const name =
      API_NAMES[(message as { apiKey: number }).apiKey] ?? `api ${(message as { apiKey: number }).apiKey}`
    requests.set(name, (requests.get(name) ?? 0) + 1)
  },
  end() {},
  asyncStart() {},
  asyncEnd() {},
  error() {},
})

const value = Buffer.alloc(200, 'x')
function batch(n: number): ProduceRecord[] {
  return Array.from({ length: batchSize }, (_, i) => ({
    topic,
    key: null,
    value,
    timestamp: n * batchSize + i,
  }))
}
const offsetRecord = (n: number): ProduceRecord => ({
  topic: offsetsTopic,
  key: Buffer.from(`["${prefix}",{"filename":"in"}]`),
  value: Buffer.from(`{"position":${n}}`),
})

const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))]
const ms = (xs: number[]) => `median ${median(xs).toFixed(2)} ms, p99 ${p99(xs).toFixed(2)} ms`
const perTransaction = () =>
  [...requests].map(([name, count]) => `${name} ${(count / transactions).toFixed(2)}`).join(', ')

try {
  await log.createTopics([
    { name: topic, partitions: 3, replicationFactor: 1 },
    { name: offsetsTopic, partitions: 5, replicationFactor: 1 },
  ])
  const m = machineInfo()
  console.log(`${m.cpu}, ${m.cores} cores, ${m.node}; load avg ${loadavg()[0].toFixed(2)}`)

  const plain = log.createProducer({ clientId: `${prefix}-plain` })
  await plain.send(batch(0))
  requests.clear()
  const sends: number[] = []
  let started = performance.now()
  for (let n = 1; n <= transactions; n++) {
    const t = performance.now()
    await plain.send([...batch(n), offsetRecord(n)])
    sends.push(performance.now() - t)
  }
  let seconds = (performance.now() - started) / 1000
  console.log(
    `idempotent, one batch at a time: ${Math.round((transactions * batchSize) / seconds)} records/s; send ${ms(sends)}; requests per batch: ${perTransaction()}`,
  )
  await plain.close()

  const producer = log.createTransactionalProducer!({ clientId: `${prefix}-txn`, transactionalId: prefix })
  await producer.init()
  requests.clear()
  const steps = { begin: [] as number[], send: [] as number[], commit: [] as number[] }
  started = performance.now()
  for (let n = 1; n <= transactions; n++) {
    let t = performance.now()
    await producer.begin()
    steps.begin.push(performance.now() - t)
    t = performance.now()
    await producer.send([...batch(n), offsetRecord(n)])
    steps.send.push(performance.now() - t)
    t = performance.now()
    await producer.commit()
    steps.commit.push(performance.now() - t)
  }
  seconds = (performance.now() - started) / 1000
  const version = (producer as { transactionVersion?: number }).transactionVersion
  console.log(
    `transactional${version === undefined ? '' : ` (transactions v${version})`}, one transaction per batch: ${Math.round((transactions * batchSize) / seconds)} records/s; requests per transaction: ${perTransaction()}`,
  )
  for (const [step, xs] of Object.entries(steps)) console.log(`  ${step.padEnd(6)} ${ms(xs)}`)
  console.log(`load avg at end ${loadavg()[0].toFixed(2)}`)
  await producer.close()
} finally {
  await log.deleteTopics([topic, offsetsTopic]).catch(() => {})
  await log.close()
}
