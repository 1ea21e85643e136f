/**
 * The Kafka producer's request discipline and the idempotent producer's rules (kafka-producer.ts,
 * produce-sender.ts), on a scripted broker that checks sequence numbers as Kafka does: a batch is
 * appended only when its sequence is the next one of its producer and partition; an earlier one is a
 * duplicate, a later one OUT_OF_ORDER_SEQUENCE_NUMBER. Requests are answered when a test says so,
 * in arrival order, or fail as scripted.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type Producer, Reader, readRecordsBatch } from '@platformatic/kafka'
import { ConnectError } from '../../src/api/errors.ts'
import { KafkaProducer, type KafkaProducerSettings } from '../../src/log/kafka/kafka-producer.ts'
import type { PartitionBatch, PartitionResult } from '../../src/log/kafka/produce-request.ts'
import type { ProduceMetadata, ProduceTransport } from '../../src/log/kafka/produce-sender.ts'

const OUT_OF_ORDER = 45
const DUPLICATE = 46
const NOT_LEADER = 6
const MESSAGE_TOO_LARGE = 10
const TRANSACTION_ABORTABLE = 120

interface Pending {
  batches: readonly PartitionBatch[]
  resolve(results: PartitionResult[]): void
  reject(error: unknown): void
}

class ScriptedBroker implements ProduceTransport {
  readonly pending: Pending[] = []
  /** Values appended per partition, in log order. */
  readonly log = new Map<number, string[]>()
  /** Error codes for the next batches processed (one per batch), 0 for none. */
  readonly failures: number[] = []
  readonly expected = new Map<string, number>()
  nextProducerId = 100n
  inits = 0
  requests = 0
  maxOutstanding = 0
  readonly sequences: number[] = []
  /** Produce version and the epoch of its first batch, per request. */
  readonly versions: number[] = []
  readonly epochs: number[] = []

  metadata(topics: readonly string[]): Promise<ProduceMetadata> {
    const partitions = [0, 1].map(() => ({ leader: 1 }))
    return Promise.resolve({
      topics: new Map(topics.map((t) => [t, { partitionsCount: 2, partitions }])),
      brokers: new Map([[1, { host: 'scripted', port: 9092 }]]),
    } as unknown as ProduceMetadata)
  }

  initProducerId(): Promise<{ producerId: bigint; producerEpoch: number }> {
    this.inits++
    return Promise.resolve({ producerId: this.nextProducerId++, producerEpoch: 0 })
  }

  produce(
    _m: ProduceMetadata,
    _leader: number,
    _t: string | null,
    batches: readonly PartitionBatch[],
    version: number,
  ) {
    this.requests++
    this.versions.push(version)
    this.epochs.push(readRecordsBatch(Reader.from(batches[0].bytes)).producerEpoch)
    const { promise, resolve, reject } = Promise.withResolvers<PartitionResult[]>()
    this.pending.push({ batches, resolve, reject })
    this.maxOutstanding = Math.max(this.maxOutstanding, this.pending.length)
    return promise
  }

  /** Answers the oldest outstanding request as Kafka would. */
  answer(): void {
    const request = this.pending.shift()!
    request.resolve(this.#process(request))
  }

  /** Processes the oldest outstanding request, but its answer is lost with the connection. */
  loseAnswer(): void {
    this.pending.unshift({ ...this.pending[0], resolve: () => {} })
    this.#process(this.pending.shift()!)
    this.disconnect()
  }

  #process(request: Pending): PartitionResult[] {
    return request.batches.map((b) => {
      const batch = readRecordsBatch(Reader.from(b.bytes))
      // Kafka keeps a producer's sequences per epoch: a new epoch starts again at 0.
      const key = `${batch.producerId}:${batch.producerEpoch}:${b.partition}`
      const log = this.log.get(b.partition) ?? []
      this.log.set(b.partition, log)
      const result = { topic: b.topic, partition: b.partition, logAppendTimeMs: -1, errorMessage: null }
      this.sequences.push(batch.firstSequence)
      const failure = this.failures.shift() ?? 0
      if (failure !== 0) return { ...result, errorCode: failure, baseOffset: -1 }
      const expected = this.expected.get(key) ?? 0
      if (batch.firstSequence < expected) return { ...result, errorCode: DUPLICATE, baseOffset: -1 }
      if (batch.firstSequence > expected) return { ...result, errorCode: OUT_OF_ORDER, baseOffset: -1 }
      this.expected.set(key, expected + batch.records.length)
      const baseOffset = log.length
      for (const r of batch.records) log.push(String(r.value))
      return { ...result, errorCode: 0, baseOffset }
    })
  }

  /** The connection breaks: every outstanding request fails. */
  disconnect(): void {
    for (const request of this.pending.splice(0)) {
      request.reject(Object.assign(new Error('Connection closed'), { code: 'PLT_KFK_NETWORK' }))
    }
  }
}

function producer(broker: ScriptedBroker, settings: KafkaProducerSettings = {}): KafkaProducer {
  const client = { close: async () => {} } as unknown as Producer
  return new KafkaProducer(client, ['scripted:9092'], { retryBackoffMs: 1, ...settings, transport: broker })
}

const record = (value: string, partition = 0) => ({
  topic: 't',
  partition,
  key: null,
  value: Buffer.from(value),
})

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, i < 100 ? 0 : 1))
  assert.ok(condition(), 'condition not reached')
}

/** Answers requests as they come until `done` settles. */
async function answerAll<T>(broker: ScriptedBroker, done: Promise<T>): Promise<T> {
  let settled = false
  const result = done.finally(() => {
    settled = true
  })
  result.catch(() => {})
  while (!settled) {
    if (broker.pending.length > 0) broker.answer()
    await new Promise((r) => setTimeout(r, 0))
  }
  return result
}

describe('KafkaProducer requests in flight', () => {
  test('with maxInFlight 1 the next request waits for the answer to the one before', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker, { maxInFlight: 1 })
    const first = p.send([record('a')])
    await until(() => broker.pending.length === 1)
    const second = p.send([record('b')])
    const third = p.send([record('c')])
    // Give the producer every chance to hand the queued calls over early.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r))
    assert.equal(broker.requests, 1, 'a second request went out while the first was unanswered')
    broker.answer()
    await until(() => broker.pending.length === 1)
    broker.answer()
    assert.deepEqual(
      (await Promise.all([first, second, third])).map((r) => r.map((m) => m.offset)),
      [[0], [1], [2]],
    )
    assert.deepEqual(
      broker.log.get(0),
      ['a', 'b', 'c'],
      'the calls queued meanwhile go out together, in order',
    )
    assert.equal(broker.requests, 2)
    assert.equal(broker.maxOutstanding, 1)
    await p.close()
  })

  test('by default several requests are outstanding at once', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker)
    const first = p.send([record('a')])
    await until(() => broker.pending.length === 1)
    const second = p.send([record('b')])
    await until(() => broker.pending.length === 2)
    broker.answer()
    broker.answer()
    await Promise.all([first, second])
    assert.equal(broker.maxOutstanding, 2)
    await p.close()
  })
})

describe('KafkaProducer idempotent retries', () => {
  test('a retriable failure is retried with the same sequence, and the batches behind it (OUT_OF_ORDER) after it, in order', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker)
    const calls = []
    for (const v of ['a', 'b', 'c']) {
      calls.push(p.send([record(v)]))
      await until(() => broker.requests === calls.length)
    }
    broker.failures.push(NOT_LEADER) // 'a' fails; 'b' and 'c' then arrive out of order
    broker.answer()
    broker.answer()
    broker.answer()
    const results = await answerAll(broker, Promise.all(calls))
    assert.deepEqual(
      results.map((r) => r[0].offset),
      [0, 1, 2],
    )
    assert.deepEqual(broker.log.get(0), ['a', 'b', 'c'])
    assert.deepEqual(broker.sequences, [0, 1, 2, 0, 1, 2])
    assert.equal(broker.inits, 1)
    await p.close()
  })

  test('a broken connection fails the requests in flight; they go out again in order, nothing twice', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker)
    const calls = [p.send([record('a'), record('x', 1)])]
    await until(() => broker.requests === 1)
    calls.push(p.send([record('b'), record('y', 1)]))
    await until(() => broker.requests === 2)
    broker.loseAnswer() // 'a' and 'x' are written, but the answer is lost with the connection
    const [first] = await answerAll(broker, Promise.all(calls))
    assert.deepEqual(broker.log.get(0), ['a', 'b'])
    assert.deepEqual(broker.log.get(1), ['x', 'y'])
    assert.deepEqual(
      first.map((m) => m.offset),
      [-1, -1],
      'the retried first request was a duplicate',
    )
    await p.close()
  })

  test('a batch written before whose answer was lost is a duplicate: it succeeds without an offset', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker)
    const call = p.send([record('a')])
    await until(() => broker.requests === 1)
    broker.expected.set('100:0:0', 1) // the broker already holds sequence 0 of this producer
    const [metadata] = await answerAll(broker, call)
    assert.equal(metadata.offset, -1)
    await p.close()
  })

  test('OUT_OF_ORDER for the oldest batch of a partition is fatal; the next send takes a new producer id', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker)
    const call = p.send([record('a')])
    await until(() => broker.requests === 1)
    broker.failures.push(OUT_OF_ORDER)
    broker.answer()
    await assert.rejects(
      call,
      (e: unknown) => e instanceof ConnectError && /OUT_OF_ORDER_SEQUENCE_NUMBER/.test(e.message),
    )
    const next = await answerAll(broker, p.send([record('b')]))
    assert.equal(next[0].offset, 0)
    assert.equal(broker.inits, 2)
    assert.deepEqual(broker.sequences, [0, 0])
    await p.close()
  })

  test('a non-retriable error fails the call with a non-retriable error, and the later batches of the partition with it', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker)
    const first = p.send([record('a')])
    await until(() => broker.requests === 1)
    const second = p.send([record('b')])
    await until(() => broker.requests === 2)
    broker.failures.push(MESSAGE_TOO_LARGE)
    broker.answer()
    broker.answer() // 'b' is out of order behind 'a', which failed for good
    for (const call of [first, second]) {
      await assert.rejects(
        call,
        (e: unknown) => e instanceof ConnectError && !e.retriable && /MESSAGE_TOO_LARGE/.test(e.message),
      )
    }
    assert.equal(broker.log.get(0)?.length ?? 0, 0)
    await p.close()
  })

  test('a retriable error past the delivery timeout fails the records with a retriable error', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker, { deliveryTimeoutMs: 30, retryBackoffMs: 20 })
    const call = p.send([record('a')])
    for (let i = 0; i < 5; i++) broker.failures.push(NOT_LEADER)
    await assert.rejects(
      answerAll(broker, call),
      (e: unknown) => e instanceof ConnectError && e.retriable && /NOT_LEADER_OR_FOLLOWER/.test(e.message),
    )
    await p.close()
  })

  test('a transactional batch lost past the delivery timeout fails for good: the task must claim its id again', async () => {
    const broker = new ScriptedBroker()
    const p = producer(broker, {
      deliveryTimeoutMs: 30,
      retryBackoffMs: 20,
      transaction: async () => ({
        transactionalId: 'tx-0',
        producerId: 7n,
        producerEpoch: 3,
        transactionsV2: false,
      }),
    })
    for (let i = 0; i < 5; i++) broker.failures.push(NOT_LEADER)
    const notRetriable = (e: unknown) =>
      e instanceof ConnectError && !e.retriable && /failed for good.*NOT_LEADER_OR_FOLLOWER/.test(e.message)
    await assert.rejects(answerAll(broker, p.send([record('a')])), notRetriable)
    // Same id and epoch after an abort and a begin: the partition stays refused, and says so.
    await assert.rejects(answerAll(broker, p.send([record('b')])), notRetriable)
    assert.deepEqual(new Set(broker.versions), new Set([9]), 'a v1 transaction never sends Produce v12')
    await p.close()
  })
})

describe('KafkaProducer on transactions v2', () => {
  /** A v2 transaction's identity; `epoch` moves as EndTxn v5 would move it. */
  function v2Producer(
    broker: ScriptedBroker,
    epoch: { value: number },
    settings: KafkaProducerSettings = {},
  ) {
    return producer(broker, {
      maxInFlight: 1,
      ...settings,
      transaction: async () => ({
        transactionalId: 'tx-0',
        producerId: 7n,
        producerEpoch: epoch.value,
        transactionsV2: true,
      }),
    })
  }

  test('batches go out as Produce v12; a new epoch starts every partition at sequence 0', async () => {
    const broker = new ScriptedBroker()
    const epoch = { value: 3 }
    const p = v2Producer(broker, epoch)
    await answerAll(broker, p.send([record('a'), record('x', 1)]))
    await answerAll(broker, p.send([record('b')]))
    epoch.value = 4 // the transaction ended: EndTxn v5 answered with the bumped epoch
    await answerAll(broker, p.send([record('c'), record('y', 1)]))
    assert.deepEqual(broker.versions, [12, 12, 12])
    assert.deepEqual(broker.epochs, [3, 3, 4])
    assert.deepEqual(broker.sequences, [0, 0, 1, 0, 0])
    assert.deepEqual(broker.log.get(0), ['a', 'b', 'c'])
    await p.close()
  })

  test('a batch lost past the delivery timeout dooms only its transaction: retriable, and the next epoch writes again', async () => {
    const broker = new ScriptedBroker()
    const epoch = { value: 3 }
    const p = v2Producer(broker, epoch, { deliveryTimeoutMs: 30, retryBackoffMs: 20 })
    for (let i = 0; i < 5; i++) broker.failures.push(NOT_LEADER)
    const abortable = (e: unknown) =>
      e instanceof ConnectError && e.retriable && /aborted.*sent again/.test(e.message)
    await assert.rejects(answerAll(broker, p.send([record('a')])), abortable)
    broker.failures.length = 0
    // Still the same epoch (the transaction was not aborted yet): the partition stays refused.
    const requests = broker.requests
    await assert.rejects(answerAll(broker, p.send([record('b')])), abortable)
    assert.equal(broker.requests, requests, 'nothing more was sent on the doomed epoch')
    epoch.value = 4 // aborted: EndTxn v5 bumped the epoch
    const [written] = await answerAll(broker, p.send([record('c')]))
    assert.equal(written.offset, 0)
    assert.deepEqual(broker.log.get(0), ['c'])
    assert.equal(broker.sequences.at(-1), 0)
    await p.close()
  })

  test('TRANSACTION_ABORTABLE is not retried as the same batch: the transaction must be aborted', async () => {
    const broker = new ScriptedBroker()
    const p = v2Producer(broker, { value: 3 })
    broker.failures.push(TRANSACTION_ABORTABLE)
    await assert.rejects(
      answerAll(broker, p.send([record('a')])),
      (e: unknown) => e instanceof ConnectError && e.retriable && /TRANSACTION_ABORTABLE/.test(e.message),
    )
    assert.equal(broker.requests, 1)
    await p.close()
  })

  test('a fenced producer stays fenced: PRODUCER_FENCED is not retriable', async () => {
    const broker = new ScriptedBroker()
    const p = v2Producer(broker, { value: 3 })
    broker.failures.push(90) // PRODUCER_FENCED
    await assert.rejects(
      answerAll(broker, p.send([record('a')])),
      (e: unknown) => e instanceof ConnectError && !e.retriable && /PRODUCER_FENCED/.test(e.message),
    )
    await p.close()
  })
})
