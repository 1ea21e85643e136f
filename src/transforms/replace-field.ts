/**
 * Kafka's `ReplaceField`: keeps only `include`d fields (all when empty), drops `exclude`d ones
 * (exclude wins) and renames (`renames=old:new,…`) in a Struct or map. Null keys and values pass
 * through. The names Kafka 2.x used, `whitelist` and `blacklist`, are still read when `include` and
 * `exclude` are not set (removed in Kafka 4.0; kept here so older configs keep working).
 */

import { ConfigDef, validator } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import type { Schema } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { Struct } from '../api/data/struct.ts'
import { ConfigError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  copySchemaBasics,
  emptyLike,
  fieldValue,
  guard,
  mapSet,
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

const PURPOSE = 'field replacement'

/** `old:new` pairs; a ConfigError on `renames` for anything else. */
export function parseRenameMappings(mappings: readonly string[]): Map<string, string> {
  const renames = new Map<string, string>()
  for (const mapping of mappings) {
    const parts = mapping.split(':')
    if (parts.length !== 2) {
      throw new ConfigError(
        'renames',
        `Invalid value ${mappings.join(',')} for configuration renames: Invalid rename mapping: ${mapping}`,
      )
    }
    renames.set(parts[0], parts[1])
  }
  return renames
}

export const REPLACE_FIELD_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'exclude',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'Fields to exclude. This takes precedence over the fields to include.',
  })
  .define({
    name: 'include',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'Fields to include. If specified, only these fields will be used.',
  })
  .define({
    name: 'renames',
    type: 'LIST',
    defaultValue: '',
    validator: validator('list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>', (value) => {
      parseRenameMappings((value as string[] | null) ?? [])
      return undefined
    }),
    importance: 'MEDIUM',
    documentation: 'Field rename mappings.',
  })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })
  .define({
    name: 'blacklist',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Deprecated. Use exclude instead; read only when exclude is not set.',
  })
  .define({
    name: 'whitelist',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Deprecated. Use include instead; read only when include is not set.',
  })

export class ReplaceField extends SidedTransformation implements Transformation {
  #exclude = new Set<string>()
  #include = new Set<string>()
  #renames = new Map<string, string>()
  #reverse = new Map<string, string>()
  #replaceNullWithDefault = true
  readonly #cache = new SchemaCache()

  constructor(side: Side) {
    super('ReplaceField', side)
  }

  configure(props: Props): void {
    const config = REPLACE_FIELD_CONFIG_DEF.parse(props)
    const pick = (current: string, deprecated: string): string[] =>
      ((props[current] === undefined && props[deprecated] !== undefined
        ? config[deprecated]
        : config[current]) as string[] | null) ?? []
    this.#exclude = new Set(pick('exclude', 'blacklist'))
    this.#include = new Set(pick('include', 'whitelist'))
    this.#renames = parseRenameMappings(config.renames as string[])
    this.#reverse = new Map([...this.#renames].map(([k, v]) => [v, k]))
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
  }

  config(): ConfigDef {
    return REPLACE_FIELD_CONFIG_DEF
  }

  #keeps(field: string): boolean {
    return !this.#exclude.has(field) && (this.#include.size === 0 || this.#include.has(field))
  }

  #renamed(field: string): string {
    return this.#renames.get(field) ?? field
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = operatingValue(record, this.side)
    if (value === null || value === undefined) return record
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      if (schema === null) {
        const map = requireMap(value, PURPOSE)
        const updated = emptyLike(map)
        if (map instanceof Map) {
          for (const [k, v] of map) {
            const key = String(k)
            if (this.#keeps(key)) mapSet(updated, this.#renamed(key), v)
          }
        } else {
          for (const key of Object.keys(map))
            if (this.#keeps(key)) mapSet(updated, this.#renamed(key), map[key])
        }
        return withOperating(record, this.side, null, updated)
      }
      const struct = requireStruct(value, PURPOSE)
      const updatedSchema = this.#cache.get(struct.schema, (s: Schema) => {
        const builder = copySchemaBasics(s, SchemaBuilder.struct())
        for (const f of s.fields) if (this.#keeps(f.name)) builder.field(this.#renamed(f.name), f.schema)
        return builder.build()
      })
      const updated = new Struct(updatedSchema)
      for (const f of updatedSchema.fields) {
        updated.put(
          f.name,
          fieldValue(struct, this.#reverse.get(f.name) ?? f.name, this.#replaceNullWithDefault),
        )
      }
      return withOperating(record, this.side, updatedSchema, updated)
    })
  }

  close(): void {
    this.#cache.clear()
  }
}
