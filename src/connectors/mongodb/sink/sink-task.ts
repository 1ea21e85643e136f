/**
 * The MongoDB sink task (`com.mongodb.kafka.connect.sink.MongoSinkTask`). Each `put` turns the
 * records into write models (per topic: `TopicProcessor`), groups consecutive records of one topic and
 * namespace into batches of at most `max.batch.size`, and bulk-writes each batch before returning, so
 * the offsets the runtime commits cover only written documents (at least once; upserts make replays
 * idempotent).
 *
 * Errors:
 * - a record that cannot become a write model (bad key for the id strategy, missing _id…) goes to the
 *   errant record reporter (errors.tolerance=all → the dead-letter topic), or fails the task;
 * - documents the server refuses (duplicate key, validation) come back as the BulkWriteError's
 *   per-index write errors: each of those records is reported the same way. In an ordered write the
 *   server stops at the first failure; the models after it are written again by the next bulk write,
 *   so one bad record neither drops nor reorders the others (1.5.1 dropped them, 1.7+ reported them
 *   all to the DLQ);
 * - the server unreachable (network, server selection, a primary stepping down): a RetriableError,
 *   so the runtime redelivers the same batch after `context.timeout`, doubling from 1 s to 60 s;
 * - credentials refused: the task fails with a message naming connection.uri.
 */
import { MongoBulkWriteError, type MongoClient } from 'mongodb'
import { type Props, SinkTask } from '../../../api/connector.ts'
import { ConnectError, DataError, errorMessage, RetriableError } from '../../../api/errors.ts'
import { connectLogger } from '../../../api/log.ts'
import type { SinkRecord } from '../../../api/records.ts'
import { classify, openClient } from '../client.ts'
import { MONGODB_CONNECTOR_VERSION } from '../version.ts'
import { type Namespace, type ProcessedRecord, TopicProcessor } from './record-processor.ts'
import { readConnectionUri, readTopicSettings } from './topic-settings.ts'
import type { WriteModel } from './write-models.ts'

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 60_000

function where(record: SinkRecord): string {
  return `${record.topic}-${record.kafkaPartition}@${record.kafkaOffset}`
}

export class MongoSinkTask extends SinkTask {
  #props: Props = {}
  #uri = ''
  #client: MongoClient | undefined
  #processors = new Map<string, TopicProcessor>()
  #batchesWritten = 0
  #backoffMs = MIN_BACKOFF_MS
  #stopped = false

  version(): string {
    return MONGODB_CONNECTOR_VERSION
  }

  start(props: Props): void {
    this.#props = props
    this.#uri = readConnectionUri(props)
    this.#client = openClient(this.#uri, 'sluice-mongodb-sink')
  }

  #processor(topic: string): TopicProcessor {
    let processor = this.#processors.get(topic)
    if (!processor) {
      processor = new TopicProcessor(readTopicSettings(this.#props, topic))
      this.#processors.set(topic, processor)
    }
    return processor
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return
    if (this.#client === undefined) throw new RetriableError('the MongoDB sink task is stopping')
    const batches: { ns: Namespace; processor: TopicProcessor; items: ProcessedRecord[] }[] = []
    let current: (typeof batches)[number] | undefined
    for (const record of records) {
      const processor = this.#processor(record.topic)
      let processed: ProcessedRecord
      try {
        processed = processor.process(record)
      } catch (error) {
        await this.#report(record, error)
        continue
      }
      if (processed.model === undefined) continue // a no-op event (CDC tombstone, DDL)
      const max = processor.settings.maxBatchSize
      if (
        current === undefined ||
        current.processor !== processor ||
        current.ns.db !== processed.ns.db ||
        current.ns.coll !== processed.ns.coll ||
        (max > 0 && current.items.length >= max)
      ) {
        current = { ns: processed.ns, processor, items: [] }
        batches.push(current)
      }
      current.items.push(processed)
    }
    for (const batch of batches) {
      if (this.#stopped) throw new RetriableError('the MongoDB sink task is stopping')
      await this.#write(batch.ns, batch.items, batch.processor.settings.ordered)
      const { rateLimitEveryN, rateLimitTimeoutMs } = batch.processor.settings
      this.#batchesWritten++
      if (rateLimitEveryN > 0 && rateLimitTimeoutMs > 0 && this.#batchesWritten % rateLimitEveryN === 0) {
        await new Promise((resolve) => setTimeout(resolve, rateLimitTimeoutMs))
      }
    }
    this.#backoffMs = MIN_BACKOFF_MS
  }

  /** Bulk-writes one batch; reports the records the server refused, continuing after each. */
  async #write(ns: Namespace, items: ProcessedRecord[], ordered: boolean): Promise<void> {
    const client = this.#client
    if (client === undefined) throw new RetriableError('the MongoDB sink task is stopping')
    const collection = client.db(ns.db).collection(ns.coll)
    let rest = items
    while (rest.length > 0) {
      try {
        await collection.bulkWrite(
          rest.map((i) => i.model as WriteModel),
          { ordered },
        )
        return
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError) || error.writeErrors === undefined)
          throw this.#unavailable(error, ns)
        const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
        if (writeErrors.length === 0) throw this.#unavailable(error, ns) // a write-concern error only
        for (const e of writeErrors) {
          const item = rest[e.index]
          if (item === undefined) continue
          await this.#report(
            item.record,
            new DataError(
              `MongoDB refused the write of record ${where(item.record)} into ${ns.db}.${ns.coll}: ${e.errmsg} (code ${e.code})`,
              {
                cause: error,
              },
            ),
          )
        }
        if (!ordered) return
        const failedAt = Math.max(...writeErrors.map((e) => e.index))
        rest = rest.slice(failedAt + 1)
      }
    }
  }

  #unavailable(error: unknown, ns: Namespace): ConnectError {
    const classified = classify(error, this.#uri, `writing to ${ns.db}.${ns.coll}`)
    if (classified.retriable) {
      this.context.timeout(this.#backoffMs)
      connectLogger().warn(
        `MongoDB sink: ${classified.message}; the batch is retried in ${this.#backoffMs} ms`,
      )
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS)
    }
    return classified
  }

  async #report(record: SinkRecord, error: unknown): Promise<void> {
    const wrapped =
      error instanceof ConnectError
        ? error
        : new DataError(`cannot write record ${where(record)}: ${errorMessage(error)}`, { cause: error })
    const reporter = this.context.errantRecordReporter()
    if (reporter) {
      await reporter.report(record, wrapped)
      return
    }
    if ((this.#props['errors.tolerance'] ?? 'none').toLowerCase() === 'all') {
      connectLogger().warn(`MongoDB sink skipped record ${where(record)}: ${wrapped.message}`)
      return
    }
    throw wrapped
  }

  async stop(): Promise<void> {
    this.#stopped = true
    const client = this.#client
    this.#client = undefined
    await client?.close(true).catch(() => {})
  }
}
