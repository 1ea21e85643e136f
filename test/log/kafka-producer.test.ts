/**
 * The Kafka producer's request discipline on a scripted client (pure logic: the client only answers
 * `metadata` and `send`): with `maxInFlight: 1`, as source tasks use, a request is handed to the client
 * only after the one before it was answered, so the client's own retries cannot reorder two requests.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Producer } from '@platformatic/kafka'
import { KafkaProducer } from '../../src/log/kafka/kafka-producer.ts'

interface ScriptedSend {
  values: string[]
  answer(): void
}

function scriptedClient() {
  const sends: ScriptedSend[] = []
  let nextOffset = 0
  let outstanding = 0
  let maxOutstanding = 0
  const client = {
    metadata: async ({ topics }: { topics: string[] }) => ({
      topics: new Map(topics.map((t) => [t, { partitionsCount: 1 }])),
    }),
    send: (options: { messages: { topic: string; partition: number; value?: Buffer }[] }) => {
      outstanding++
      maxOutstanding = Math.max(maxOutstanding, outstanding)
      const { promise, resolve } = Promise.withResolvers<unknown>()
      const messages = options.messages
      sends.push({
        values: messages.map((m) => m.value?.toString() ?? ''),
        answer: () => {
          outstanding--
          const offset = nextOffset
          nextOffset += messages.length
          resolve({ offsets: [{ topic: messages[0].topic, partition: 0, offset: BigInt(offset) }] })
        },
      })
      return promise
    },
    close: async () => {},
  }
  return { client: client as unknown as Producer, sends, maxOutstanding: () => maxOutstanding }
}

const record = (value: string) => ({ topic: 't', key: null, value: Buffer.from(value) })

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setImmediate(r))
  assert.ok(condition(), 'condition not reached')
}

describe('KafkaProducer requests in flight', () => {
  test('with maxInFlight 1 the next request waits for the answer to the one before', async () => {
    const { client, sends, maxOutstanding } = scriptedClient()
    const producer = new KafkaProducer(client, ['scripted:9092'], { maxInFlight: 1 })
    const first = producer.send([record('a')])
    await until(() => sends.length === 1)
    const second = producer.send([record('b')])
    const third = producer.send([record('c')])
    // Give the producer every chance to hand the queued calls over early.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r))
    assert.equal(sends.length, 1, 'a second request went out while the first was unanswered')
    sends[0].answer()
    await until(() => sends.length === 2)
    assert.deepEqual(sends[1].values, ['b', 'c'], 'the calls queued meanwhile go out together, in order')
    sends[1].answer()
    assert.deepEqual(
      (await Promise.all([first, second, third])).map((r) => r.map((m) => m.offset)),
      [[0], [1], [2]],
    )
    assert.equal(maxOutstanding(), 1)
    await producer.close()
  })

  test('by default several requests are outstanding at once', async () => {
    const { client, sends, maxOutstanding } = scriptedClient()
    const producer = new KafkaProducer(client, ['scripted:9092'])
    const first = producer.send([record('a')])
    await until(() => sends.length === 1)
    const second = producer.send([record('b')])
    await until(() => sends.length === 2)
    for (const s of sends) s.answer()
    await Promise.all([first, second])
    assert.equal(maxOutstanding(), 2)
    await producer.close()
  })
})
