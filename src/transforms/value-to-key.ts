/**
 * Kafka's `ValueToKey`: the key becomes a Struct (with a schema) or map (without) of the listed
 * value fields.
 */

import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { nonEmptyList } from './config-validators.ts'
import {
  fieldValue,
  guard,
  mapGet,
  mapSet,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireMap,
  requireStruct,
  SchemaCache,
} from './transform-support.ts'

const PURPOSE = 'copying fields from value to key'

export const VALUE_TO_KEY_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'fields',
    type: 'LIST',
    validator: nonEmptyList,
    importance: 'HIGH',
    documentation: 'Field names on the record value to extract as the record key.',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

export class ValueToKey implements Transformation {
  #fields: string[] = []
  #replaceNullWithDefault = true
  readonly #cache = new SchemaCache()

  configure(props: Props): void {
    const config = VALUE_TO_KEY_CONFIG_DEF.parse(props)
    this.#fields = config.fields as string[]
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
  }

  config(): ConfigDef {
    return VALUE_TO_KEY_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    return guard('ValueToKey', record, () => {
      if (record.valueSchema === null) {
        const value = requireMap(record.value, PURPOSE)
        const key: Record<string, unknown> = {}
        for (const field of this.#fields) mapSet(key, field, mapGet(value, field))
        return record.newRecord({ keySchema: null, key })
      }
      const value = requireStruct(record.value, PURPOSE)
      const keySchema = this.#cache.get(value.schema, (s) => {
        const builder = SchemaBuilder.struct()
        for (const field of this.#fields) {
          const f = s.field(field)
          if (!f) throw new DataError(`Field does not exist: ${field}`)
          builder.field(field, f.schema)
        }
        return builder.build()
      })
      const key = new Struct(keySchema)
      for (const field of this.#fields) key.put(field, fieldValue(value, field, this.#replaceNullWithDefault))
      return record.newRecord({ keySchema, key, valueSchema: value.schema, value })
    })
  }

  close(): void {
    this.#cache.clear()
  }
}
