/**
 * Converters turn Connect data into bytes for the log and back (Java's `Converter` and
 * `HeaderConverter`). A converter is configured once per connector with its `key.converter.*`,
 * `value.converter.*` or `header.converter.*` keys (prefix stripped).
 *
 * A conversion may return a promise where Java would block on I/O: a schema-registry converter
 * answers from its caches synchronously and returns a promise only when it must ask the registry
 * (an id it has not seen). The runtime awaits only what is a promise, so converters that never do
 * I/O cost nothing extra; callers use `isPromise` to tell.
 *
 * `headers`: the record's headers as bytes (`RecordHeaders`, Java's semantics), which a converter
 * may read and add to. A runtime that does not hand them over passes the record's Connect
 * `Headers` (source side) or nothing (sink side); converters that need the bytes check for
 * `RecordHeaders` and say so when they are missing.
 */

import type { ConfigDef } from './config-def.ts'
import type { MaybePromise } from './connector.ts'
import type { Schema } from './data/schema.ts'
import type { SchemaAndValue } from './data/schema-and-value.ts'
import type { Headers } from './headers.ts'
import type { RecordHeaders } from './record-headers.ts'

/** True when a conversion result is a promise to await. */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise
}

export interface Converter {
  configure(configs: Readonly<Record<string, string>>, isKey: boolean): void
  /** Bytes for the log; `null` for a null value (a tombstone when it is the record value). */
  fromConnectData(
    topic: string,
    schema: Schema | null,
    value: unknown,
    headers?: RecordHeaders | Headers,
  ): MaybePromise<Uint8Array | null>
  toConnectData(
    topic: string,
    value: Uint8Array | null,
    headers?: RecordHeaders | Headers,
  ): MaybePromise<SchemaAndValue>
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
  ): MaybePromise<Uint8Array | null>
  toConnectHeader(topic: string, headerKey: string, value: Uint8Array | null): MaybePromise<SchemaAndValue>
  config?(): ConfigDef
  close?(): void
}
