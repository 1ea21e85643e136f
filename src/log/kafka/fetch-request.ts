/**
 * The Fetch request (v12, Kafka 2.7+; topics by name, no fetch session) and a reader of its answer
 * that leaves each partition's record set as the bytes it arrived in (a view of the response, not a
 * copy): `partition-fetcher.ts` decodes records from them when `poll()` takes them.
 */
import type { Connection, Reader } from '@platformatic/kafka'
import { Writer } from '@platformatic/kafka'
import { sendRequest } from './produce-request.ts'

const FETCH = 1
const VERSION = 12

export interface FetchTopic {
  readonly topic: string
  readonly partitions: readonly { partition: number; fetchOffset: number; partitionMaxBytes: number }[]
}

export interface FetchedPartition {
  readonly topic: string
  readonly partition: number
  readonly errorCode: number
  readonly abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[] | null
  /** The record set, or null when empty. */
  readonly records: Buffer | null
}

export interface FetchOptions {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolationLevel: 0 | 1
}

export function fetchRequest(options: FetchOptions, topics: readonly FetchTopic[]): Writer {
  const writer = Writer.create()
    .appendInt32(-1) // replica id: a consumer
    .appendInt32(options.maxWaitMs)
    .appendInt32(options.minBytes)
    .appendInt32(options.maxBytes)
    .appendInt8(options.isolationLevel)
    .appendInt32(0) // session id: none
    .appendInt32(-1) // session epoch: a full fetch, no session is created
  writer.appendArray([...topics], (w, t) => {
    w.appendString(t.topic).appendArray([...t.partitions], (w, p) => {
      w.appendInt32(p.partition)
        .appendInt32(-1) // current leader epoch: unknown
        .appendInt64(BigInt(p.fetchOffset))
        .appendInt32(-1) // last fetched epoch
        .appendInt64(-1n) // log start offset: a consumer's is not used
        .appendInt32(p.partitionMaxBytes)
    })
  })
  return writer
    .appendArray([], () => {}) // forgotten topics
    .appendString('') // rack id
    .appendTaggedFields()
}

export function parseFetchResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader,
): { errorCode: number; partitions: FetchedPartition[] } {
  reader.readInt32() // throttle time
  const errorCode = reader.readInt16()
  reader.readInt32() // session id
  const partitions: FetchedPartition[] = []
  reader.readArray((r) => {
    const topic = r.readString()
    r.readArray((p) => {
      const partition = p.readInt32()
      const partitionError = p.readInt16()
      p.readInt64() // high watermark
      p.readInt64() // last stable offset
      p.readInt64() // log start offset
      const abortedTransactions = p.readNullableArray((a) => ({
        producerId: a.readInt64(),
        firstOffset: a.readInt64(),
      }))
      p.readInt32() // preferred read replica
      const size = p.readUnsignedVarInt() - 1
      let records: Buffer | null = null
      if (size > 0) {
        records = p.buffer.slice(p.position, p.position + size) // a view unless split across socket reads
        p.skip(size)
      }
      partitions.push({ topic, partition, errorCode: partitionError, abortedTransactions, records })
    })
  })
  return { errorCode, partitions }
}

export function sendFetch(connection: Connection, options: FetchOptions, topics: readonly FetchTopic[]) {
  return sendRequest(connection, FETCH, VERSION, () => fetchRequest(options, topics), parseFetchResponse)
}
