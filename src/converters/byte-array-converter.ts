/**
 * `org.apache.kafka.connect.converters.ByteArrayConverter`: record bytes pass through untouched.
 * Writing accepts only BYTES schemas (or none) and byte arrays; reading always gives
 * OPTIONAL_BYTES. As in Kafka, the bytes are not copied.
 */

import type { ConfigDef } from '../api/config-def.ts'
import { javaClassOf } from '../api/data/java-text.ts'
import { type Schema, Schemas } from '../api/data/schema.ts'
import type { SchemaAndValue } from '../api/data/schema-and-value.ts'
import { DataError } from '../api/errors.ts'
import { newConverterConfigDef } from './converter-config.ts'
import { DataHeaderConverter } from './data-header-converter.ts'

export class ByteArrayConverter extends DataHeaderConverter {
  config(): ConfigDef {
    return newConverterConfigDef()
  }

  /** Nothing to configure (Kafka's does not even check `converter.type`). */
  configure(_configs: Readonly<Record<string, string>>, _isKey?: boolean): void {}

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Uint8Array | null {
    if (schema != null && schema.type !== 'BYTES') {
      throw new DataError(`Invalid schema type for ByteArrayConverter: ${schema.type}`)
    }
    if (value != null && !(value instanceof Uint8Array)) {
      throw new DataError(`ByteArrayConverter is not compatible with objects of type ${javaClassOf(value)}`)
    }
    return value ?? null
  }

  toConnectData(_topic: string, value: Uint8Array | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_BYTES, value }
  }
}
