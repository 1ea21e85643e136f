/**
 * Avro for connectors and converters: Confluent's Connect ↔ Avro mapping (`AvroData`), Avro schema
 * trees and their Java-identical text, and Avro binary through avsc.
 */

export {
  type AvroCodec,
  AvroContainerEncoder,
  type AvroContainerOptions,
  encodeAvroContainer,
} from './avro-container.ts'
export { AvroData, type AvroReader, type AvroWriter, avscType, readAvro } from './avro-data.ts'
export * from './avro-data-config.ts'
export {
  type AvroField,
  type AvroNamedSchema,
  type AvroSchema,
  avroSchemaText,
  fullName,
  type Json,
  parseAvroSchema,
} from './avro-schema.ts'
