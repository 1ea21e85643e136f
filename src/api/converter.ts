/**
 * Converters turn Connect data into bytes for the log and back (Java's `Converter` and
 * `HeaderConverter`). A converter is configured once per connector with its `key.converter.*`,
 * `value.converter.*` or `header.converter.*` keys (prefix stripped).
 */

import type { ConfigDef } from './config-def.ts'
import type { Schema } from './data/schema.ts'
import type { SchemaAndValue } from './data/schema-and-value.ts'
import type { Headers } from './headers.ts'

export interface Converter {
  configure(configs: Readonly<Record<string, string>>, isKey: boolean): void
  /** Bytes for the log; `null` for a null value (a tombstone when it is the record value). */
  fromConnectData(topic: string, schema: Schema | null, value: unknown, headers?: Headers): Uint8Array | null
  toConnectData(topic: string, value: Uint8Array | null, headers?: Headers): SchemaAndValue
  /** The converter's own keys, for `config/validate` and the docs. */
  config?(): ConfigDef
  close?(): void
}

export interface HeaderConverter {
  configure(configs: Readonly<Record<string, string>>): void
  fromConnectHeader(
    topic: string,
    headerKey: string,
    schema: Schema | null,
    value: unknown,
  ): Uint8Array | null
  toConnectHeader(topic: string, headerKey: string, value: Uint8Array | null): SchemaAndValue
  config?(): ConfigDef
  close?(): void
}
