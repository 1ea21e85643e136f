/**
 * The fetch loop's bookkeeping against scripted Fetch answers (pure logic: which offsets are asked
 * for and which records come out, decoded from record batches as a broker sends them); the real
 * broker is exercised by kafka-log.test.ts and the chaos tests.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClusterMetadata, ConnectionPool, Consumer } from '@platformatic/kafka'
import type { FetchedPartition, FetchTopic } from '../../src/log/kafka/fetch-request.ts'
import { type FetcherOptions, PartitionFetcher, Signal } from '../../src/log/kafka/partition-fetcher.ts'
import { encodeRecordBatch } from '../../src/log/kafka/record-batch.ts'
import { tpKey } from '../../src/log/log.ts'

const TP = { topic: 'orders', partition: 0 }
const metadata = {
  topics: new Map([[TP.topic, { partitions: [{ leader: 1 }] }]]),
} as unknown as ClusterMetadata
const client = { metadata: async () => metadata, clearMetadata: () => {} } as unknown as Consumer

/**
 * A record batch as the broker sends it: `count` records from offset `first`, of `producerId`; each
 * value is the record's offset, padded with spaces to `valueBytes`.
 */
function batch(
  first: number,
  count: number,
  producerId = -1n,
  attributes = 0,
  controlType?: 0 | 1,
  valueBytes = 0,
): Buffer {
  const controlKey = Buffer.alloc(4)
  if (controlType !== undefined) controlKey.writeInt16BE(controlType, 2)
  const records = Array.from({ length: count }, (_, i) => ({
    topic: TP.topic,
    key: controlType === undefined ? null : controlKey,
    value: Buffer.from(String(first + i).padEnd(valueBytes)),
    timestamp: 1000 + i,
  }))
  const bytes = encodeRecordBatch(records, 0, 'none', {
    producerId,
    producerEpoch: 0,
    baseSequence: 0,
    transactional: false,
  }) as Buffer
  bytes.writeBigInt64BE(BigInt(first), 0)
  bytes.writeInt16BE(attributes, 21)
  return bytes
}

const answer = (partition: Omit<FetchedPartition, 'topic' | 'partition' | 'errorCode'>) => ({
  errorCode: 0,
  partitions: [{ topic: TP.topic, partition: TP.partition, errorCode: 0, ...partition }],
})

interface PendingFetch {
  fetchOffset: number
  respond(from: number, count: number, valueBytes?: number): void
}

/** Fetches stay in flight until the test answers them with records `from..from+count-1`. */
function scriptedFetches() {
  const fetches: PendingFetch[] = []
  const waiting: (() => void)[] = []
  const send: FetcherOptions['send'] = (_metadata, _node, topics: FetchTopic[]) =>
    new Promise((resolve) => {
      fetches.push({
        fetchOffset: topics[0]!.partitions[0]!.fetchOffset,
        respond(from, count, valueBytes = 0) {
          resolve(
            answer({ abortedTransactions: null, records: batch(from, count, -1n, 0, undefined, valueBytes) }),
          )
        },
      })
      for (const wake of waiting.splice(0)) wake()
    })
  /** The n-th fetch (0-based), once it was sent. */
  async function fetchNumber(n: number): Promise<PendingFetch> {
    const deadline = Date.now() + 2000
    while (fetches.length <= n) {
      if (Date.now() > deadline) throw new Error(`fetch #${n} was never sent (${fetches.length} sent)`)
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
        setTimeout(resolve, 50)
      })
    }
    return fetches[n]!
  }
  return { send, fetches, fetchNumber }
}

function fetcher(
  send: FetcherOptions['send'],
  maxPollRecords: number,
  bytes: { fetchMaxBytes?: number; partitionMaxBytes?: number } = {},
): PartitionFetcher {
  return new PartitionFetcher({
    client,
    send,
    fetchPool: {} as ConnectionPool,
    bootstrap: ['127.0.0.1:9'],
    signal: new Signal(),
    resetOffsets: async () => new Map(),
    maxPollRecords,
    fetchMaxBytes: bytes.fetchMaxBytes ?? 1 << 20,
    partitionMaxBytes: bytes.partitionMaxBytes ?? 1 << 20,
    fetchMaxWaitMs: 10,
    isolationLevel: 0,
  })
}

const offsets = (records: { offset: number }[]) => records.map((r) => r.offset)
const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

void describe('PartitionFetcher', () => {
  void it('drops a fetch sent before a revoke when the partition is assigned again (no skipped records)', async () => {
    const { send, fetchNumber } = scriptedFetches()
    const f = fetcher(send, 5)
    f.install([TP], new Map([[tpKey(TP), 0]]))
    f.schedulePump()
    ;(await fetchNumber(0)).respond(0, 10)
    await tick()
    // Prefetch: the next fetch asks for 10 while 0..9 wait in the buffer.
    const early = await fetchNumber(1)
    assert.equal(early.fetchOffset, 10)
    assert.deepEqual(offsets(f.drain()), [0, 1, 2, 3, 4])

    // A rebalance: the partition is revoked (offset 5 committed) and assigned to this member again.
    f.drop(tpKey(TP))
    f.install([TP], new Map([[tpKey(TP), 5]]))
    f.schedulePump()
    // The fetch sent before the revoke answers now, with records from its own offset on.
    early.respond(10, 10)
    await tick()
    const resumed = await fetchNumber(2)
    assert.equal(resumed.fetchOffset, 5, 'the re-assigned partition fetches from its committed offset')
    resumed.respond(5, 10)
    await tick()
    const out = [...f.drain(), ...f.drain()]
    assert.deepEqual(offsets(out), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    f.close()
  })

  void it('stops fetching a partition while it buffers max.partition.fetch.bytes, in order once drained', async () => {
    const { send, fetches, fetchNumber } = scriptedFetches()
    // Few records, large ones: the record count alone would fetch again at once.
    const f = fetcher(send, 4, { partitionMaxBytes: 8000 })
    f.install([TP], new Map([[tpKey(TP), 0]]))
    f.schedulePump()
    ;(await fetchNumber(0)).respond(0, 10, 1000)
    await tick()
    assert.ok(f.bufferedBytes >= 10_000, `buffered ${f.bufferedBytes} bytes`)
    const out = f.drain()
    f.schedulePump()
    for (let i = 0; i < 5; i++) await tick()
    assert.equal(fetches.length, 1, 'no fetch while the partition holds a fetch’s worth of bytes')
    out.push(...f.drain(), ...f.drain())
    f.schedulePump()
    assert.equal(f.bufferedBytes, 0, 'a batch’s bytes are released once its last record is taken')
    const next = await fetchNumber(1)
    assert.equal(next.fetchOffset, 10)
    next.respond(10, 2, 1000)
    await tick()
    out.push(...f.drain())
    assert.deepEqual(offsets(out), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    assert.equal(String(out[11]!.value).trim(), '11')
    f.close()
  })

  void it('asks at most 256 KiB of a partition per fetch, and buffers no more than that before the next', async () => {
    const asked: number[] = []
    const f = new PartitionFetcher({
      client,
      // Every fetch is answered with 300 records of 1000 B (~300 KB, over the 256 KiB a fetch asks).
      send: async (_m, _node, topics) => {
        const p = topics[0]!.partitions[0]!
        asked.push(p.partitionMaxBytes)
        return answer({
          abortedTransactions: null,
          records: batch(p.fetchOffset, 300, -1n, 0, undefined, 1000),
        })
      },
      fetchPool: {} as ConnectionPool,
      bootstrap: ['127.0.0.1:9'],
      signal: new Signal(),
      resetOffsets: async () => new Map(),
      maxPollRecords: 100,
      fetchMaxBytes: 50 << 20,
      partitionMaxBytes: 1 << 20,
      fetchMaxWaitMs: 10,
      isolationLevel: 0,
    })
    f.install([TP], new Map([[tpKey(TP), 0]]))
    f.schedulePump()
    for (let i = 0; i < 5; i++) await tick()
    // 300 records are fewer than the 1000 that stop a fetch by count: only the bytes stop it.
    assert.deepEqual(asked, [256 * 1024], 'one fetch of 256 KiB, none while ~300 KB wait')
    const out: { offset: number }[] = []
    while (out.length < 300) out.push(...f.drain())
    f.schedulePump()
    for (let i = 0; i < 3; i++) await tick()
    assert.ok(asked.length >= 2, 'fetched again once the records were taken')
    assert.deepEqual(offsets(out), [...Array(300).keys()])
    f.close()

    // A smaller max.partition.fetch.bytes is still what a fetch asks.
    const small: number[] = []
    const g = fetcher(
      async (_m, _n, topics) => {
        small.push(topics[0]!.partitions[0]!.partitionMaxBytes)
        return new Promise(() => {})
      },
      4,
      { partitionMaxBytes: 8000 },
    )
    g.install([TP], new Map([[tpKey(TP), 0]]))
    g.schedulePump()
    for (let i = 0; i < 3; i++) await tick()
    assert.deepEqual(small, [8000])
    g.close()
  })

  void it('asks a batch larger than 256 KiB whole and first, so it arrives behind a busy partition', async () => {
    // The broker as Kafka answers: whole batches within a partition's ask; a first batch larger than
    // the ask comes whole only to the first partition of the fetch with data, else cut off.
    const busy = { topic: TP.topic, partition: 0 }
    const big = { topic: TP.topic, partition: 1 }
    const bigBatch = batch(0, 400, -1n, 0, undefined, 1000) // ~400 KB, as our producer writes up to ~900 KiB
    const smallBatch = (first: number) => batch(first, 10, -1n, 0, undefined, 100)
    const asks: string[] = []
    const f = new PartitionFetcher({
      client: {
        metadata: async () => ({
          brokers: new Map([[0, { host: 'h', port: 1 }]]),
          topics: new Map([[TP.topic, { partitions: [{ leader: 0 }, { leader: 0 }] }]]),
        }),
        clearMetadata: () => {},
      } as never,
      send: async (_m, _node, topics) => {
        let sent = false
        const partitions = topics[0]!.partitions.map((p) => {
          asks.push(`${p.partition}:${p.partitionMaxBytes}`)
          let records: Buffer
          if (p.partition === busy.partition) {
            const parts: Buffer[] = []
            let size = 0
            for (let o = p.fetchOffset; size + 1500 <= p.partitionMaxBytes; o += 10) {
              const b = smallBatch(o)
              parts.push(b)
              size += b.length
            }
            records = Buffer.concat(parts)
          } else if (p.fetchOffset >= 400) records = Buffer.alloc(0)
          else if (bigBatch.length <= p.partitionMaxBytes || !sent) records = bigBatch
          else records = bigBatch.subarray(0, p.partitionMaxBytes)
          if (records.length > 0) sent = true
          return {
            topic: TP.topic,
            partition: p.partition,
            errorCode: 0,
            abortedTransactions: null,
            records,
          }
        })
        return { errorCode: 0, partitions }
      },
      fetchPool: {} as ConnectionPool,
      bootstrap: ['127.0.0.1:9'],
      signal: new Signal(),
      resetOffsets: async () => new Map(),
      maxPollRecords: 500,
      fetchMaxBytes: 50 << 20,
      partitionMaxBytes: 1 << 20,
      fetchMaxWaitMs: 10,
      isolationLevel: 0,
    })
    f.install(
      [busy, big],
      new Map([
        [tpKey(busy), 0],
        [tpKey(big), 0],
      ]),
    )
    const fromBig: number[] = []
    for (let i = 0; i < 50 && fromBig.length < 400; i++) {
      f.schedulePump()
      await tick()
      for (let r = f.drain(); r.length > 0; r = f.drain())
        for (const record of r) if (record.partition === big.partition) fromBig.push(record.offset)
    }
    f.close()
    assert.deepEqual(fromBig, [...Array(400).keys()], `asks: ${asks.slice(0, 8).join(' ')}`)
    assert.ok(asks.includes(`1:${bigBatch.length}`), 'the cut batch was asked for whole')
  })

  void it('stops fetching every partition while all of them buffer fetch.max.bytes', async () => {
    const other = { topic: TP.topic, partition: 1 }
    const twoPartitions = {
      topics: new Map([[TP.topic, { partitions: [{ leader: 1 }, { leader: 2 }] }]]),
    } as unknown as ClusterMetadata
    const asked: number[] = []
    let answered = 0
    const f = new PartitionFetcher({
      client: { metadata: async () => twoPartitions, clearMetadata: () => {} } as unknown as Consumer,
      // Each leader answers its first fetch with 10 records of 1000 B; later fetches wait forever.
      send: async (_m, node, topics) => {
        asked.push(node)
        if (answered >= 2 && asked.filter((n) => n === node).length > 1) return new Promise(() => {})
        answered++
        const p = topics[0]!.partitions[0]!
        return {
          errorCode: 0,
          partitions: [
            {
              topic: TP.topic,
              partition: p.partition,
              errorCode: 0,
              abortedTransactions: null,
              records: batch(p.fetchOffset, 10, -1n, 0, undefined, 1000),
            },
          ],
        }
      },
      fetchPool: {} as ConnectionPool,
      bootstrap: ['127.0.0.1:9'],
      signal: new Signal(),
      resetOffsets: async () => new Map(),
      maxPollRecords: 100,
      fetchMaxBytes: 15_000,
      partitionMaxBytes: 1 << 20,
      fetchMaxWaitMs: 10,
      isolationLevel: 0,
    })
    f.install([TP, other], new Map())
    f.schedulePump()
    for (let i = 0; i < 5; i++) await tick()
    assert.deepEqual(asked.sort(), [1, 2], 'one fetch per leader, then none above fetch.max.bytes')
    assert.ok(f.bufferedBytes >= 20_000)
    const taken = f.drain()
    f.schedulePump()
    for (let i = 0; i < 3; i++) await tick()
    assert.ok(asked.length > 2, 'fetching resumes once a poll took the records')
    assert.equal(taken.length, 20)
    f.close()
  })

  void it('a paused partition buffering fetch.max.bytes does not stop the others being fetched', async () => {
    const other = { topic: TP.topic, partition: 1 }
    const twoPartitions = {
      topics: new Map([[TP.topic, { partitions: [{ leader: 1 }, { leader: 2 }] }]]),
    } as unknown as ClusterMetadata
    const asked: number[] = []
    const f = new PartitionFetcher({
      client: { metadata: async () => twoPartitions, clearMetadata: () => {} } as unknown as Consumer,
      // Each leader answers its first fetch with 10 records of 1000 B; later fetches wait forever.
      send: async (_m, node, topics) => {
        asked.push(node)
        if (asked.filter((n) => n === node).length > 1) return new Promise(() => {})
        const p = topics[0]!.partitions[0]!
        return {
          errorCode: 0,
          partitions: [
            {
              topic: TP.topic,
              partition: p.partition,
              errorCode: 0,
              abortedTransactions: null,
              records: batch(p.fetchOffset, 10, -1n, 0, undefined, 1000),
            },
          ],
        }
      },
      fetchPool: {} as ConnectionPool,
      bootstrap: ['127.0.0.1:9'],
      signal: new Signal(),
      resetOffsets: async () => new Map(),
      maxPollRecords: 100,
      fetchMaxBytes: 5_000,
      partitionMaxBytes: 1 << 20,
      fetchMaxWaitMs: 10,
      isolationLevel: 0,
    })
    f.install([TP, other], new Map())
    f.schedulePump()
    for (let i = 0; i < 5; i++) await tick()
    assert.deepEqual([...asked].sort(), [1, 2])
    // The task pauses partition 0 with its 10 kB still buffered; a poll takes partition 1's records.
    f.setPaused(TP, true, 'pause')
    const taken = f.drain()
    assert.deepEqual(
      taken.map((r) => r.partition),
      Array(10).fill(1),
    )
    assert.ok(f.bufferedBytes >= 5_000, 'the paused partition still holds more than fetch.max.bytes')
    f.schedulePump()
    for (let i = 0; i < 5; i++) await tick()
    assert.equal(asked.filter((n) => n === 2).length, 2, 'partition 1 is fetched again')
    assert.equal(asked.filter((n) => n === 1).length, 1, 'the paused partition is not')
    f.close()
  })

  void it('drops a fetch sent before a seek', async () => {
    const { send, fetchNumber } = scriptedFetches()
    const f = fetcher(send, 100)
    f.install([TP], new Map([[tpKey(TP), 0]]))
    f.schedulePump()
    const first = await fetchNumber(0)
    f.reset(f.require(TP, 'seek'), 40)
    first.respond(0, 10)
    await tick()
    const next = await fetchNumber(1)
    assert.equal(next.fetchOffset, 40)
    next.respond(40, 3)
    await tick()
    assert.deepEqual(offsets(f.drain()), [40, 41, 42])
    f.close()
  })
})

const TRANSACTIONAL = 0x10
const CONTROL = 0x20 | TRANSACTIONAL

/** Answers each fetch with the next scripted partition response. */
function transactionalFetches(
  responses: { records: Buffer[]; abortedTransactions: FetchedPartition['abortedTransactions'] }[],
) {
  const send: FetcherOptions['send'] = async () => {
    const next = responses.shift()
    if (next === undefined) return new Promise(() => {})
    return answer({ abortedTransactions: next.abortedTransactions, records: Buffer.concat(next.records) })
  }
  return send
}

void describe('PartitionFetcher decoding', () => {
  void it('decodes keys, values, headers and timestamps, skips records below the fetch offset, and leaves a cut-off batch to the next fetch', async () => {
    const records = [
      { topic: TP.topic, key: Buffer.from('k0'), value: Buffer.from('v0'), timestamp: 5000 },
      {
        topic: TP.topic,
        key: null,
        value: null,
        timestamp: 5000 + 2 ** 40,
        headers: [
          { key: 'hé', value: Buffer.from('x') },
          { key: 'n', value: null },
        ],
      },
      { topic: TP.topic, key: Buffer.from('k2'), value: Buffer.from('v2'), timestamp: 4000 },
    ]
    const id = { producerId: -1n, producerEpoch: -1, baseSequence: -1, transactional: false }
    const first = encodeRecordBatch(records, 0, 'none', id) as Buffer
    first.writeBigInt64BE(10n, 0) // offsets 10..12
    const next = encodeRecordBatch(records.slice(0, 1), 0, 'none', id) as Buffer
    next.writeBigInt64BE(13n, 0)
    const asked: number[] = []
    const responses = [Buffer.concat([first, next.subarray(0, next.length - 3)]), next]
    const f = fetcher(async (_m, _n, topics) => {
      asked.push(topics[0]!.partitions[0]!.fetchOffset)
      const set = responses.shift()
      if (set === undefined) return new Promise(() => {})
      return answer({ abortedTransactions: null, records: set })
    }, 100)
    f.install([TP], new Map([[tpKey(TP), 11]]))
    f.schedulePump()
    const out = []
    for (let i = 0; i < 20 && out.length < 3; i++) {
      await tick()
      out.push(...f.drain())
    }
    f.close()
    assert.deepEqual(asked.slice(0, 2), [11, 13], 'the cut-off batch at 13 is fetched again')
    assert.deepEqual(
      out.map((r) => [
        r.offset,
        r.timestamp,
        r.timestampType,
        r.key && String(r.key),
        r.value && String(r.value),
      ]),
      [
        [11, 5000 + 2 ** 40, 'CreateTime', null, null],
        [12, 4000, 'CreateTime', 'k2', 'v2'],
        [13, 5000, 'CreateTime', 'k0', 'v0'],
      ],
    )
    assert.deepEqual(
      out[0]!.headers.map((h) => [h.key, h.value && String(h.value)]),
      [
        ['hé', 'x'],
        ['n', null],
      ],
    )
    assert.deepEqual(out[1]!.headers, [])
  })
})

void describe('PartitionFetcher with read_committed', () => {
  // 0-1 committed by producer 1 (marker at 2); 3-4 of producer 2, aborted, its ABORT marker only in
  // the next response (a response cut by maxBytes); then producer 2's next transaction at 6-7.
  const script = () => [
    {
      records: [batch(0, 2, 1n, TRANSACTIONAL), batch(2, 1, 1n, CONTROL, 1), batch(3, 2, 2n, TRANSACTIONAL)],
      abortedTransactions: [{ producerId: 2n, firstOffset: 3n }],
    },
    { records: [batch(5, 1, 2n, CONTROL, 0), batch(6, 2, 2n, TRANSACTIONAL)], abortedTransactions: [] },
  ]

  async function read(isolationLevel: 0 | 1): Promise<number[]> {
    const f = new PartitionFetcher({
      client,
      send: transactionalFetches(script()),
      fetchPool: {} as ConnectionPool,
      bootstrap: ['127.0.0.1:9'],
      signal: new Signal(),
      resetOffsets: async () => new Map(),
      maxPollRecords: 100,
      fetchMaxBytes: 1 << 20,
      partitionMaxBytes: 1 << 20,
      fetchMaxWaitMs: 10,
      isolationLevel,
    })
    f.install([TP], new Map([[tpKey(TP), 0]]))
    f.schedulePump()
    const out: number[] = []
    for (let i = 0; i < 20 && out.length < 7; i++) {
      await tick()
      out.push(...offsets(f.drain()))
    }
    f.close()
    return out
  }

  void it('skips an aborted transaction whose ABORT marker is not in the same response, and never delivers markers', async () => {
    assert.deepEqual(await read(1), [0, 1, 6, 7])
  })

  void it('read_uncommitted delivers the aborted records (the markers still not)', async () => {
    assert.deepEqual(await read(0), [0, 1, 3, 4, 6, 7])
  })
})
