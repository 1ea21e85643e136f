/**
 * A record's headers as the log carries them, bytes per key (Java's
 * `org.apache.kafka.common.header.Headers`): what Kafka Connect hands a converter next to the key
 * or value. A converter may read them (Confluent's deserializers find a schema id in
 * `__key_schema_id` / `__value_schema_id`) and add to them (its serializers put the id there).
 * Keys may repeat; the last one wins.
 */
export interface RecordHeader {
  readonly key: string
  readonly value: Uint8Array | null
}

export class RecordHeaders implements Iterable<RecordHeader> {
  readonly #list: RecordHeader[]

  constructor(headers?: Iterable<RecordHeader>) {
    this.#list = headers === undefined ? [] : [...headers]
  }

  get size(): number {
    return this.#list.length
  }

  /** The last header with this key. */
  lastHeader(key: string): RecordHeader | undefined {
    for (let i = this.#list.length - 1; i >= 0; i--) if (this.#list[i].key === key) return this.#list[i]
    return undefined
  }

  add(key: string, value: Uint8Array | null): this {
    this.#list.push({ key, value })
    return this
  }

  [Symbol.iterator](): Iterator<RecordHeader> {
    return this.#list[Symbol.iterator]()
  }

  toArray(): RecordHeader[] {
    return [...this.#list]
  }
}
