/**
 * [integration] Transactions on a real broker (KIP-98, used by exactly-once sources, KIP-618): what a
 * `read_committed` consumer sees of committed and aborted transactions, and fencing — a producer whose
 * transactional id was claimed again (by a newer instance, or by `fenceProducers`) can no longer
 * commit, and its records never become visible.
 *
 * Every test runs on both protocols: transactions v2 (KIP-890) on the shared Kafka 4.x broker, which
 * finalizes `transaction.version=2` by default, and transactions v1 on a broker of the file's own
 * formatted with `transaction.version=1`.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import diagnosticsChannel from 'node:diagnostics_channel'
import { after, before, describe, test } from 'node:test'
import { Connection, NetworkError, Producer } from '@platformatic/kafka'
import { ConnectError } from '../../src/api/errors.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { KafkaTransactionalProducer } from '../../src/log/kafka/kafka-transactional-producer.ts'
import { clientTransport, type ProduceTransport } from '../../src/log/kafka/produce-sender.ts'
import { type Log, type LogRecord, tpKey } from '../../src/log/log.ts'
import { ownBroker } from '../chaos/services.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

const skip = kafkaSkipReason()

async function readAll(
  log: Log,
  topic: string,
  isolationLevel: 'read_committed' | 'read_uncommitted',
  expected: number,
  waitMs = 10_000,
): Promise<string[]> {
  const consumer = log.createConsumer({
    groupId: `tx-reader-${randomUUID()}`,
    clientId: 'tx-reader',
    isolationLevel,
  })
  try {
    await consumer.assign([{ topic, partition: 0 }])
    consumer.seek({ topic, partition: 0 }, 0)
    const seen: LogRecord[] = []
    const deadline = Date.now() + waitMs
    while (Date.now() < deadline && seen.length < expected) seen.push(...(await consumer.poll(200)))
    // A little longer: anything beyond the expected records would be a failure too.
    for (let i = 0; i < 3; i++) seen.push(...(await consumer.poll(200)))
    return seen.map((r) => Buffer.from(r.value ?? []).toString())
  } finally {
    await consumer.close()
  }
}

const values = (...v: string[]) => v.map((value) => ({ key: null, value: Buffer.from(value) }))

const END_TXN = 26
const ADD_PARTITIONS_TO_TXN = 24

type ConnectionSend = (apiKey: number, ...rest: unknown[]) => void

/**
 * Replaces `Connection.send` for EndTxn requests (the client's and ours) while `during` runs:
 * `fail` decides per EndTxn whether it fails before it is sent, or is sent and its answer is lost.
 */
async function withEndTxn<T>(
  fail: (n: number) => 'before' | 'answer-lost' | null,
  during: () => Promise<T>,
): Promise<T> {
  const proto = Connection.prototype as unknown as { send: ConnectionSend }
  const send = proto.send
  let n = 0
  proto.send = function (this: unknown, apiKey: number, ...rest: unknown[]) {
    const how = apiKey === END_TXN ? fail(n++) : null
    const callback = rest.at(-1) as (error: Error | null, response?: unknown) => void
    if (how === 'before') {
      callback(new NetworkError('Connection closed (injected before the EndTxn was sent)'))
      return
    }
    if (how === 'answer-lost') {
      send.call(this, apiKey, ...rest.slice(0, -1), () =>
        callback(new NetworkError('Connection closed (injected: the EndTxn answer was lost)')),
      )
      return
    }
    send.call(this, apiKey, ...rest)
  }
  try {
    return await during()
  } finally {
    proto.send = send
  }
}

/** Counts the requests of each API key made while `during` runs. */
async function countRequests(during: () => Promise<void>): Promise<Map<number, number>> {
  const counts = new Map<number, number>()
  const channel = diagnosticsChannel.tracingChannel('plt:kafka:connections:api')
  const subscriber = {
    start(message: unknown) {
      const { apiKey } = message as { apiKey: number }
      counts.set(apiKey, (counts.get(apiKey) ?? 0) + 1)
    },
    end() {},
    asyncStart() {},
    asyncEnd() {},
    error() {},
  }
  channel.subscribe(subscriber)
  try {
    await during()
  } finally {
    channel.unsubscribe(subscriber)
  }
  return counts
}

function transactionTests(version: 1 | 2, bootstrap: () => string) {
  let log: Log
  const topic = `tx-v${version}-${randomUUID().slice(0, 8)}`
  const create = (clientId: string, transactionalId: string) =>
    log.createTransactionalProducer!({ clientId, transactionalId }) as KafkaTransactionalProducer

  before(async () => {
    log = createKafkaLog({ bootstrapServers: [bootstrap()], clientId: 'tx-test' })
    await log.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
  })

  after(async () => {
    await log?.deleteTopics([topic]).catch(() => {})
    await log?.close()
  })

  test(`the producer speaks transactions v${version} with this broker`, async () => {
    const versionTopic = `${topic}-version`
    await log.createTopics([{ name: versionTopic, partitions: 1, replicationFactor: 1 }])
    const producer = create('tx-version', `tx-version-${randomUUID()}`)
    await producer.init()
    await producer.begin()
    assert.equal(producer.transactionVersion, version)
    const counts = await countRequests(async () => {
      for (let i = 0; i < 3; i++) {
        if (i > 0) await producer.begin()
        await producer.send(values(`v${i}`).map((r) => ({ ...r, topic: versionTopic })))
        await producer.commit()
      }
    })
    await producer.close()
    await log.deleteTopics([versionTopic]).catch(() => {})
    if (version === 2) {
      // No AddPartitionsToTxn (the Produce request adds the partition), and exactly one EndTxn each.
      assert.equal(counts.get(ADD_PARTITIONS_TO_TXN) ?? 0, 0)
      assert.equal(counts.get(END_TXN), 3, 'one EndTxn per transaction')
    } else {
      // The client's AddPartitionsToTxn for every transaction (retried after CONCURRENT_TRANSACTIONS).
      assert.ok(
        (counts.get(ADD_PARTITIONS_TO_TXN) ?? 0) >= 3,
        `AddPartitionsToTxn ${counts.get(ADD_PARTITIONS_TO_TXN)}`,
      )
      assert.ok((counts.get(END_TXN) ?? 0) >= 3, `EndTxn ${counts.get(END_TXN)}`)
    }
  })

  test('read_committed skips aborted transactions and markers; read_uncommitted sees everything', async () => {
    const producer = create('tx', `tx-${randomUUID()}`)
    await producer.init()
    await producer.begin()
    await producer.send(values('a1', 'a2').map((r) => ({ ...r, topic })))
    await producer.commit()
    await producer.begin()
    await producer.send(values('x1', 'x2', 'x3').map((r) => ({ ...r, topic })))
    await producer.abort()
    await producer.begin()
    await producer.send(values('b1').map((r) => ({ ...r, topic })))
    await producer.commit()
    await producer.close()
    assert.deepEqual(await readAll(log, topic, 'read_committed', 3), ['a1', 'a2', 'b1'])
    assert.deepEqual(await readAll(log, topic, 'read_uncommitted', 6), ['a1', 'a2', 'x1', 'x2', 'x3', 'b1'])
    // The end a read_committed reader waits for is the last stable offset: nothing is open here.
    const [end, stable] = await Promise.all([
      log.endOffsets([{ topic, partition: 0 }]),
      log.endOffsets([{ topic, partition: 0 }], true),
    ])
    assert.deepEqual(stable, end)
  })

  test('a newer producer with the same transactional id fences the older one, whose open transaction is aborted', async () => {
    const fencedTopic = `${topic}-fenced`
    await log.createTopics([{ name: fencedTopic, partitions: 1, replicationFactor: 1 }])
    const id = `tx-zombie-${randomUUID()}`
    const zombie = create('zombie', id)
    await zombie.init()
    await zombie.begin()
    await zombie.send(values('zombie-1').map((r) => ({ ...r, topic: fencedTopic })))
    // The last stable offset stays before the open transaction.
    assert.equal(
      (await log.endOffsets([{ topic: fencedTopic, partition: 0 }], true)).get(
        tpKey({ topic: fencedTopic, partition: 0 }),
      ),
      0,
    )

    const successor = create('successor', id)
    await successor.init()
    await assert.rejects(
      async () => {
        await zombie.send(values('zombie-2').map((r) => ({ ...r, topic: fencedTopic })))
        await zombie.commit()
      },
      (error: Error) => /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced/i.test(error.message),
    )
    await successor.begin()
    await successor.send(values('successor').map((r) => ({ ...r, topic: fencedTopic })))
    await successor.commit()
    await Promise.all([zombie.close().catch(() => {}), successor.close()])
    assert.deepEqual(await readAll(log, fencedTopic, 'read_committed', 1), ['successor'])
    await log.deleteTopics([fencedTopic]).catch(() => {})
  })

  test('an abort that never reached the broker is retried: the records sent before it never become visible', async () => {
    // A blip (a broker restart) can fail the EndTxn of an abort before the coordinator gets it: the
    // transaction stays open there. If the producer forgot it and began another, AddPartitionsToTxn
    // would join that same open transaction, and the next commit would make the records sent
    // before the abort visible too: the exactly-once runner, which sends them again, would write
    // them twice.
    const blipTopic = `${topic}-blip`
    await log.createTopics([{ name: blipTopic, partitions: 1, replicationFactor: 1 }])
    const producer = create('blip', `tx-blip-${randomUUID()}`)
    await producer.init()
    await producer.begin()
    await producer.send(values('first-attempt').map((r) => ({ ...r, topic: blipTopic })))
    // Every EndTxn fails before it is sent, past the client's own retries.
    await withEndTxn(
      () => 'before',
      () =>
        assert.rejects(
          () => producer.abort(),
          (error: ConnectError) => error.retriable === true,
        ),
    )
    await assert.rejects(() => producer.begin(), /already open/)
    // What the runner does after a failed abort: abort again until it is done, then resend in a new one.
    await producer.abort()
    await producer.begin()
    await producer.send(values('resent').map((r) => ({ ...r, topic: blipTopic })))
    await producer.commit()
    await producer.close()
    assert.deepEqual(await readAll(log, blipTopic, 'read_committed', 1), ['resent'])
    await log.deleteTopics([blipTopic]).catch(() => {})
  })

  test('fenceProducers fences a producer holding the id, as Admin.fenceProducers does', async () => {
    const fencedTopic = `${topic}-admin`
    await log.createTopics([{ name: fencedTopic, partitions: 1, replicationFactor: 1 }])
    const id = `tx-admin-${randomUUID()}`
    const producer = create('fenced', id)
    await producer.init()
    await producer.begin()
    await producer.send(values('never').map((r) => ({ ...r, topic: fencedTopic })))
    await log.fenceProducers!([id])
    await assert.rejects(() => producer.commit(), /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced/i)
    await producer.close().catch(() => {})
    assert.deepEqual(await readAll(log, fencedTopic, 'read_committed', 0, 2000), [])
    await log.deleteTopics([fencedTopic]).catch(() => {})
  })

  test('a commit whose answer was lost is retried and counts once; the next transactions go on', async () => {
    // Under v2 the coordinator bumped the epoch with the first attempt: it answers the retry (one
    // epoch below its own) with success and the new epoch, which the next transaction must use.
    const lostTopic = `${topic}-lost`
    await log.createTopics([{ name: lostTopic, partitions: 1, replicationFactor: 1 }])
    const producer = create('lost', `tx-lost-${randomUUID()}`)
    await producer.init()
    await producer.begin()
    await producer.send(values('once').map((r) => ({ ...r, topic: lostTopic })))
    await withEndTxn(
      (n) => (n === 0 ? 'answer-lost' : null),
      () => producer.commit(),
    )
    for (const value of ['next', 'last']) {
      await producer.begin()
      await producer.send(values(value).map((r) => ({ ...r, topic: lostTopic })))
      await producer.commit()
    }
    await producer.close()
    assert.deepEqual(await readAll(log, lostTopic, 'read_committed', 3), ['once', 'next', 'last'])
    await log.deleteTopics([lostTopic]).catch(() => {})
  })

  test('after an abort the next transaction writes from a clean state; nothing of the aborted one shows', async () => {
    const abortTopic = `${topic}-abort`
    await log.createTopics([{ name: abortTopic, partitions: 2, replicationFactor: 1 }])
    const producer = create('abort', `tx-abort-${randomUUID()}`)
    await producer.init()
    for (let round = 0; round < 3; round++) {
      await producer.begin()
      await producer.send(
        values(`a${round}`, `b${round}`).map((r, i) => ({ ...r, topic: abortTopic, partition: i })),
      )
      await producer.abort()
      await producer.begin()
      await producer.send(
        values(`c${round}`, `d${round}`).map((r, i) => ({ ...r, topic: abortTopic, partition: i })),
      )
      await producer.commit()
    }
    // A transaction nothing was sent in ends without a request (v2: the coordinator refuses to commit one).
    await producer.begin()
    await producer.commit()
    await producer.close()
    const read = async (partition: number) => {
      const consumer = log.createConsumer({
        groupId: `tx-reader-${randomUUID()}`,
        clientId: 'tx-reader',
        isolationLevel: 'read_committed',
      })
      try {
        await consumer.assign([{ topic: abortTopic, partition }])
        consumer.seek({ topic: abortTopic, partition }, 0)
        const seen: string[] = []
        const deadline = Date.now() + 10_000
        while (Date.now() < deadline && seen.length < 3)
          for (const r of await consumer.poll(200)) seen.push(Buffer.from(r.value ?? []).toString())
        return seen
      } finally {
        await consumer.close()
      }
    }
    assert.deepEqual(await read(0), ['c0', 'c1', 'c2'])
    assert.deepEqual(await read(1), ['d0', 'd1', 'd2'])
    await log.deleteTopics([abortTopic]).catch(() => {})
  })

  test(
    version === 2
      ? 'a batch lost past the delivery timeout (written, its answer lost) dooms only its transaction: aborted, sent again, read once'
      : 'a batch lost past the delivery timeout fails for good: the task must claim its id again',
    async () => {
      const lostTopic = `${topic}-timeout`
      await log.createTopics([{ name: lostTopic, partitions: 1, replicationFactor: 1 }])
      // The produce path's requests through a transport that can lose an answer and then refuse
      // the batch's retries (NOT_LEADER_OR_FOLLOWER) until its delivery timeout has passed.
      const helper = new Producer({ clientId: 'tx-timeout-transport', bootstrapBrokers: [bootstrap()] })
      const inner = clientTransport(helper, 30_000)
      let mode: 'pass' | 'lose' | 'refuse' = 'pass'
      const transport: ProduceTransport = {
        metadata: (topics, refresh) => inner.metadata(topics, refresh),
        initProducerId: () => inner.initProducerId(),
        async produce(metadata, leader, transactionalId, batches, produceVersion) {
          if (mode === 'refuse') {
            return batches.map((b) => ({
              topic: b.topic,
              partition: b.partition,
              errorCode: 6, // NOT_LEADER_OR_FOLLOWER
              baseOffset: -1,
              logAppendTimeMs: -1,
              errorMessage: null,
            }))
          }
          const results = await inner.produce(metadata, leader, transactionalId, batches, produceVersion)
          if (mode === 'lose') {
            mode = 'refuse'
            throw new NetworkError('Connection closed (injected: the Produce answer was lost)')
          }
          return results
        },
      }
      const timeoutLog = createKafkaLog({
        bootstrapServers: [bootstrap()],
        clientId: 'tx-timeout',
        producer: { transport, deliveryTimeoutMs: 400, retryBackoffMs: 50 },
      })
      try {
        const producer = timeoutLog.createTransactionalProducer!({
          clientId: 'timeout',
          transactionalId: `tx-timeout-${randomUUID()}`,
        })
        await producer.init()
        await producer.begin()
        await producer.send(values('before').map((r) => ({ ...r, topic: lostTopic })))
        mode = 'lose'
        const failure = await producer.send(values('lost').map((r) => ({ ...r, topic: lostTopic }))).then(
          () => assert.fail('the lost batch was reported written'),
          (error: unknown) => error,
        )
        assert.ok(failure instanceof ConnectError, String(failure))
        mode = 'pass'
        if (version === 1) {
          assert.equal(failure.retriable, false, failure.message)
          assert.match(failure.message, /restart the task/)
          await producer.abort()
          await producer.close()
          return
        }
        assert.equal(failure.retriable, true, failure.message)
        // What the runner does: abort (the epoch moves on), then send the transaction again.
        await producer.abort()
        await producer.begin()
        await producer.send(values('before', 'lost').map((r) => ({ ...r, topic: lostTopic })))
        await producer.commit()
        await producer.close()
        assert.deepEqual(await readAll(log, lostTopic, 'read_committed', 2), ['before', 'lost'])
        // The lost batch was written, under the aborted epoch.
        assert.deepEqual(await readAll(log, lostTopic, 'read_uncommitted', 4), [
          'before',
          'lost',
          'before',
          'lost',
        ])
      } finally {
        await timeoutLog.close()
        await helper.close()
        await log.deleteTopics([lostTopic]).catch(() => {})
      }
    },
  )
}

describe('[integration] Kafka transactions v2 (the shared broker)', { skip, timeout: 120_000 }, () => {
  transactionTests(2, kafkaBootstrap)
})

describe('[integration] Kafka transactions v1 (a broker formatted with transaction.version=1)', {
  skip,
  timeout: 300_000,
}, () => {
  let broker: Awaited<ReturnType<typeof ownBroker>> | undefined
  before(async () => {
    broker = await ownBroker({ features: { 'transaction.version': 1 } })
    await broker.start()
  })
  after(async () => {
    await broker?.destroy()
  })
  transactionTests(1, () => broker!.bootstrap)
})
