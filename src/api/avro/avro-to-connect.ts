/**
 * Avro schema → Connect schema, as Confluent's `AvroData.toConnectSchema` does it: the reverse of
 * connect-to-avro.ts, reading back the `connect.*` properties (type, name, version, doc,
 * parameters, default) and Avro's logical types (`decimal` on bytes or fixed, `date`,
 * `time-millis`, `timestamp-millis`; others stay their plain type).
 *
 * - A union of null and one type → that type, optional. Any other union → a STRUCT named
 *   `io.confluent.connect.avro.Union` with one optional field per branch, named after the branch
 *   (`int`, `string`, the record's name — its full name with `enhanced.avro.schema.support`).
 * - An enum → STRING with the `io.confluent.connect.avro.Enum` parameters (`…Enum` = full name,
 *   `…Enum.<symbol>` = symbol), named after the enum.
 * - An array of `MapEntry` records (`connect.internal.type: MapEntry`, or the record named
 *   `io.confluent.connect.avro.MapEntry`) → MAP.
 * - Schemas are named by `connect.name`, records and enums else by their Avro full name, except
 *   the `io.confluent.connect.avro.ConnectDefault*` names, which stay unnamed.
 * - The top-level schema's version is `connect.version`, else the version passed in (the registry
 *   version of the writer schema, which the AvroConverter passes).
 * - Recursive Avro schemas cannot be represented in Connect and are refused.
 */

import { DateType, Decimal, TimestampType, TimeType } from '../data/logical-types.ts'
import type { Schema } from '../data/schema.ts'
import { SchemaBuilder } from '../data/schema-builder.ts'
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
  CONNECT_INTERNAL_TYPE_NAME,
  CONNECT_NAME_PROP,
  CONNECT_PARAMETERS_PROP,
  CONNECT_RECORD_DOC_PROP,
  CONNECT_TYPE_INT8,
  CONNECT_TYPE_INT16,
  CONNECT_TYPE_PROP,
  CONNECT_VERSION_PROP,
  DEFAULT_SCHEMA_FULL_NAME,
  GENERALIZED_TYPE_ENUM,
  GENERALIZED_TYPE_UNION,
  GENERALIZED_TYPE_UNION_FIELD_PREFIX,
  GENERALIZED_TYPE_UNION_PREFIX,
  KEY_FIELD,
  MAP_ENTRY_TYPE_NAME,
  NAMESPACE,
  type ResolvedAvroDataOptions,
  VALUE_FIELD,
} from './avro-data-config.ts'
import { type AvroSchema, fullName, isJsonObject, isNamed, type Json, stringProp } from './avro-schema.ts'
import { defaultValueFromAvroJson } from './avro-values.ts'

class ToConnectContext {
  readonly visiting = new Set<AvroSchema>()
  unionIndex = 0
  unionFieldIndex = 0
}

export function avroToConnectSchema(
  schema: AvroSchema,
  options: ResolvedAvroDataOptions,
  version?: number,
): Schema {
  return toConnect(schema, options, new ToConnectContext(), false, undefined, undefined, version)
}

/** The record is Connect's encoding of a map with non-string keys. */
export function isMapEntry(schema: AvroSchema): boolean {
  return (
    schema.type === 'record' &&
    (`${NAMESPACE}.${MAP_ENTRY_TYPE_NAME}` === fullName(schema) ||
      stringProp(schema, CONNECT_INTERNAL_TYPE_NAME) === MAP_ENTRY_TYPE_NAME)
  )
}

/** The Connect field name of a union branch (Java's `unionMemberFieldName`). */
export function unionMemberFieldName(
  schema: AvroSchema,
  options: ResolvedAvroDataOptions,
  ctx: { unionFieldIndex: number },
): string {
  if (options.generalizedSumTypeSupport)
    return `${GENERALIZED_TYPE_UNION_FIELD_PREFIX}${ctx.unionFieldIndex++}`
  if (isNamed(schema)) return options.enhancedAvroSchemaSupport ? fullName(schema) : schema.name
  return schema.type
}

function isNullUnionOfTwo(schema: AvroSchema): AvroSchema | undefined {
  if (schema.type !== 'union' || schema.branches.length !== 2) return undefined
  const [a, b] = schema.branches
  if (a.type === 'null' && b.type !== 'null') return b
  if (b.type === 'null' && a.type !== 'null') return a
  return undefined
}

function toConnect(
  schema: AvroSchema,
  options: ResolvedAvroDataOptions,
  ctx: ToConnectContext,
  forceOptional: boolean,
  fieldDefault: Json | undefined,
  fieldDoc: string | undefined,
  version?: number,
): Schema {
  if (ctx.visiting.has(schema)) {
    throw new DataError(
      `the Avro schema is recursive at '${isNamed(schema) ? fullName(schema) : schema.type}': Connect schemas cannot be recursive`,
    )
  }
  const connectType = stringProp(schema, CONNECT_TYPE_PROP)
  const logicalType = stringProp(schema, AVRO_LOGICAL_TYPE_PROP)
  let builder: SchemaBuilder
  switch (schema.type) {
    case 'boolean':
      builder = SchemaBuilder.bool()
      break
    case 'bytes':
    case 'fixed':
      if (logicalType === AVRO_LOGICAL_DECIMAL) {
        const scaleProp = schema.props.get(AVRO_LOGICAL_DECIMAL_SCALE_PROP)
        builder = Decimal.builder(typeof scaleProp === 'number' ? Math.trunc(scaleProp) : 0)
        const precision = schema.props.get(AVRO_LOGICAL_DECIMAL_PRECISION_PROP)
        if (precision !== undefined) {
          if (typeof precision !== 'number') {
            throw new DataError(
              `invalid Decimal precision: ${JSON.stringify(precision)} (must be an integer)`,
            )
          }
          if (precision !== CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT) {
            builder.parameter(CONNECT_AVRO_DECIMAL_PRECISION_PROP, String(Math.trunc(precision)))
          }
        }
      } else {
        builder = SchemaBuilder.bytes()
      }
      if (schema.type === 'fixed') builder.parameter(CONNECT_AVRO_FIXED_SIZE_PROP, String(schema.size))
      break
    case 'double':
      builder = SchemaBuilder.float64()
      break
    case 'float':
      builder = SchemaBuilder.float32()
      break
    case 'int':
      if (logicalType === AVRO_LOGICAL_DATE) builder = DateType.builder()
      else if (logicalType === AVRO_LOGICAL_TIME_MILLIS) builder = TimeType.builder()
      else if (connectType === CONNECT_TYPE_INT8) builder = SchemaBuilder.int8()
      else if (connectType === CONNECT_TYPE_INT16) builder = SchemaBuilder.int16()
      else if (connectType === undefined || logicalType !== undefined) builder = SchemaBuilder.int32()
      else
        throw new DataError(`Connect type annotation '${connectType}' for an Avro int is not int8 or int16`)
      break
    case 'long':
      builder =
        logicalType === AVRO_LOGICAL_TIMESTAMP_MILLIS ? TimestampType.builder() : SchemaBuilder.int64()
      break
    case 'string':
      builder = SchemaBuilder.string()
      break
    case 'array': {
      const items = schema.items
      if (isMapEntry(items) && items.type === 'record') {
        const key = items.fields.find((f) => f.name === KEY_FIELD)
        const value = items.fields.find((f) => f.name === VALUE_FIELD)
        if (items.fields.length !== 2 || key === undefined || value === undefined) {
          throw new DataError(
            'Found map encoded as array of key-value pairs, but array elements do not match the expected format.',
          )
        }
        ctx.visiting.add(schema)
        builder = SchemaBuilder.map(
          toConnect(key.type, options, ctx, false, undefined, undefined),
          toConnect(value.type, options, ctx, false, undefined, undefined),
        )
        ctx.visiting.delete(schema)
      } else {
        ctx.visiting.add(schema)
        builder = SchemaBuilder.array(toConnect(items, options, ctx, false, undefined, undefined))
        ctx.visiting.delete(schema)
      }
      break
    }
    case 'map':
      ctx.visiting.add(schema)
      builder = SchemaBuilder.map(
        SchemaBuilder.string().build(),
        toConnect(schema.values, options, ctx, false, undefined, undefined),
      )
      ctx.visiting.delete(schema)
      break
    case 'record':
    case 'error': {
      builder = SchemaBuilder.struct()
      if (options.connectMetaData && schema.doc !== undefined)
        builder.parameter(CONNECT_RECORD_DOC_PROP, schema.doc)
      ctx.visiting.add(schema)
      for (const field of schema.fields) {
        if (options.connectMetaData && field.doc !== undefined) {
          builder.parameter(`${AVRO_FIELD_DOC_PREFIX_PROP}${field.name}`, field.doc)
        }
        builder.field(field.name, toConnect(field.type, options, ctx, false, field.default, field.doc))
      }
      ctx.visiting.delete(schema)
      break
    }
    case 'enum': {
      builder = SchemaBuilder.string()
      if (options.connectMetaData) {
        if (schema.doc !== undefined)
          builder.parameter(`${AVRO_ENUM_DOC_PREFIX_PROP}${schema.name}`, schema.doc)
        if (schema.default !== undefined) {
          builder.parameter(`${AVRO_ENUM_DEFAULT_PREFIX_PROP}${schema.name}`, schema.default)
        }
      }
      const param = options.generalizedSumTypeSupport ? GENERALIZED_TYPE_ENUM : AVRO_TYPE_ENUM
      builder.parameter(param, fullName(schema))
      schema.symbols.forEach((symbol, i) => {
        builder.parameter(`${param}.${symbol}`, options.generalizedSumTypeSupport ? String(i) : symbol)
      })
      break
    }
    case 'union': {
      const single = isNullUnionOfTwo(schema)
      // As Java: the member's own connect.default applies, not the field's default.
      if (single !== undefined) return toConnect(single, options, ctx, true, undefined, fieldDoc)
      const unionName = options.generalizedSumTypeSupport
        ? `${GENERALIZED_TYPE_UNION_PREFIX}${ctx.unionIndex++}`
        : AVRO_TYPE_UNION
      builder = SchemaBuilder.struct().name(unionName)
      if (options.generalizedSumTypeSupport) builder.parameter(GENERALIZED_TYPE_UNION, unionName)
      const names = new Set<string>()
      for (const branch of schema.branches) {
        if (branch.type === 'null') {
          builder.optional()
          continue
        }
        const fieldName = unionMemberFieldName(branch, options, ctx)
        if (names.has(fieldName)) {
          throw new DataError(`Multiple union schemas map to the Connect union field name '${fieldName}'`)
        }
        names.add(fieldName)
        builder.field(fieldName, toConnect(branch, options, ctx, true, undefined, undefined))
      }
      break
    }
    case 'null':
      throw new DataError('Standalone null schemas are not supported by this converter')
    default:
      throw new DataError(`Unknown Avro schema type: ${(schema as AvroSchema).type}`)
  }

  const props: ReadonlyMap<string, Json> = schema.props ?? new Map()
  if (options.connectMetaData) {
    // A field's Avro doc is kept in the struct's parameters; the schema's own doc is connect.doc.
    const doc = stringProp(schema, CONNECT_DOC_PROP)
    if (doc !== undefined) builder.doc(doc)
  }

  const versionProp = props.get(CONNECT_VERSION_PROP)
  let schemaVersion: number | undefined
  if (versionProp !== undefined) {
    if (typeof versionProp !== 'number' || !Number.isInteger(versionProp)) {
      throw new DataError(`Invalid Connect version found: ${JSON.stringify(versionProp)}`)
    }
    schemaVersion = versionProp
  } else if (version !== undefined) {
    schemaVersion = version
  }
  if (schemaVersion !== undefined && schemaVersion >= 0) {
    const current = builderVersion(builder)
    if (current !== undefined && current !== schemaVersion) {
      throw new DataError(
        `Mismatched versions: version already added to SchemaBuilder (${current}) differs from version in source schema (${schemaVersion})`,
      )
    }
    if (current === undefined) builder.version(schemaVersion)
  }

  const parameters = props.get(CONNECT_PARAMETERS_PROP)
  if (options.connectMetaData && parameters !== undefined) {
    if (!isJsonObject(parameters)) {
      throw new DataError(
        `Expected JSON object for schema parameters but found: ${JSON.stringify(parameters)}`,
      )
    }
    for (const [k, v] of Object.entries(parameters)) {
      if (typeof v !== 'string') {
        throw new DataError(`Expected schema parameter values to be strings but found: ${JSON.stringify(v)}`)
      }
      builder.parameter(k, v)
    }
  }
  for (const [k, v] of props) {
    if (k.startsWith(AVRO_PROP)) builder.parameter(k, typeof v === 'string' ? v : JSON.stringify(v))
  }

  let name: string | undefined
  const connectName = props.get(CONNECT_NAME_PROP)
  if (connectName !== undefined) {
    if (typeof connectName !== 'string')
      throw new DataError(`Invalid schema name: ${JSON.stringify(connectName)}`)
    name = connectName
  } else if (schema.type === 'record' || schema.type === 'error' || schema.type === 'enum') {
    name = fullName(schema)
  }
  if (name !== undefined && !name.startsWith(DEFAULT_SCHEMA_FULL_NAME)) {
    const current = builderName(builder)
    if (current !== undefined && current !== name) {
      throw new DataError(
        `Mismatched names: name already added to SchemaBuilder (${current}) differs from name in source schema (${name})`,
      )
    }
    if (current === undefined) builder.name(name)
  }

  if (forceOptional) builder.optional()

  const connectDefault = props.get(CONNECT_DEFAULT_VALUE_PROP)
  // A default that comes from the Avro field (not connect.default) is flagged, so writing the
  // schema back does not add a connect.default Avro never had.
  if (fieldDefault !== undefined && connectDefault === undefined)
    builder.parameter(AVRO_FIELD_DEFAULT_FLAG_PROP, 'true')
  const defaultJson = fieldDefault !== undefined ? fieldDefault : connectDefault
  if (defaultJson !== undefined && defaultJson !== null) {
    const withoutDefault = builder.build()
    try {
      builder.defaultValue(defaultValueFromAvroJson(withoutDefault, defaultJson, options))
      return builder.build()
    } catch (error) {
      if (!(error instanceof DataError)) throw error
      // Java logs and ignores a default it cannot convert.
      return withoutDefault
    }
  }
  return builder.build()
}

/** The builder's version and name so far: built into a throwaway schema to read them. */
function builderVersion(builder: SchemaBuilder): number | undefined {
  return peek(builder).version
}

function builderName(builder: SchemaBuilder): string | undefined {
  return peek(builder).name
}

function peek(builder: SchemaBuilder): Schema {
  return builder.build()
}
