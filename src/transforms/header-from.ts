/**
 * Kafka's `HeaderFrom`: copies (`operation=copy`) or moves (`move`) fields of the key or value into
 * headers; `fields` and `headers` pair up by position. With a schema the header carries the field's
 * schema; a moved field leaves the struct's schema.
 */

import { ConfigDef, ValidString } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import type { Schema } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { ConfigError, DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { nonEmptyList } from './config-validators.ts'
import {
  copyMap,
  copySchemaBasics,
  fieldValue,
  guard,
  mapDelete,
  mapGet,
  operatingSchema,
  operatingValue,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireMap,
  requireStruct,
  SchemaCache,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

export const HEADER_FROM_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'fields',
    type: 'LIST',
    validator: nonEmptyList,
    importance: 'HIGH',
    documentation: 'Field names in the record whose values are to be copied or moved to headers.',
  })
  .define({
    name: 'headers',
    type: 'LIST',
    validator: nonEmptyList,
    importance: 'HIGH',
    documentation:
      'Header names, in the same order as the field names listed in the fields configuration property.',
  })
  .define({
    name: 'operation',
    type: 'STRING',
    validator: ValidString.in('move', 'copy'),
    importance: 'HIGH',
    documentation:
      'Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

export class HeaderFrom extends SidedTransformation implements Transformation {
  #fields: string[] = []
  #headers: string[] = []
  #move = false
  #replaceNullWithDefault = true
  readonly #moveCache = new SchemaCache()

  constructor(side: Side) {
    super('HeaderFrom', side)
  }

  configure(props: Props): void {
    const config = HEADER_FROM_CONFIG_DEF.parse(props)
    this.#fields = config.fields as string[]
    this.#headers = config.headers as string[]
    if (this.#fields.length !== this.#headers.length) {
      throw new ConfigError(
        'headers',
        "'fields' config must have the same number of elements as 'headers' config.",
      )
    }
    this.#move = config.operation === 'move'
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
  }

  config(): ConfigDef {
    return HEADER_FROM_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      const value = operatingValue(record, this.side)
      const purpose = `header ${this.#move ? 'move' : 'copy'}`
      const headers = record.headers.duplicate()
      if (schema === null) {
        const map = requireMap(value, purpose)
        const updated = copyMap(map)
        this.#fields.forEach((field, i) => {
          if (this.#move) mapDelete(updated, field)
          headers.add(this.#headers[i], mapGet(map, field), null)
        })
        return withOperating(record, this.side, null, updated, headers)
      }
      const struct = requireStruct(value, purpose)
      let updatedSchema: Schema = schema
      let updated: Struct = struct
      if (this.#move) {
        updatedSchema = this.#moveCache.get(schema, (s) => {
          const builder = copySchemaBasics(s, SchemaBuilder.struct())
          for (const f of s.fields) if (!this.#fields.includes(f.name)) builder.field(f.name, f.schema)
          return builder.build()
        })
        updated = new Struct(updatedSchema)
        for (const f of updatedSchema.fields)
          updated.put(f.name, fieldValue(struct, f.name, this.#replaceNullWithDefault))
      }
      this.#fields.forEach((field, i) => {
        const f = schema.field(field)
        if (!f)
          throw new DataError(
            `field '${field}' is not in the schema; it has: ${schema.fields.map((x) => x.name).join(', ')}`,
          )
        headers.add(this.#headers[i], fieldValue(struct, field, this.#replaceNullWithDefault), f.schema)
      })
      return withOperating(record, this.side, updatedSchema, updated, headers)
    })
  }

  close(): void {
    this.#moveCache.clear()
  }
}
