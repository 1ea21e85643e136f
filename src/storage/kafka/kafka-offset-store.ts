/**
 * Source offsets in the offsets topic (Kafka Connect's `KafkaOffsetBackingStore`): key
 * `["<connector>",{partition}]`, value the offset map, both schemaless JSON bytes; a null value
 * (tombstone) deletes. Keyed records land on `murmur2(key) % partitions` as a Java worker puts them.
 * Lookups match the key bytes first, then the key with its partition fields sorted, so offsets a
 * Java connector wrote in another field order are still found.
 */

import type { Logger } from '../../common/logger.ts'
import { type Log, ownRecord, type ProduceRecord } from '../../log/log.ts'
import { canonicalOffsetKey, type OffsetStore, parseOffsetKey } from '../offset-store.ts'
import { KafkaBasedLog, utf8 } from './kafka-based-log.ts'

export class KafkaOffsetStore implements OffsetStore {
  readonly #data = new Map<string, string>()
  readonly #canonical = new Map<string, string>()
  readonly #log: KafkaBasedLog

  constructor(log: Log, topic: string, clientId: string, logger: Logger) {
    this.#log = new KafkaBasedLog({
      log,
      topic,
      clientId: `${clientId}-offsets`,
      logger,
      readCommitted: true,
      onRecord: (record) => {
        const key = utf8.decode(record.key)
        if (key === null) return
        this.#apply(key, utf8.decode(record.value))
      },
    })
  }

  #apply(key: string, value: string | null): void {
    const canonical = canonicalOffsetKey(key)
    if (value === null) {
      this.#data.delete(key)
      if (canonical !== null) this.#canonical.delete(canonical)
    } else {
      this.#data.set(key, value)
      if (canonical !== null) this.#canonical.set(canonical, key)
    }
  }

  start(): Promise<void> {
    return this.#log.start()
  }

  async get(keys: readonly string[]): Promise<Map<string, string>> {
    await this.#log.readToEnd()
    const out = new Map<string, string>()
    for (const key of keys) {
      let value = this.#data.get(key)
      if (value === undefined) {
        const canonical = canonicalOffsetKey(key)
        const stored = canonical === null ? undefined : this.#canonical.get(canonical)
        if (stored !== undefined) value = this.#data.get(stored)
      }
      if (value !== undefined) out.set(key, value)
    }
    return out
  }

  async set(entries: ReadonlyMap<string, string | null>): Promise<void> {
    if (entries.size === 0) return
    await this.#log.send(
      [...entries].map(([key, value]) => ({
        key: utf8.encode(key),
        value: value === null ? null : utf8.encode(value),
      })),
    )
    for (const [key, value] of entries) this.#apply(key, value)
  }

  transactionRecords(entries: ReadonlyMap<string, string | null>): ProduceRecord[] {
    return [...entries].map(([key, value]) =>
      ownRecord({
        topic: this.#log.topic,
        key: utf8.encode(key),
        value: value === null ? null : utf8.encode(value),
      }),
    )
  }

  applyCommitted(entries: ReadonlyMap<string, string | null>): void {
    for (const [key, value] of entries) this.#apply(key, value)
  }

  async connectorEntries(connector: string): Promise<Map<string, string>> {
    await this.#log.readToEnd()
    const out = new Map<string, string>()
    for (const [key, value] of this.#data)
      if (parseOffsetKey(key)?.connector === connector) out.set(key, value)
    return out
  }

  close(): Promise<void> {
    return this.#log.stop()
  }
}
