import type { OffsetStorageReader } from '../api/connector.ts'
import type { OffsetMap } from '../api/records.ts'
import { type OffsetStore, offsetKey, parseOffsetValue } from '../storage/offset-store.ts'

/** Reads one connector's source offsets (Kafka Connect's `OffsetStorageReaderImpl`). */
export class ConnectorOffsetReader implements OffsetStorageReader {
  readonly #connector: string
  readonly #store: OffsetStore

  constructor(connector: string, store: OffsetStore) {
    this.#connector = connector
    this.#store = store
  }

  async offset(partition: OffsetMap): Promise<OffsetMap | null> {
    return (await this.offsets([partition])).get(partition) ?? null
  }

  async offsets(partitions: readonly OffsetMap[]): Promise<Map<OffsetMap, OffsetMap | null>> {
    const keys = partitions.map((p) => offsetKey(this.#connector, p))
    const stored = await this.#store.get(keys)
    const out = new Map<OffsetMap, OffsetMap | null>()
    partitions.forEach((p, i) => {
      const text = stored.get(keys[i])
      out.set(p, text === undefined ? null : parseOffsetValue(text, keys[i]))
    })
    return out
  }
}

/**
 * Collects the latest committable offset of each source partition of one task and writes them in
 * one go (Kafka Connect's `OffsetStorageWriter`, one per task: never shared, so a flush carries only
 * its task's offsets). Offsets handed to `offset()` must already be safe: every record up to them
 * acknowledged by the log.
 */
export class ConnectorOffsetWriter {
  readonly #connector: string
  readonly #store: OffsetStore
  #pending = new Map<string, string | null>()

  constructor(connector: string, store: OffsetStore) {
    this.#connector = connector
    this.#store = store
  }

  offset(partition: OffsetMap, offset: OffsetMap | null): void {
    this.#pending.set(offsetKey(this.#connector, partition), offset === null ? null : JSON.stringify(offset))
  }

  get hasPending(): boolean {
    return this.#pending.size > 0
  }

  /**
   * Writes what was collected. On failure the offsets are kept and retried at the next flush
   * (newer offsets for the same partitions given meanwhile win).
   */
  async flush(timeoutMs: number): Promise<void> {
    if (this.#pending.size === 0) return
    const batch = this.#pending
    this.#pending = new Map()
    try {
      await withTimeout(this.#store.set(batch), timeoutMs, 'offset commit')
    } catch (error) {
      for (const [k, v] of batch) if (!this.#pending.has(k)) this.#pending.set(k, v)
      throw error
    }
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return promise
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
