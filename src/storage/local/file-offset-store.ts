import { canonicalOffsetKey, type OffsetStore, parseOffsetKey } from '../offset-store.ts'
import { readJsonFile, restrictFileMode, writeJsonFileAtomic } from './json-file.ts'

interface OffsetFile {
  version: 1
  /** [key, value] pairs in Kafka Connect's offset-topic JSON. */
  offsets: [string, string][]
}

/**
 * Standalone source offsets in one JSON file (Kafka Connect uses a Java-serialized file there,
 * which nothing but Java reads; the keys and values inside are the same JSON). Each `set` rewrites
 * the file atomically and fsyncs it, so after a crash it holds either the old or the new offsets.
 */
export class FileOffsetStore implements OffsetStore {
  readonly #file: string
  readonly #entries = new Map<string, string>()
  /** Canonical (sorted-field) key → stored key, so keys written with another field order still match. */
  readonly #canonical = new Map<string, string>()
  #writing: Promise<void> = Promise.resolve()

  private constructor(file: string) {
    this.#file = file
  }

  static async open(file: string): Promise<FileOffsetStore> {
    const store = new FileOffsetStore(file)
    restrictFileMode(file)
    const content = await readJsonFile<OffsetFile>(file)
    for (const [k, v] of content?.offsets ?? []) store.#put(k, v)
    return store
  }

  async get(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const key of keys) {
      const stored = this.#entries.has(key) ? key : this.#canonical.get(canonicalOffsetKey(key) ?? key)
      if (stored !== undefined) out.set(key, this.#entries.get(stored)!)
    }
    return out
  }

  async set(entries: ReadonlyMap<string, string | null>): Promise<void> {
    for (const [k, v] of entries) {
      if (v === null) this.#delete(k)
      else this.#put(k, v)
    }
    const snapshot: OffsetFile = { version: 1, offsets: [...this.#entries] }
    // Writes are chained so a slow older write never lands after a newer one.
    const write = this.#writing.then(() => writeJsonFileAtomic(this.#file, snapshot))
    this.#writing = write.catch(() => {})
    await write
  }

  /** Every stored entry (to carry them into another store). */
  entries(): Map<string, string> {
    return new Map(this.#entries)
  }

  async connectorEntries(connector: string): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const [k, v] of this.#entries) if (parseOffsetKey(k)?.connector === connector) out.set(k, v)
    return out
  }

  async close(): Promise<void> {
    await this.#writing
  }

  #put(key: string, value: string): void {
    const canonical = canonicalOffsetKey(key)
    const previous = canonical ? this.#canonical.get(canonical) : undefined
    if (previous !== undefined && previous !== key) this.#entries.delete(previous)
    this.#entries.set(key, value)
    if (canonical) this.#canonical.set(canonical, key)
  }

  #delete(key: string): void {
    const canonical = canonicalOffsetKey(key)
    const stored = canonical ? (this.#canonical.get(canonical) ?? key) : key
    this.#entries.delete(stored)
    if (canonical) this.#canonical.delete(canonical)
  }
}
