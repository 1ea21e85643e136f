/**
 * A producer of the embedded log. All producers of a log share its appender, so concurrent sends of
 * different producers are also committed together (group commit).
 */
import { ConnectError } from '../../api/errors.ts'
import type { LogProducer, ProduceRecord, RecordMetadata } from '../log.ts'

export class EmbeddedProducer implements LogProducer {
  readonly #append: (records: readonly ProduceRecord[]) => Promise<RecordMetadata[]>
  readonly #inFlight = new Set<Promise<unknown>>()
  #closed = false

  constructor(append: (records: readonly ProduceRecord[]) => Promise<RecordMetadata[]>) {
    this.#append = append
  }

  send(records: readonly ProduceRecord[]): Promise<RecordMetadata[]> {
    if (this.#closed)
      return Promise.reject(new ConnectError('CONNECT', 'Cannot send: the producer is closed'))
    if (records.length === 0) return Promise.resolve([])
    const sent = this.#append(records)
    const tracked: Promise<unknown> = sent.then(
      () => this.#inFlight.delete(tracked),
      () => this.#inFlight.delete(tracked),
    )
    this.#inFlight.add(tracked)
    return sent
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all(this.#inFlight)
  }
}
