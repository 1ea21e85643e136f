import type { Converter, HeaderConverter } from '../api/converter.ts'
import type { Schema } from '../api/data/schema.ts'
import type { SchemaAndValue } from '../api/data/schema-and-value.ts'
import type { Headers } from '../api/headers.ts'

/**
 * A converter that also serves as a header converter, as Kafka's JSON, String, ByteArray and number
 * converters do: a header value is converted exactly like record data of the same topic.
 */
export abstract class DataHeaderConverter implements Converter, HeaderConverter {
  abstract configure(configs: Readonly<Record<string, string>>, isKey?: boolean): void
  abstract fromConnectData(
    topic: string,
    schema: Schema | null,
    value: unknown,
    headers?: Headers,
  ): Uint8Array | null
  abstract toConnectData(topic: string, value: Uint8Array | null, headers?: Headers): SchemaAndValue

  fromConnectHeader(
    topic: string,
    _headerKey: string,
    schema: Schema | null,
    value: unknown,
  ): Uint8Array | null {
    return this.fromConnectData(topic, schema, value)
  }

  toConnectHeader(topic: string, _headerKey: string, value: Uint8Array | null): SchemaAndValue {
    return this.toConnectData(topic, value)
  }

  close(): void {}
}
