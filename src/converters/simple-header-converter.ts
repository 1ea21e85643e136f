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

export class SimpleHeaderConverter implements HeaderConverter {
  config(): ConfigDef {
    return new ConfigDef()
  }

  configure(_configs: Readonly<Record<string, string>>): void {}

  fromConnectHeader(
    _topic: string,
    _headerKey: string,
    schema: Schema | null,
    value: unknown,
  ): Uint8Array | null {
    const text = convertToString(schema, value)
    return text === null ? null : encodeString(text, 'utf8')
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
