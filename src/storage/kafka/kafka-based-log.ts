/**
 * Kafka Connect's `KafkaBasedLog`: a topic read from the beginning by a consumer that manually
 * assigns every partition and tails it, plus a producer to append to it. `readToEnd()` resolves
 * once everything written before the call has been consumed (end offsets taken at the call, as Java
 * does), which is how stores "catch up" before serving.
 *
 * Written on the `Log` interface, so it runs on either backend; the distributed herder uses it on Kafka.
 */
import { ConnectError, errorMessage, isRetriable } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import type {
  Log,
  LogConsumer,
  LogProducer,
  LogRecord,
  ProduceRecord,
  TopicPartition,
} from '../../log/log.ts'
import { ownRecord, tpKey } from '../../log/log.ts'

export interface KafkaBasedLogOptions {
  log: Log
  topic: string
  /** Client id prefix of the consumer and producer. */
  clientId: string
  /** Called for each record, in partition order, from the tailing loop. */
  onRecord(record: LogRecord): void
  logger: Logger
  /** How long one poll waits. @default 200 */
  pollMs?: number
  /**
   * Reads only committed transactions, to the last stable offset (the offsets topic, where
   * exactly-once source tasks write offsets in the transactions of their records). @default false
   */
  readCommitted?: boolean
}

export class KafkaBasedLog {
  readonly topic: string
  readonly #o: KafkaBasedLogOptions
  #consumer: LogConsumer | undefined
  #producer: LogProducer | undefined
  #partitions: TopicPartition[] = []
  #loop: Promise<void> | undefined
  #stopped = false
  /** Waiters for positions to reach the given end offsets. */
  #waiters: { targets: Map<string, number>; resolve(): void; reject(e: unknown): void }[] = []
  #lastError: unknown

  constructor(options: KafkaBasedLogOptions) {
    this.topic = options.topic
    this.#o = options
  }

  /** Assigns every partition from the beginning, starts tailing, and reads to the end once. */
  async start(): Promise<void> {
    const { log, topic, clientId } = this.#o
    const described = (await log.describeTopics([topic])).get(topic)
    if (!described) throw new ConnectError('CONFIG', `internal topic '${topic}' does not exist`)
    this.#partitions = Array.from({ length: described.partitions }, (_, partition) => ({ topic, partition }))
    // A group id nobody commits to: positions start at the beginning (auto.offset.reset=earliest).
    this.#consumer = log.createConsumer({
      groupId: `${clientId}-reader-${process.pid}-${Date.now()}`,
      clientId: `${clientId}-reader`,
      autoOffsetReset: 'earliest',
      maxPollRecords: 2000,
      ...(this.#o.readCommitted ? { isolationLevel: 'read_committed' as const } : {}),
    })
    await this.#consumer.assign(this.#partitions)
    const begin = await log.beginningOffsets(this.#partitions)
    for (const tp of this.#partitions) this.#consumer.seek(tp, begin.get(tpKey(tp)) ?? 0)
    this.#producer = log.createProducer({ clientId: `${clientId}-producer`, idempotent: false })
    this.#loop = this.#tail()
    await this.readToEnd()
  }

  async #tail(): Promise<void> {
    const consumer = this.#consumer!
    let backoff = 100
    while (!this.#stopped) {
      try {
        const records = await consumer.poll(this.#o.pollMs ?? 200)
        for (const record of records) {
          try {
            this.#o.onRecord(record)
          } catch (error) {
            this.#o.logger.error(
              `could not apply record ${record.topic}-${record.partition}@${record.offset}: ${errorMessage(error)}`,
            )
          }
        }
        this.#lastError = undefined
        backoff = 100
        this.#checkWaiters()
      } catch (error) {
        if (this.#stopped) break
        this.#lastError = error
        this.#o.logger.warn(`reading internal topic '${this.topic}' failed, retrying: ${errorMessage(error)}`)
        await new Promise((resolve) => setTimeout(resolve, backoff))
        backoff = Math.min(backoff * 2, 5000)
      }
    }
  }

  #checkWaiters(): void {
    if (this.#waiters.length === 0) return
    const consumer = this.#consumer!
    this.#waiters = this.#waiters.filter((w) => {
      for (const tp of this.#partitions) {
        const target = w.targets.get(tpKey(tp)) ?? 0
        if (consumer.position(tp) < target) return true
      }
      w.resolve()
      return false
    })
  }

  /** Resolves once every record written before this call was applied; rejects after `timeoutMs`. */
  async readToEnd(timeoutMs = 60_000): Promise<void> {
    if (this.#stopped) throw new ConnectError('CONNECT', `the reader of '${this.topic}' is stopped`)
    const deadline = Date.now() + timeoutMs
    // The end offsets are retried while the broker is away, within the same time budget (Connect's
    // KafkaBasedLog retries them too): a task reading its offsets during a broker restart must not fail.
    let targets: Map<string, number>
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        targets = await this.#o.log.endOffsets(this.#partitions, this.#o.readCommitted === true)
        break
      } catch (error) {
        if (!isRetriable(error) || this.#stopped || Date.now() + delay > deadline) throw error
        this.#lastError = error
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
    timeoutMs = Math.max(0, deadline - Date.now())
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done)
        const cause = this.#lastError === undefined ? '' : `: ${errorMessage(this.#lastError)}`
        reject(
          new ConnectError('TIMEOUT', `timed out reading internal topic '${this.topic}' to its end${cause}`),
        )
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        resolve()
      }
      this.#waiters.push({ targets, resolve: done, reject })
      this.#checkWaiters()
      this.#consumer?.wakeup()
    })
  }

  /** The position of partition 0 (for the single-partition config topic: its "config offset"). */
  position(partition = 0): number {
    return this.#consumer?.position({ topic: this.topic, partition }) ?? 0
  }

  /** Appends records (acks=all) and resolves once they are durable. */
  async send(records: readonly Omit<ProduceRecord, 'topic'>[]): Promise<void> {
    if (!this.#producer) throw new ConnectError('CONNECT', `the log of '${this.topic}' is not started`)
    await this.#producer.send(records.map((r) => ownRecord({ ...r, topic: this.topic })))
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#consumer?.wakeup()
    await this.#loop?.catch(() => {})
    for (const w of this.#waiters)
      w.reject(new ConnectError('CONNECT', `the reader of '${this.topic}' stopped`))
    this.#waiters = []
    await Promise.allSettled([this.#consumer?.close(), this.#producer?.close()])
  }
}

export const utf8 = {
  encode: (s: string): Uint8Array => Buffer.from(s, 'utf8'),
  decode: (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('utf8')),
}
