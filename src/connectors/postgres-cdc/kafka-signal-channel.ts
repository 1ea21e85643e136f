/**
 * Debezium's Kafka signal channel (`KafkaSignalChannel`): partition 0 of `signal.kafka.topic`, a record
 * counts when its key equals `topic.prefix`, its value is JSON `{"id", "type", "data": {…}}`.
 *
 * A background loop reads the topic through the runtime's topic reader (decision 0011) into a buffer
 * that the task drains at poll boundaries. While the brokers cannot be reached, changes keep streaming
 * (as in Debezium) and the task reports the problem (`SourceTaskContext.reportProblem`): its status
 * stays RUNNING with the error as trace until the loop, reconnecting with backoff, reads again.
 *
 * Position: Debezium 3.x keeps it in the consumer group only (auto-commit; DBZ-7856 removed the offset it
 * once stored in the source offsets), so a signal polled just before a crash may be lost or re-run.
 * Here the offset of the last handled signal rides in the connector's source offsets
 * (`kafka_signal_offset`), written with the records the signal caused; the group offset is committed
 * only after those offsets are stored, and is the start position only when the source offsets have none.
 */
import type { SourceTaskContext } from '../../api/connector.ts'
import { errorMessage, RetriableError } from '../../api/errors.ts'
import type { TopicReader } from '../../api/topic-reader.ts'
import type { CdcSettings } from './config.ts'
import { checkSignal } from './signal-data.ts'

export interface KafkaSignal {
  id: string
  type: string
  /** `data` as JSON text (as Debezium hands it to the actions), or null. */
  data: string | null
  offset: number
  /** Why the signal is malformed (then it is reported and skipped), if it is. */
  problem?: string
}

/** The offset key holding the Kafka offset of the last signal handled (Debezium's `channelOffset`). */
export const KAFKA_SIGNAL_OFFSET_KEY = 'kafka_signal_offset'

export class KafkaSignalChannel {
  readonly #settings: NonNullable<CdcSettings['kafkaSignal']>
  readonly #prefix: string
  readonly #context: SourceTaskContext
  readonly #warn: (key: string, message: string) => void
  readonly #buffer: KafkaSignal[] = []
  #reader: TopicReader | null = null
  #failure: Error | null = null
  #stopped = false
  #loop: Promise<void> | null = null
  /** Next offset to read after a reconnect: one past the last record received. */
  #next: number | null
  #committed: number | null = null
  #wake: (() => void) | null = null

  constructor(
    settings: NonNullable<CdcSettings['kafkaSignal']>,
    topicPrefix: string,
    context: SourceTaskContext,
    lastHandled: number | null,
    warn: (key: string, message: string) => void,
  ) {
    this.#settings = settings
    this.#prefix = topicPrefix
    this.#context = context
    this.#next = lastHandled === null ? null : lastHandled + 1
    this.#committed = this.#next
    this.#warn = warn
  }

  start(): void {
    this.#loop = this.#run()
  }

  /**
   * Signals received and not handled yet. While the channel cannot read its topic the task streams
   * on and the problem shows in its status (`reportProblem`); only a runtime without that facility
   * gets the error thrown here, so it is not silent.
   */
  take(): KafkaSignal[] {
    if (this.#buffer.length > 0) return this.#buffer.splice(0)
    if (this.#failure && !this.#context.reportProblem) throw this.#failure
    return []
  }

  /** The stored source offsets now cover signals up to `lastHandled`: commit the group past it. */
  async commit(lastHandled: number | null): Promise<void> {
    if (lastHandled === null || !this.#reader) return
    const next = lastHandled + 1
    if (this.#committed !== null && next <= this.#committed) return
    try {
      await this.#reader.commit(next)
      this.#committed = next
    } catch (error) {
      this.#warn('kafka-commit', `could not commit the signal topic offset: ${errorMessage(error)}`)
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#reader?.wakeup()
    this.#wake?.()
    await this.#loop
  }

  async #run(): Promise<void> {
    const s = this.#settings
    let delay = 500
    while (!this.#stopped) {
      try {
        if (!this.#reader) {
          if (!this.#context.openTopicReader) {
            throw new Error('this runtime offers no Kafka topic reader to connectors')
          }
          this.#reader = await this.#context.openTopicReader({
            bootstrapServers: s.bootstrapServers,
            topic: s.topic,
            partition: 0,
            groupId: s.groupId,
            clientId: `${this.#prefix}-signal`,
            startOffset: this.#next,
            // Debezium's consumer gets it auto-created by a broker with Kafka's default settings.
            createIfMissing: true,
            properties: s.consumer,
          })
          if (this.#stopped) break
          if (this.#failure) this.#context.reportProblem?.(null)
          this.#failure = null
          delay = 500
        }
        const records = await this.#reader.poll(Math.max(s.pollTimeoutMs, 100))
        for (const record of records) {
          this.#next = record.offset + 1
          const signal = this.#parse(record.offset, record.key, record.value)
          if (signal) this.#buffer.push(signal)
        }
      } catch (error) {
        if (this.#stopped) break
        const reader = this.#reader
        this.#reader = null
        await reader?.close().catch(() => {})
        this.#failure = new RetriableError(
          `the Kafka signal channel cannot read topic '${s.topic}' from ${s.bootstrapServers.join(',')} ` +
            `(${errorMessage(error)}); changes stream on, and the channel retries in ${delay} ms`,
          { cause: error },
        )
        this.#context.reportProblem?.(this.#failure)
        this.#warn(`kafka-signal:${Date.now()}`, this.#failure.message)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay)
          this.#wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        this.#wake = null
        delay = Math.min(delay * 2, 10_000)
      }
    }
    await this.#reader?.close().catch(() => {})
    this.#reader = null
  }

  #parse(offset: number, key: Uint8Array | null, value: Uint8Array | null): KafkaSignal | null {
    const keyText = key === null ? null : Buffer.from(key).toString('utf8')
    if (keyText !== this.#prefix) {
      this.#warn(
        `kafka-signal-key:${keyText}`,
        `signal at offset ${offset} of '${this.#settings.topic}' ignored: its key '${keyText}' is not the connector's topic.prefix '${this.#prefix}'`,
      )
      return null
    }
    const text = value === null ? '' : Buffer.from(value).toString('utf8')
    if (text === '') return null
    // A malformed signal goes to the task with its problem, which reports it and skips it (as Debezium
    // does) and keeps its offset, so a restart does not read it again.
    const skip = (why: string): KafkaSignal => ({
      id: `offset ${offset} of '${this.#settings.topic}'`,
      type: '',
      data: null,
      offset,
      problem: why,
    })
    let parsed: { id?: unknown; type?: unknown; data?: unknown }
    try {
      parsed = JSON.parse(text) as typeof parsed
    } catch {
      return skip(`its value is not JSON: ${text.slice(0, 200)}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return skip(`its value is not a JSON object: ${text.slice(0, 200)}`)
    }
    // Debezium's KafkaSignalChannel acts on a record without an id (its SignalRecord id is then null);
    // such a signal is named after its offset here. An id that is not a string or number is malformed.
    const rawId = parsed.id ?? `kafka-${offset}`
    let signal: { id: string; type: string }
    try {
      signal = checkSignal(typeof rawId === 'number' ? String(rawId) : rawId, parsed.type)
    } catch (error) {
      return skip(errorMessage(error))
    }
    const data = parsed.data
    if (
      data !== undefined &&
      data !== null &&
      typeof data !== 'string' &&
      (typeof data !== 'object' || Array.isArray(data))
    ) {
      return skip(`its "data" is not a JSON object: ${JSON.stringify(data)}`)
    }
    return {
      ...signal,
      data:
        data === undefined || data === null ? null : typeof data === 'string' ? data : JSON.stringify(data),
      offset,
    }
  }
}
