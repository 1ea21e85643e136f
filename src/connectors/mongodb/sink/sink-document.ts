/**
 * A record's key and value as BSON documents, converted on first use (the official connector's
 * `SinkDocument` with `LazyBsonDocument`s): a key that is not a document (a plain string or number)
 * fails only a record whose id strategy, namespace mapper or handler actually reads the key.
 */
import type { SinkRecord } from '../../../api/records.ts'
import { type BsonDocument, cloneDocument, toDocument } from '../bson-document.ts'

export class SinkDocument {
  readonly record: SinkRecord
  #key: BsonDocument | undefined | null = null
  #value: BsonDocument | undefined | null = null

  constructor(record: SinkRecord) {
    this.record = record
  }

  get hasKey(): boolean {
    return this.record.key !== null && this.record.key !== undefined
  }

  get hasValue(): boolean {
    return this.record.value !== null && this.record.value !== undefined
  }

  /** The key document, or undefined for a null key. Throws a DataError when the key is not document-shaped. */
  get key(): BsonDocument | undefined {
    if (this.#key === null) this.#key = toDocument(this.record.keySchema, this.record.key, 'key')
    return this.#key
  }

  set key(doc: BsonDocument | undefined) {
    this.#key = doc
  }

  get value(): BsonDocument | undefined {
    if (this.#value === null) this.#value = toDocument(this.record.valueSchema, this.record.value, 'value')
    return this.#value
  }

  set value(doc: BsonDocument | undefined) {
    this.#value = doc
  }

  /** A copy whose documents can be changed without touching this one. */
  clone(): SinkDocument {
    const copy = new SinkDocument(this.record)
    copy.key = this.key === undefined ? undefined : cloneDocument(this.key)
    copy.value = this.value === undefined ? undefined : cloneDocument(this.value)
    return copy
  }
}
