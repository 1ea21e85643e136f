/**
 * The Produce request (v9, Kafka 2.8+) with record batches already encoded: each partition's batch
 * is appended to the request as the buffer it was encoded into, and the request goes out on the
 * client library's connection to the leader (its TLS, SASL and connection pool). The response is
 * read into one result per partition; errors are data here, the sender decides what they mean.
 *
 * v12 has the same request and response as v9 (v10's additions are tagged fields, skipped here); it
 * is what tells the broker that a transactional batch belongs to a transaction of transactions v2
 * (KIP-890), whose partitions the broker adds itself. Java sends at most v11 inside a v1 transaction.
 */
import type { Connection, Reader } from '@platformatic/kafka'
import { Writer } from '@platformatic/kafka'

const PRODUCE = 0
/** The version outside transactions v2. */
export const PRODUCE_VERSION = 9
/** The first version inside a transaction of transactions v2 (the broker adds the partitions). */
export const PRODUCE_VERSION_TRANSACTIONS_V2 = 12

export interface PartitionBatch {
  readonly topic: string
  readonly partition: number
  readonly bytes: Buffer
}

export interface PartitionResult {
  readonly topic: string
  readonly partition: number
  readonly errorCode: number
  readonly baseOffset: number
  /** -1 unless the topic uses LogAppendTime. */
  readonly logAppendTimeMs: number
  readonly errorMessage: string | null
}

/** Body of a Produce v9 (or v12) request; `batches` hold at most one batch per partition. */
export function produceRequest(
  transactionalId: string | null,
  acks: number,
  timeoutMs: number,
  batches: readonly PartitionBatch[],
): Writer {
  const byTopic = new Map<string, PartitionBatch[]>()
  for (const batch of batches) {
    const list = byTopic.get(batch.topic)
    if (list === undefined) byTopic.set(batch.topic, [batch])
    else list.push(batch)
  }
  const writer = Writer.create()
    .appendString(transactionalId)
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendUnsignedVarInt(byTopic.size + 1)
  for (const [topic, list] of byTopic) {
    writer.appendString(topic).appendUnsignedVarInt(list.length + 1)
    for (const batch of list) {
      writer.appendInt32(batch.partition).appendUnsignedVarInt(batch.bytes.length + 1)
      writer.append(batch.bytes) // the batch's own buffer, not a copy
      writer.appendTaggedFields()
    }
    writer.appendTaggedFields()
  }
  return writer.appendTaggedFields()
}

export function parseProduceResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader,
): PartitionResult[] {
  const results: PartitionResult[] = []
  reader.readArray((r) => {
    const topic = r.readString()
    r.readArray((p) => {
      const partition = p.readInt32()
      const errorCode = p.readInt16()
      const baseOffset = Number(p.readInt64())
      const logAppendTimeMs = Number(p.readInt64())
      p.readInt64() // log start offset
      const recordErrors: string[] = []
      p.readArray((e) => {
        const index = e.readInt32()
        const message = e.readNullableString()
        recordErrors.push(`record ${index}: ${message ?? 'invalid'}`)
      })
      const message = p.readNullableString()
      const errorMessage = [message, ...recordErrors].filter((m) => m).join('; ') || null
      results.push({ topic, partition, errorCode, baseOffset, logAppendTimeMs, errorMessage })
    })
  })
  reader.readInt32() // throttle time
  return results
}

/** Sends one request on `connection`; resolves with what `parse` read of the answer. */
export function sendRequest<T>(
  connection: Connection,
  apiKey: number,
  version: number,
  payload: () => Writer,
  parse: (correlationId: number, apiKey: number, apiVersion: number, reader: Reader) => T,
): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>()
  connection.send(apiKey, version, payload, parse, true, true, (error, response) =>
    error ? reject(error) : resolve(response!),
  )
  return promise
}

/** Sends one Produce request on `connection`; resolves with the per-partition results. */
export function sendProduce(
  connection: Connection,
  transactionalId: string | null,
  acks: number,
  timeoutMs: number,
  batches: readonly PartitionBatch[],
  version = PRODUCE_VERSION,
): Promise<PartitionResult[]> {
  return sendRequest(
    connection,
    PRODUCE,
    version,
    () => produceRequest(transactionalId, acks, timeoutMs, batches),
    parseProduceResponse,
  )
}
