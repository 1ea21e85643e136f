import type { Schema } from './schema.ts'

/** A value together with its schema (null when schemaless), as converters return them. */
export interface SchemaAndValue {
  readonly schema: Schema | null
  readonly value: unknown
}

export const NULL_SCHEMA_AND_VALUE: SchemaAndValue = Object.freeze({ schema: null, value: null })
