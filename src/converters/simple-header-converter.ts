/**
 * `org.apache.kafka.connect.storage.SimpleHeaderConverter`, Kafka Connect's default header
 * converter: a header value is written as its `Values.convertToString` text in UTF-8 (no schema
 * travels with it) and read back with `Values.parseString`'s type inference — see ./values.ts for
 * the rules and for what is simplified. Text that cannot be read at all comes back as the raw
 * bytes with a BYTES schema, as in Kafka.
 */

import { ConfigDef } from '../api/config-def.ts'
import type { HeaderConverter } from '../api/converter.ts'
import { type Schema, Schemas } from '../api/data/schema.ts'
import { NULL_SCHEMA_AND_VALUE, type SchemaAndValue } from '../api/data/schema-and-value.ts'
import { convertToString, parseString } from '../api/data/values.ts'
import { encodeString } from './string-converter.ts'

/** Header keys whose last text and bytes are remembered (beyond this, texts are encoded every time). */
const REMEMBERED_KEYS = 256

export class SimpleHeaderConverter implements HeaderConverter {
  /**
   * Per header key, the last string value and its bytes. A source's context headers (Debezium's four on
   * every change event) repeat their value on every record: their bytes are made once and shared by
   * the records, instead of a new Buffer per header per record (~400 B and four allocations per CDC
   * event). Shared bytes are only read: the log writes them into its record batches.
   */
  readonly #last = new Map<string, { text: string; bytes: Uint8Array }>()

  config(): ConfigDef {
    return new ConfigDef()
  }

  configure(_configs: Readonly<Record<string, string>>): void {}

  fromConnectHeader(
    _topic: string,
    headerKey: string,
    schema: Schema | null,
    value: unknown,
  ): Uint8Array | null {
    if (typeof value === 'string') {
      const last = this.#last.get(headerKey)
      if (last !== undefined && last.text === value) return last.bytes
    }
    const text = convertToString(schema, value)
    if (text === null) return null
    const bytes = encodeString(text, 'utf8')
    if (
      typeof value === 'string' &&
      text === value &&
      (this.#last.size < REMEMBERED_KEYS || this.#last.has(headerKey))
    )
      this.#last.set(headerKey, { text, bytes })
    return bytes
  }

  toConnectHeader(_topic: string, _headerKey: string, value: Uint8Array | null): SchemaAndValue {
    if (value == null) return NULL_SCHEMA_AND_VALUE
    const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
    try {
      return parseString(text) ?? NULL_SCHEMA_AND_VALUE
    } catch {
      // Kafka logs a warning and keeps the header as bytes.
      return { schema: Schemas.BYTES, value }
    }
  }

  close(): void {}
}
