/**
 * Connect schema → Avro schema, as Confluent's `AvroData.fromConnectSchema` does it:
 *
 * - INT8/INT16 → `int` with `connect.type`; INT32 int; INT64 long; FLOAT32 float; FLOAT64 double;
 *   BOOLEAN; STRING (an Avro enum when `enhanced.avro.schema.support` and the enum parameters are
 *   set); BYTES (a `fixed` when named with a `connect.fixed.size` parameter).
 * - ARRAY → array. MAP with a required STRING key → map; any other key → an array of records
 *   `io.confluent.connect.avro.MapEntry` {key, value} (a named map keeps its name and gets
 *   `connect.internal.type: MapEntry`).
 * - STRUCT → record named after the schema (namespace = up to the last dot); unnamed structs are
 *   `io.confluent.connect.avro.ConnectDefault`, `ConnectDefault2`, … in pre-order. A struct equal to
 *   one already converted in the same schema is the same Avro type (written once, then by name).
 * - Optional → a union with null: `["null", T]`, or `[T, "null"]` when the schema has a default (so
 *   the default matches the first branch). Optional structs are always `["null", record]`.
 * - Record fields: `default` is the Connect default (as Avro JSON), else `null` when optional; a
 *   default Avro rejects is dropped (Java's Avro refuses the schema instead); a field's `doc` comes
 *   from the struct parameter `io.confluent.connect.avro.field.doc.<field>` only.
 * - With `connect.meta.data` (default on), non-union types get `connect.doc`, `connect.version`,
 *   `connect.parameters` (minus keys starting with `avro`), `connect.default`, `connect.name`,
 *   `connect.type`, in that order; parameters starting with `avro` are copied as raw properties.
 * - Logical types: Decimal → bytes `scale`, `precision` (parameter `connect.decimal.precision`,
 *   else 64) then `logicalType: decimal` (written even when scale < 0 or scale > precision, where
 *   Avro itself does not apply the logical type); Date →
 *   int `date`; Time → int `time-millis`; Timestamp → long `timestamp-millis`.
 */

import { DateType, Decimal, TimestampType, TimeType } from '../data/logical-types.ts'
import { type Schema, schemaEquals } from '../data/schema.ts'
import { DataError } from '../errors.ts'
import {
  AVRO_ENUM_DEFAULT_PREFIX_PROP,
  AVRO_ENUM_DOC_PREFIX_PROP,
  AVRO_FIELD_DEFAULT_FLAG_PROP,
  AVRO_FIELD_DOC_PREFIX_PROP,
  AVRO_LOGICAL_DATE,
  AVRO_LOGICAL_DECIMAL,
  AVRO_LOGICAL_DECIMAL_PRECISION_PROP,
  AVRO_LOGICAL_DECIMAL_SCALE_PROP,
  AVRO_LOGICAL_TIME_MILLIS,
  AVRO_LOGICAL_TIMESTAMP_MILLIS,
  AVRO_LOGICAL_TYPE_PROP,
  AVRO_PROP,
  AVRO_TYPE_ENUM,
  AVRO_TYPE_UNION,
  CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT,
  CONNECT_AVRO_DECIMAL_PRECISION_PROP,
  CONNECT_AVRO_FIXED_SIZE_PROP,
  CONNECT_DEFAULT_VALUE_PROP,
  CONNECT_DOC_PROP,
  CONNECT_ENUM_DOC_PROP,
  CONNECT_INTERNAL_TYPE_NAME,
  CONNECT_NAME_PROP,
  CONNECT_PARAMETERS_PROP,
  CONNECT_RECORD_DOC_PROP,
  CONNECT_TYPE_INT8,
  CONNECT_TYPE_INT16,
  CONNECT_TYPE_PROP,
  CONNECT_VERSION_PROP,
  DEFAULT_SCHEMA_NAME,
  GENERALIZED_TYPE_ENUM,
  GENERALIZED_TYPE_UNION,
  KEY_FIELD,
  MAP_ENTRY_TYPE_NAME,
  NAMESPACE,
  type ResolvedAvroDataOptions,
  VALUE_FIELD,
} from './avro-data-config.ts'
import {
  type AvroField,
  type AvroRecordSchema,
  type AvroSchema,
  isValidDefault,
  type Json,
  primitive,
} from './avro-schema.ts'
import { defaultValueToAvroJson } from './avro-values.ts'

/** One conversion's state: the name counter for unnamed structs and the structs already converted. */
class FromConnectContext {
  nameIndex = 0
  readonly converted: [Schema, AvroSchema][] = []

  find(schema: Schema): AvroSchema | undefined {
    for (const [s, a] of this.converted) if (s === schema || schemaEquals(s, schema)) return a
    return undefined
  }
}

export function connectToAvroSchema(schema: Schema, options: ResolvedAvroDataOptions): AvroSchema {
  return fromConnect(schema, new FromConnectContext(), false, options)
}

function splitName(fullName: string): [string | undefined, string] {
  const dot = fullName.lastIndexOf('.')
  return dot < 0 ? [undefined, fullName] : [fullName.slice(0, dot), fullName.slice(dot + 1)]
}

function nameOrDefault(ctx: FromConnectContext, name: string | undefined): [string | undefined, string] {
  if (name !== undefined) return splitName(name)
  const index = ++ctx.nameIndex
  return [NAMESPACE, `${DEFAULT_SCHEMA_NAME}${index > 1 ? index : ''}`]
}

/** The same schema, required (Java's `AvroData.nonOptional`). */
function nonOptional(schema: Schema): Schema {
  return schema.optional ? new RequiredView(schema) : schema
}

/** A required view of an optional schema, sharing everything else. */
class RequiredView implements Schema {
  readonly #s: Schema
  constructor(schema: Schema) {
    this.#s = schema
  }
  get type() {
    return this.#s.type
  }
  get optional() {
    return false
  }
  get defaultValue() {
    return this.#s.defaultValue
  }
  get name() {
    return this.#s.name
  }
  get version() {
    return this.#s.version
  }
  get doc() {
    return this.#s.doc
  }
  get parameters() {
    return this.#s.parameters
  }
  get keySchema() {
    return this.#s.keySchema
  }
  get valueSchema() {
    return this.#s.valueSchema
  }
  get fields() {
    return this.#s.fields
  }
  field(name: string) {
    return this.#s.field(name)
  }
}

function isFixed(schema: Schema): boolean {
  return (
    schema.type === 'BYTES' &&
    schema.name !== undefined &&
    schema.parameters?.[CONNECT_AVRO_FIXED_SIZE_PROP] !== undefined
  )
}

function fromConnect(
  schema: Schema,
  ctx: FromConnectContext,
  ignoreOptional: boolean,
  options: ResolvedAvroDataOptions,
): AvroSchema {
  if (!schema.optional && schema.name !== AVRO_TYPE_UNION) {
    const cached = ctx.find(schema)
    if (cached !== undefined) return cached
  }
  const [namespace, name] =
    schema.name !== undefined ? splitName(schema.name) : [NAMESPACE, DEFAULT_SCHEMA_NAME]
  let connectType: string | undefined
  let base: AvroSchema
  const params = schema.parameters
  switch (schema.type) {
    case 'INT8':
      connectType = CONNECT_TYPE_INT8
      base = primitive('int')
      break
    case 'INT16':
      connectType = CONNECT_TYPE_INT16
      base = primitive('int')
      break
    case 'INT32':
      base = primitive('int')
      break
    case 'INT64':
      base = primitive('long')
      break
    case 'FLOAT32':
      base = primitive('float')
      break
    case 'FLOAT64':
      base = primitive('double')
      break
    case 'BOOLEAN':
      base = primitive('boolean')
      break
    case 'STRING': {
      const enumParam = options.generalizedSumTypeSupport ? GENERALIZED_TYPE_ENUM : AVRO_TYPE_ENUM
      if (
        (options.generalizedSumTypeSupport || options.enhancedAvroSchemaSupport) &&
        params !== undefined &&
        (params[GENERALIZED_TYPE_ENUM] !== undefined || params[AVRO_TYPE_ENUM] !== undefined)
      ) {
        const symbols: string[] = []
        for (const [k, v] of Object.entries(params)) {
          if (k.startsWith(`${enumParam}.`))
            symbols.push(options.generalizedSumTypeSupport ? k.slice(enumParam.length + 1) : v)
        }
        const [enumNamespace, enumName] = nameOrDefault(ctx, params[enumParam] ?? params[AVRO_TYPE_ENUM])
        // The doc and default parameters are keyed by the Connect schema's simple name.
        base = {
          type: 'enum',
          name: enumName,
          namespace: enumNamespace,
          doc: params[`${AVRO_ENUM_DOC_PREFIX_PROP}${name}`] ?? params[CONNECT_ENUM_DOC_PROP],
          default: params[`${AVRO_ENUM_DEFAULT_PREFIX_PROP}${name}`],
          symbols,
          props: new Map(),
        }
      } else {
        base = primitive('string')
      }
      break
    }
    case 'BYTES': {
      if (isFixed(schema)) {
        const [fixedNamespace, fixedName] = nameOrDefault(ctx, schema.name)
        const size = Number(params![CONNECT_AVRO_FIXED_SIZE_PROP])
        if (!Number.isInteger(size) || size < 0) {
          throw new DataError(
            `invalid ${CONNECT_AVRO_FIXED_SIZE_PROP} parameter '${params![CONNECT_AVRO_FIXED_SIZE_PROP]}'`,
          )
        }
        base = { type: 'fixed', name: fixedName, namespace: fixedNamespace, size, props: new Map() }
      } else {
        base = primitive('bytes')
      }
      if (schema.name === Decimal.LOGICAL_NAME) {
        base.props!.set(AVRO_LOGICAL_DECIMAL_SCALE_PROP, Decimal.scaleOf(schema))
        base.props!.set(AVRO_LOGICAL_DECIMAL_PRECISION_PROP, decimalPrecision(schema))
      }
      break
    }
    case 'ARRAY':
      base = { type: 'array', items: fromConnect(schema.valueSchema!, ctx, false, options), props: new Map() }
      break
    case 'MAP': {
      const keySchema = schema.keySchema!
      if (keySchema.type === 'STRING' && (!keySchema.optional || options.allowOptionalMapKeys)) {
        base = {
          type: 'map',
          values: fromConnect(schema.valueSchema!, ctx, false, options),
          props: new Map(),
        }
      } else {
        const entry: AvroRecordSchema =
          schema.name === undefined
            ? { type: 'record', name: MAP_ENTRY_TYPE_NAME, namespace, fields: [], props: new Map() }
            : {
                type: 'record',
                name,
                namespace,
                fields: [],
                props: new Map([[CONNECT_INTERNAL_TYPE_NAME, MAP_ENTRY_TYPE_NAME]]),
              }
        entry.fields.push(recordField(KEY_FIELD, keySchema, undefined, ctx, options))
        entry.fields.push(recordField(VALUE_FIELD, schema.valueSchema!, undefined, ctx, options))
        base = { type: 'array', items: entry, props: new Map() }
      }
      break
    }
    case 'STRUCT': {
      if (schema.name === AVRO_TYPE_UNION || params?.[GENERALIZED_TYPE_UNION] !== undefined) {
        const branches: AvroSchema[] = schema.optional ? [primitive('null')] : []
        for (const field of schema.fields)
          branches.push(fromConnect(nonOptional(field.schema), ctx, true, options))
        base = { type: 'union', branches }
      } else if (schema.optional) {
        base = {
          type: 'union',
          branches: [primitive('null'), fromConnect(nonOptional(schema), ctx, false, options)],
        }
      } else {
        const [recordNamespace, recordName] = nameOrDefault(ctx, schema.name)
        const record: AvroRecordSchema = {
          type: 'record',
          name: recordName,
          namespace: recordNamespace,
          doc: params?.[CONNECT_RECORD_DOC_PROP],
          fields: [],
          props: new Map(),
        }
        // Registered before the fields, so an equal struct nested inside refers to this one.
        ctx.converted.push([schema, record])
        for (const field of schema.fields) {
          const doc = params?.[`${AVRO_FIELD_DOC_PREFIX_PROP}${field.name}`]
          record.fields.push(recordField(field.name, field.schema, doc, ctx, options))
        }
        base = record
      }
      break
    }
    default:
      throw new DataError(`Unknown schema type: ${(schema as Schema).type}`)
  }

  let result: AvroSchema = base
  if (base.type !== 'union') {
    const props = base.props
    if (options.connectMetaData) {
      if (schema.doc !== undefined) props.set(CONNECT_DOC_PROP, schema.doc)
      if (schema.version !== undefined) props.set(CONNECT_VERSION_PROP, schema.version)
      if (params !== undefined) {
        const kept: Record<string, Json> = {}
        let any = false
        for (const [k, v] of Object.entries(params)) {
          if (!k.startsWith(AVRO_PROP) && k !== AVRO_FIELD_DEFAULT_FLAG_PROP) {
            kept[k] = v
            any = true
          }
        }
        if (any) props.set(CONNECT_PARAMETERS_PROP, kept)
      }
      if (
        schema.defaultValue !== undefined &&
        schema.defaultValue !== null &&
        params?.[AVRO_FIELD_DEFAULT_FLAG_PROP] === undefined
      ) {
        props.set(CONNECT_DEFAULT_VALUE_PROP, defaultValueToAvroJson(schema, schema.defaultValue))
      }
      if (schema.name !== undefined) props.set(CONNECT_NAME_PROP, schema.name)
      if (connectType !== undefined) props.set(CONNECT_TYPE_PROP, connectType)
    }
    switch (schema.name) {
      case Decimal.LOGICAL_NAME:
        // Also when scale < 0 or scale > precision: Avro's decimal logical type is not applied
        // then, but Java's legacy path still writes the property.
        props.set(AVRO_LOGICAL_TYPE_PROP, AVRO_LOGICAL_DECIMAL)
        break
      case TimeType.LOGICAL_NAME:
        props.set(AVRO_LOGICAL_TYPE_PROP, AVRO_LOGICAL_TIME_MILLIS)
        break
      case TimestampType.LOGICAL_NAME:
        props.set(AVRO_LOGICAL_TYPE_PROP, AVRO_LOGICAL_TIMESTAMP_MILLIS)
        break
      case DateType.LOGICAL_NAME:
        props.set(AVRO_LOGICAL_TYPE_PROP, AVRO_LOGICAL_DATE)
        break
    }
    if (params !== undefined) {
      for (const [k, v] of Object.entries(params)) if (k.startsWith(AVRO_PROP)) props.set(k, v)
    }
    if (!ignoreOptional && schema.optional) {
      const hasDefault = schema.defaultValue !== undefined && schema.defaultValue !== null
      result = { type: 'union', branches: hasDefault ? [base, primitive('null')] : [primitive('null'), base] }
    }
  }
  if (!schema.optional && !ctx.converted.some(([s]) => s === schema)) ctx.converted.push([schema, result])
  return result
}

function decimalPrecision(schema: Schema): number {
  const text = schema.parameters?.[CONNECT_AVRO_DECIMAL_PRECISION_PROP]
  if (text === undefined) return CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT
  const precision = Number(text)
  if (!Number.isInteger(precision)) {
    throw new DataError(`invalid ${CONNECT_AVRO_DECIMAL_PRECISION_PROP} parameter '${text}': not an integer`)
  }
  return precision
}

function recordField(
  name: string,
  schema: Schema,
  doc: string | undefined,
  ctx: FromConnectContext,
  options: ResolvedAvroDataOptions,
): AvroField {
  const type = fromConnect(schema, ctx, false, options)
  let defaultJson: Json | undefined
  if (schema.defaultValue !== undefined && schema.defaultValue !== null) {
    defaultJson = defaultValueToAvroJson(schema, schema.defaultValue)
  } else if (schema.optional) {
    defaultJson = null
  }
  // Avro refuses a default that does not fit the field's type (the first branch of a union).
  if (defaultJson !== undefined && !isValidDefault(type, defaultJson)) defaultJson = undefined
  return { name, type, doc, default: defaultJson, props: new Map() }
}
