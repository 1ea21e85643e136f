/**
 * Kafka's `SetSchemaMetadata`: sets the name and/or version of the key or value schema; a Struct
 * value is rebuilt on the renamed schema. Needs a schema (a schemaless null passes through).
 */

import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { ConnectSchema, type Schema } from '../api/data/schema.ts'
import { Struct } from '../api/data/struct.ts'
import { ConfigError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  fieldValue,
  guard,
  operatingSchema,
  operatingValue,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireSchema,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

export const SET_SCHEMA_METADATA_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'schema.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Schema name to set.',
  })
  .define({
    name: 'schema.version',
    type: 'INT',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Schema version to set.',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })

export class SetSchemaMetadata extends SidedTransformation implements Transformation {
  #schemaName: string | null = null
  #schemaVersion: number | null = null
  #replaceNullWithDefault = true

  constructor(side: Side) {
    super('SetSchemaMetadata', side)
  }

  configure(props: Props): void {
    const config = SET_SCHEMA_METADATA_CONFIG_DEF.parse(props)
    this.#schemaName = config['schema.name'] as string | null
    this.#schemaVersion = config['schema.version'] as number | null
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
    if (this.#schemaName === null && this.#schemaVersion === null) {
      throw new ConfigError('schema.name', 'Neither schema name nor version configured')
    }
  }

  config(): ConfigDef {
    return SET_SCHEMA_METADATA_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = operatingValue(record, this.side)
    const current = operatingSchema(record, this.side)
    if ((value === null || value === undefined) && current === null) return record
    return guard(this.name, record, () => {
      const schema = requireSchema(current, 'updating schema metadata')
      const updatedSchema: Schema = new ConnectSchema({
        type: schema.type,
        optional: schema.optional,
        defaultValue: schema.defaultValue instanceof Struct ? undefined : schema.defaultValue,
        name: this.#schemaName ?? schema.name,
        version: this.#schemaVersion ?? schema.version,
        doc: schema.doc,
        parameters: schema.parameters ? { ...schema.parameters } : undefined,
        fields: schema.fields,
        keySchema: schema.type === 'MAP' ? schema.keySchema : undefined,
        valueSchema: schema.type === 'MAP' || schema.type === 'ARRAY' ? schema.valueSchema : undefined,
      })
      let updated = value
      if (value instanceof Struct) {
        const struct = new Struct(updatedSchema)
        for (const f of updatedSchema.fields)
          struct.put(f, fieldValue(value, f.name, this.#replaceNullWithDefault))
        updated = struct
      }
      return withOperating(record, this.side, updatedSchema, updated)
    })
  }
}
