/**
 * The S3 sink task (Confluent's `S3SinkTask`): one `TopicPartitionWriter` per assigned partition.
 *
 * - `open`: the new partitions are paused until their position is read from the bucket (the
 *   commit marker, topic-partition-writer.ts); the next `put` does that, rewinds the consumer there
 *   and resumes them. Reading the bucket in `put` rather than in `open` lets a store that is away
 *   be retried with backoff instead of failing the task inside a rebalance.
 * - `put`: each partition's records go to its writer; a store that fails makes `put` throw a
 *   `RetriableError` naming the cause, after `context.timeout(retry.backoff.ms)`.
 * - `preCommit`: for each partition, only the offset after the last committed rotation.
 * - `close`/`stop`: open files are aborted; their records come again to whoever owns the partition.
 */
import type { Props, SinkOffsets, SinkTopicPartition } from '../../api/connector.ts'
import { SinkTask } from '../../api/connector.ts'
import { errorMessage, RetriableError } from '../../api/errors.ts'
import { connectLogger } from '../../api/log.ts'
import type { SinkRecord } from '../../api/records.ts'
import { tpKey } from '../../api/topic-partition.ts'
import { readSettings, type S3SinkSettings } from './config.ts'
import { createPartitioner, type Partitioner } from './partitioner.ts'
import type { S3Store } from './s3-store.ts'
import { formatsFor, TopicPartitionWriter, type WriterDeps } from './topic-partition-writer.ts'
import { S3_SINK_VERSION } from './version.ts'

export class S3SinkTask extends SinkTask {
  #settings: S3SinkSettings | undefined
  #store: S3Store | undefined
  #partitioner: Partitioner | undefined
  #formats: Pick<WriterDeps, 'valueFormat' | 'keysFormat' | 'headersFormat'> | undefined
  readonly #writers = new Map<string, TopicPartitionWriter>()
  /** Partitions opened but not yet positioned from the bucket (paused until then). */
  readonly #unrecovered = new Set<string>()
  #stopped = false

  version(): string {
    return S3_SINK_VERSION
  }

  async start(props: Props): Promise<void> {
    this.#settings = readSettings(props)
    // The AWS SDK costs ~35 MB at import: loaded when a task starts, not with the plugin list.
    const { S3Store } = await import('./s3-store.ts')
    this.#store = new S3Store(this.#settings)
    this.#partitioner = createPartitioner(this.#settings)
    this.#formats = formatsFor(this.#settings)
    if (this.#settings.rotateIntervalMs > 0 && this.#partitioner.extractor === null) {
      connectLogger().warn(
        `rotate.interval.ms is set to ${this.#settings.rotateIntervalMs} ms but the partitioner is not time-based: it is ignored (as in Confluent's sink)`,
      )
    }
  }

  override open(partitions: SinkTopicPartition[]): void {
    for (const tp of partitions) {
      const key = tpKey(tp)
      if (this.#writers.has(key)) continue
      this.#writers.set(
        key,
        new TopicPartitionWriter(tp, {
          settings: this.#settings!,
          store: this.#store!,
          partitioner: this.#partitioner!,
          context: this.context,
          ...this.#formats!,
          now: Date.now,
        }),
      )
      this.#unrecovered.add(key)
    }
    if (partitions.length > 0) this.context.pause(...partitions)
  }

  async put(records: SinkRecord[]): Promise<void> {
    await this.#recoverOpened()
    const byPartition = new Map<string, SinkRecord[]>()
    for (const record of records) {
      const key = tpKey({ topic: record.originalTopic, partition: record.originalKafkaPartition })
      const list = byPartition.get(key)
      if (list === undefined) byPartition.set(key, [record])
      else list.push(record)
    }
    // Partitions are independent: their uploads and rotations go to the store side by side.
    const work: Promise<void>[] = []
    for (const [key, writer] of this.#writers) {
      if (this.#unrecovered.has(key)) continue
      work.push(writer.write(byPartition.get(key) ?? []))
    }
    let failure: unknown
    for (const outcome of await Promise.allSettled(work)) {
      if (outcome.status === 'fulfilled') continue
      if (!(outcome.reason instanceof RetriableError)) throw outcome.reason
      failure ??= outcome.reason
    }
    if (this.#stopped) return
    if (failure !== undefined) this.#retryLater(failure)
  }

  /** Positions newly opened partitions from the bucket, then lets their records flow. */
  async #recoverOpened(): Promise<void> {
    for (const key of [...this.#unrecovered]) {
      const writer = this.#writers.get(key)
      if (writer === undefined) {
        this.#unrecovered.delete(key)
        continue
      }
      let resume: number | null
      try {
        resume = await writer.recover()
      } catch (error) {
        if (!(error instanceof RetriableError)) throw error
        this.#retryLater(
          error,
          `reading the position of ${writer.tp.topic}-${writer.tp.partition} from the bucket`,
        )
      }
      if (resume !== null) this.context.offset(writer.tp, resume)
      this.#unrecovered.delete(key)
      this.context.resume(writer.tp)
    }
  }

  #retryLater(error: unknown, doing?: string): never {
    const backoff = this.#settings!.retryBackoffMs
    this.context.timeout(backoff)
    throw new RetriableError(
      `${doing ? `${doing}: ` : ''}${errorMessage(error)}; retrying in ${backoff} ms`,
      { cause: error },
    )
  }

  override async preCommit(_offsets: SinkOffsets): Promise<SinkOffsets> {
    const safe: SinkOffsets = new Map()
    for (const [key, writer] of this.#writers) {
      if (this.#unrecovered.has(key)) continue
      const offset = writer.committedOffset
      if (offset !== null) safe.set(key, { topic: writer.tp.topic, partition: writer.tp.partition, offset })
    }
    return safe
  }

  override async close(partitions: SinkTopicPartition[]): Promise<void> {
    const closing: TopicPartitionWriter[] = []
    for (const tp of partitions) {
      const key = tpKey(tp)
      const writer = this.#writers.get(key)
      this.#writers.delete(key)
      this.#unrecovered.delete(key)
      if (writer !== undefined) closing.push(writer)
    }
    await Promise.all(closing.map((w) => w.abort()))
  }

  async stop(): Promise<void> {
    this.#stopped = true
    const writers = [...this.#writers.values()]
    this.#writers.clear()
    this.#unrecovered.clear()
    await Promise.all(writers.map((w) => w.abort().catch(() => {})))
    this.#store?.close()
  }
}
