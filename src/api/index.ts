/**
 * The public API of Sluice for connector, converter and transform authors — the package root
 * export. Everything a built-in plugin uses is here; nothing of the runtime is.
 */
export { AvroData, type AvroSchema, avroSchemaText, parseAvroSchema } from './avro/index.ts'
export * from './config-def.ts'
export type * from './config-provider.ts'
export * from './connector.ts'
export type * from './converter.ts'
export { isPromise } from './converter.ts'
export { BigDecimal } from './data/big-decimal.ts'
export { DateType, Decimal, TimestampType, TimeType } from './data/logical-types.ts'
export * from './data/schema.ts'
export type * from './data/schema-and-value.ts'
export { SchemaBuilder } from './data/schema-builder.ts'
export { Struct } from './data/struct.ts'
export * from './errors.ts'
export * from './headers.ts'
export { type ConnectLogger, connectLogger } from './log.ts'
export type * from './plugin.ts'
export * from './records.ts'
export * from './topic-partition.ts'
export * from './topic-reader.ts'
export type * from './transformation.ts'
