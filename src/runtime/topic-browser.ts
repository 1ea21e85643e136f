/**
 * Read-only browsing of the worker's log for the web console (`GET /sluice/topics…`): the topics
 * with their partitions and offset ranges, and the latest records of a topic — for a dead-letter
 * topic, with the `__connect.errors.*` headers of Kafka Connect's `DeadLetterQueueReporter`. Not part
 * of Kafka Connect's API.
 *
 * Bounded on every side: at most `MAX_RECORDS` records, each key, value and header cut to
 * `PREVIEW_BYTES`, and a time budget after which what was read is returned (`complete: false`). A
 * manually assigned consumer reads from `end - limit` of each partition and never commits, joins
 * no group and writes nothing.
 */
import { ConnectError } from '../api/errors.ts'
import { type TopicPartition, tpKey } from '../api/topic-partition.ts'
import type { Log, LogRecord } from '../log/log.ts'

export const MAX_RECORDS = 100
export const PREVIEW_BYTES = 4096
const DEFAULT_BUDGET_MS = 5000

export interface TopicSummary {
  name: string
  partitions: { partition: number; beginning: number; end: number }[]
}

/** Bytes shown as UTF-8 text when they are valid UTF-8, else as base64; cut to PREVIEW_BYTES. */
export interface BytesPreview {
  encoding: 'utf8' | 'base64'
  text: string
  /** The full length in bytes. */
  size: number
  truncated: boolean
}

export interface BrowsedRecord {
  partition: number
  offset: number
  timestamp: number
  key: BytesPreview | null
  value: BytesPreview | null
  headers: { key: string; value: BytesPreview | null }[]
}

export interface BrowsedRecords {
  topic: string
  records: BrowsedRecord[]
  /** False when the time budget ran out before every partition was read to its end. */
  complete: boolean
}

const decoder = new TextDecoder('utf-8', { fatal: true })

export function preview(bytes: Uint8Array | null): BytesPreview | null {
  if (bytes === null) return null
  const cut = bytes.subarray(0, PREVIEW_BYTES)
  const truncated = cut.length < bytes.length
  try {
    // A cut may split a multi-byte character: decode without the incomplete tail.
    const text = decoder.decode(cut, { stream: truncated })
    return { encoding: 'utf8', text, size: bytes.length, truncated }
  } catch {
    return { encoding: 'base64', text: Buffer.from(cut).toString('base64'), size: bytes.length, truncated }
  }
}

async function partitionsOf(log: Log, topic: string): Promise<TopicPartition[]> {
  const description = (await log.describeTopics([topic])).get(topic)
  if (!description) throw new ConnectError('NOT_FOUND', `Topic ${topic} not found`)
  return Array.from({ length: description.partitions }, (_, partition) => ({ topic, partition }))
}

export async function topicSummaries(log: Log): Promise<TopicSummary[]> {
  const names = (await log.listTopics()).sort()
  const descriptions = await log.describeTopics(names)
  const partitions = [...descriptions.values()].flatMap((d) =>
    Array.from({ length: d.partitions }, (_, partition) => ({ topic: d.name, partition })),
  )
  const [beginnings, ends] = await Promise.all([log.beginningOffsets(partitions), log.endOffsets(partitions)])
  return names
    .filter((name) => descriptions.has(name))
    .map((name) => ({
      name,
      partitions: partitions
        .filter((tp) => tp.topic === name)
        .map((tp) => ({
          partition: tp.partition,
          beginning: beginnings.get(tpKey(tp)) ?? 0,
          end: ends.get(tpKey(tp)) ?? 0,
        })),
    }))
}

export interface LatestRecordsOptions {
  /** Records to return, newest last; 1…MAX_RECORDS. */
  limit: number
  /** Only this partition. */
  partition?: number
  budgetMs?: number
}

/** The latest `limit` records of a topic (over all its partitions, or one), oldest first. */
export async function latestRecords(
  log: Log,
  topic: string,
  options: LatestRecordsOptions,
): Promise<BrowsedRecords> {
  const { limit } = options
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECORDS) {
    throw new ConnectError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_RECORDS}, not ${limit}`)
  }
  let partitions = await partitionsOf(log, topic)
  if (options.partition !== undefined) {
    if (!partitions.some((tp) => tp.partition === options.partition)) {
      throw new ConnectError(
        'NOT_FOUND',
        `Topic ${topic} has no partition ${options.partition} (it has ${partitions.length}: 0…${partitions.length - 1})`,
      )
    }
    partitions = partitions.filter((tp) => tp.partition === options.partition)
  }
  const [beginnings, ends] = await Promise.all([log.beginningOffsets(partitions), log.endOffsets(partitions)])
  const wanted = partitions
    .map((tp) => {
      const end = ends.get(tpKey(tp)) ?? 0
      const start = Math.max(beginnings.get(tpKey(tp)) ?? 0, end - limit)
      return { tp, start, end }
    })
    .filter((p) => p.end > p.start)
  if (wanted.length === 0) return { topic, records: [], complete: true }

  const consumer = log.createConsumer({
    groupId: 'sluice-topic-browser',
    clientId: 'sluice-topic-browser',
    maxPollRecords: MAX_RECORDS * 2,
  })
  const read: LogRecord[] = []
  let complete = true
  try {
    await consumer.assign(wanted.map((p) => p.tp))
    for (const p of wanted) consumer.seek(p.tp, p.start)
    const deadline = Date.now() + (options.budgetMs ?? DEFAULT_BUDGET_MS)
    const pending = new Map(wanted.map((p) => [tpKey(p.tp), p.end]))
    while (pending.size > 0) {
      const left = deadline - Date.now()
      if (left <= 0) {
        complete = false
        break
      }
      for (const record of await consumer.poll(Math.min(left, 500))) {
        const end = pending.get(tpKey(record))
        if (end !== undefined && record.offset < end) read.push(record)
      }
      for (const [key, end] of pending) {
        const tp = wanted.find((p) => tpKey(p.tp) === key)!.tp
        if (consumer.position(tp) >= end) pending.delete(key)
      }
    }
  } finally {
    await consumer.close()
  }
  const records = read
    .sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
    .slice(-limit)
    .map((r) => ({
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: preview(r.key),
      value: preview(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: preview(h.value) })),
    }))
  return { topic, records, complete }
}
