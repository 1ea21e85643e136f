/**
 * Kafka's `Flatten`: nested Structs (with a schema) or maps (without) become one level, field names
 * joined with `delimiter`. Arrays are kept as they are. A flattened field is optional when any
 * ancestor was, and takes its default from the nearest ancestor default when it has none itself.
 */

import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { PRIMITIVE_TYPES, type Schema, type SchemaType } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  copySchemaBasics,
  emptyLike,
  guard,
  isMapValue,
  javaClassName,
  type MapValue,
  mapEntriesOf,
  mapSet,
  operatingSchema,
  operatingValue,
  requireMap,
  requireStructOrNull,
  SchemaCache,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

const PURPOSE = 'flattening'
/** Copied as they are: primitives and arrays; structs (and maps) are flattened. */
const LEAF_TYPES: ReadonlySet<SchemaType> = new Set([...PRIMITIVE_TYPES, 'ARRAY'])

export const FLATTEN_CONFIG_DEF = new ConfigDef().define({
  name: 'delimiter',
  type: 'STRING',
  defaultValue: '.',
  importance: 'MEDIUM',
  documentation:
    'Delimiter to insert between field names from the input record when generating field names for the output record',
})

export class Flatten extends SidedTransformation implements Transformation {
  #delimiter = '.'
  readonly #cache = new SchemaCache()

  constructor(side: Side) {
    super('Flatten', side)
  }

  configure(props: Props): void {
    this.#delimiter = FLATTEN_CONFIG_DEF.parse(props).delimiter as string
  }

  config(): ConfigDef {
    return FLATTEN_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = operatingValue(record, this.side)
    if (value === null || value === undefined) return record
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      if (schema === null) {
        const map = requireMap(value, PURPOSE)
        const flat = emptyLike(map)
        this.#flattenMap(map, '', flat)
        return withOperating(record, this.side, null, flat)
      }
      const struct = requireStructOrNull(value, PURPOSE)
      const updatedSchema = this.#cache.get(schema, (s) => {
        const builder = copySchemaBasics(s, SchemaBuilder.struct())
        this.#buildSchema(s, '', builder, s.optional, (s.defaultValue as Struct | undefined) ?? null)
        return builder.build()
      })
      if (struct === null) return withOperating(record, this.side, updatedSchema, null)
      const flat = new Struct(updatedSchema)
      this.#flattenStruct(struct, '', flat)
      return withOperating(record, this.side, updatedSchema, flat)
    })
  }

  #fieldName(prefix: string, name: string): string {
    return prefix === '' ? name : `${prefix}${this.#delimiter}${name}`
  }

  #flattenMap(map: MapValue, prefix: string, out: MapValue): void {
    for (const [key, value] of mapEntriesOf(map)) {
      const name = this.#fieldName(prefix, String(key))
      if (value === null || value === undefined) {
        mapSet(out, name, null)
      } else if (isMapValue(value)) {
        this.#flattenMap(value, name, out)
      } else if (value instanceof Struct) {
        throw new DataError(
          `Flatten transformation does not support class org.apache.kafka.connect.data.Struct for record without schemas (for field ${name}).`,
        )
      } else if (
        ['number', 'bigint', 'boolean', 'string'].includes(typeof value) ||
        value instanceof Uint8Array ||
        Array.isArray(value)
      ) {
        mapSet(out, name, value)
      } else {
        throw new DataError(
          `Flatten transformation was passed a value of type class ${javaClassName(value)} which is not supported by Connect's data API`,
        )
      }
    }
  }

  #buildSchema(
    schema: Schema,
    prefix: string,
    builder: SchemaBuilder,
    optional: boolean,
    defaultFromParent: Struct | null,
  ): void {
    for (const field of schema.fields) {
      const name = this.#fieldName(prefix, field.name)
      const fieldOptional = optional || field.schema.optional
      let fieldDefault: unknown = null
      if (field.schema.defaultValue !== undefined && field.schema.defaultValue !== null) {
        fieldDefault = field.schema.defaultValue
      } else if (defaultFromParent) {
        fieldDefault = defaultFromParent.get(field.name)
      }
      if (LEAF_TYPES.has(field.schema.type)) {
        const fieldBuilder = copySchemaBasics(field.schema)
        if (fieldOptional) fieldBuilder.optional()
        if (fieldDefault !== null && fieldDefault !== undefined) fieldBuilder.defaultValue(fieldDefault)
        builder.field(name, fieldBuilder.build())
      } else if (field.schema.type === 'STRUCT') {
        this.#buildSchema(field.schema, name, builder, fieldOptional, (fieldDefault as Struct | null) ?? null)
      } else {
        throw new DataError(
          `Flatten transformation does not support ${field.schema.type} for record with schemas (for field ${name}).`,
        )
      }
    }
  }

  #flattenStruct(struct: Struct | null, prefix: string, out: Struct): void {
    if (struct === null) return
    for (const field of struct.schema.fields) {
      const name = this.#fieldName(prefix, field.name)
      if (LEAF_TYPES.has(field.schema.type)) out.put(name, struct.get(field))
      else if (field.schema.type === 'STRUCT')
        this.#flattenStruct(struct.get(field) as Struct | null, name, out)
      else {
        throw new DataError(
          `Flatten transformation does not support ${field.schema.type} for record with schemas (for field ${name}).`,
        )
      }
    }
  }

  close(): void {
    this.#cache.clear()
  }
}
