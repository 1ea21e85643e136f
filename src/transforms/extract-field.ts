/**
 * Kafka's `ExtractField`: replaces the key or value with one of its fields — of a Struct when there
 * is a schema, of a map otherwise. Null keys and values pass through. With
 * `field.syntax.version=V2` the field may be a dotted path to a nested field (KIP-821).
 */
import { ConfigDef, ValidString } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { DataError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import {
  FIELD_SYNTAX_VERSION_CONFIG,
  FIELD_SYNTAX_VERSION_DOC,
  type FieldSyntaxVersion,
  SingleFieldPath,
} from './field-path.ts'
import {
  guard,
  operatingSchema,
  operatingValue,
  REPLACE_NULL_WITH_DEFAULT_DOC,
  requireMapOrNull,
  requireStructOrNull,
  type Side,
  SidedTransformation,
  withOperating,
} from './transform-support.ts'

const PURPOSE = 'field extraction'

export const EXTRACT_FIELD_CONFIG_DEF = new ConfigDef()
  .define({ name: 'field', type: 'STRING', importance: 'MEDIUM', documentation: 'Field name to extract.' })
  .define({
    name: 'replace.null.with.default',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: REPLACE_NULL_WITH_DEFAULT_DOC,
  })
  .define({
    name: FIELD_SYNTAX_VERSION_CONFIG,
    type: 'STRING',
    defaultValue: 'V1',
    validator: ValidString.inIgnoringCase('V1', 'V2'),
    importance: 'HIGH',
    documentation: FIELD_SYNTAX_VERSION_DOC,
  })

export class ExtractField extends SidedTransformation implements Transformation {
  #path = new SingleFieldPath('', 'V1')
  #original = ''
  #replaceNullWithDefault = true

  constructor(side: Side) {
    super('ExtractField', side)
  }

  configure(props: Props): void {
    const config = EXTRACT_FIELD_CONFIG_DEF.parse(props)
    this.#original = config.field as string
    const version = (config[FIELD_SYNTAX_VERSION_CONFIG] as string).toUpperCase() as FieldSyntaxVersion
    this.#path = new SingleFieldPath(this.#original, version)
    this.#replaceNullWithDefault = config['replace.null.with.default'] as boolean
  }

  config(): ConfigDef {
    return EXTRACT_FIELD_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    return guard(this.name, record, () => {
      const schema = operatingSchema(record, this.side)
      const value = operatingValue(record, this.side)
      if (schema === null) {
        const map = requireMapOrNull(value, PURPOSE)
        return withOperating(record, this.side, null, map === null ? null : this.#path.valueFromMap(map))
      }
      const struct = requireStructOrNull(value, PURPOSE)
      const field = this.#path.fieldFrom(schema)
      if (!field) throw new DataError(`Unknown field: ${this.#original}`)
      const extracted =
        struct === null ? null : this.#path.valueFromStruct(struct, this.#replaceNullWithDefault)
      return withOperating(record, this.side, field.schema, extracted)
    })
  }
}
