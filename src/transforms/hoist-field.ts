/**
 * Kafka's `HoistField`: wraps the key or value in a Struct (with a schema) or a map (without)
 * under the single field `field`.
 */

import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import type { Schema } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  guard,
  mapSet,
  operatingSchema,
  operatingValue,
  SchemaCache,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

export const HOIST_FIELD_CONFIG_DEF = new ConfigDef().define({
  name: 'field',
  type: 'STRING',
  importance: 'MEDIUM',
  documentation: 'Field name for the single field that will be created in the resulting Struct or Map.',
})

export class HoistField extends SidedTransformation implements Transformation {
  #field = ''
  readonly #cache = new SchemaCache()

  constructor(side: Side) {
    super('HoistField', side)
  }

  configure(props: Props): void {
    this.#field = HOIST_FIELD_CONFIG_DEF.parse(props).field as string
  }

  config(): ConfigDef {
    return HOIST_FIELD_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      const value = operatingValue(record, this.side)
      if (schema === null) {
        const map: Record<string, unknown> = {}
        mapSet(map, this.#field, value ?? null)
        return withOperating(record, this.side, null, map)
      }
      const updatedSchema = this.#cache.get(schema, (s: Schema) =>
        SchemaBuilder.struct().field(this.#field, s).build(),
      )
      return withOperating(
        record,
        this.side,
        updatedSchema,
        new Struct(updatedSchema).put(this.#field, value),
      )
    })
  }

  close(): void {
    this.#cache.clear()
  }
}
