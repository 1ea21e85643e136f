/**
 * Connect schemas ↔ JSON Schema documents as Confluent's `JsonSchemaData` maps them
 * (confluentinc/schema-registry, json-schema-converter), with its options (`JsonSchemaDataConfig`).
 *
 * Connect → JSON Schema (`fromConnectSchema`):
 * - INT8…INT64 are `{"type":"integer","connect.type":"int8"…}`, FLOAT32/64 `{"type":"number",…}`,
 *   BOOLEAN `boolean`, STRING `string` (an `enum` when it carries Confluent's Enum parameters),
 *   BYTES `{"type":"string","connect.type":"bytes"}` (a Decimal with `decimal.format=NUMERIC` is a
 *   `number` with `connect.type: bytes`);
 * - a struct is an `object` with `properties` (each with `connect.index`, its field position), its
 *   name as `title`, `additionalProperties: false` when `object.additional.properties=false`; no
 *   `required` list (fields that may be null are optional schemas);
 * - a map with non-optional string keys is an `object` with `additionalProperties` and
 *   `connect.type: map`; any other map is an `array` of `{key, value}` objects with `connect.type: map`;
 * - an optional schema is `{"oneOf":[{"type":"null"}, <schema>]}` (the field's `connect.index` on
 *   the `oneOf`); a struct named `io.confluent.connect.json.OneOf` (or a generalized union) is a
 *   `oneOf` of its fields' schemas;
 * - name → `title`, doc → `description`, version → `connect.version`, parameters (except those in
 *   Confluent's `io.confluent.connect.json` namespace) → `connect.parameters`, default → `default`.
 *   Logical types keep their Connect names as `title` (Date is an int32 titled
 *   `org.apache.kafka.connect.data.Date`, and so on).
 *
 * JSON Schema → Connect (`toConnectSchema`) reads those back, and any JSON Schema a producer wrote:
 * `integer` without `connect.type` is INT64, `number` FLOAT64, an `object` without `connect.type`
 * a struct (fields ordered by `connect.index`, else by position; optional when not `required` and
 * `use.optional.for.nonrequired=true`), `oneOf`/`anyOf` with `null` and one other schema an
 * optional schema, other `oneOf`/`anyOf` a OneOf struct, `allOf` its merged properties (or its
 * typed member), `enum`/`const` an enum string, `type` arrays as `anyOf`, local `$ref`s resolved.
 * The registry version is the top-level schema's version unless it carries `connect.version`.
 *
 * The schema text is the one Confluent registers: everit's key order per schema type and the
 * iteration order of the Java HashMaps it prints from (java-hash-order.ts), so a registry that holds
 * schemas registered by Java workers hands Sluice the same ids.
 */
import { Decimal } from '../api/data/logical-types.ts'
import type { Schema } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { DataError } from '../api/errors.ts'
import { copiedHashMapOrder, hashMapOrder, presizedHashMapOrder, reorder } from './java-hash-order.ts'

export const NAMESPACE = 'io.confluent.connect.json'
export const KEY_FIELD = 'key'
export const VALUE_FIELD = 'value'
export const CONNECT_TYPE_PROP = 'connect.type'
export const CONNECT_VERSION_PROP = 'connect.version'
export const CONNECT_PARAMETERS_PROP = 'connect.parameters'
export const CONNECT_INDEX_PROP = 'connect.index'
export const CONNECT_TYPE_MAP = 'map'
export const CONNECT_TYPE_BYTES = 'bytes'
export const JSON_TYPE_ENUM = `${NAMESPACE}.Enum`
export const JSON_TYPE_ONE_OF = `${NAMESPACE}.OneOf`
export const GENERALIZED_TYPE_UNION = 'org.apache.kafka.connect.data.Union'
export const GENERALIZED_TYPE_ENUM = 'org.apache.kafka.connect.data.Enum'
export const GENERALIZED_TYPE_UNION_PREFIX = 'connect_union_'
export const GENERALIZED_TYPE_UNION_FIELD_PREFIX = `${GENERALIZED_TYPE_UNION_PREFIX}field_`
export const NULL_MARKER = '<NULL>'

const CONNECT_TYPES: Record<string, () => SchemaBuilder> = {
  int8: SchemaBuilder.int8,
  int16: SchemaBuilder.int16,
  int32: SchemaBuilder.int32,
  int64: SchemaBuilder.int64,
  float32: SchemaBuilder.float32,
  float64: SchemaBuilder.float64,
  bytes: SchemaBuilder.bytes,
}

export interface JsonSchemaDataOptions {
  /** `object.additional.properties`: structs allow properties they do not declare. @default true */
  readonly allowAdditionalProperties: boolean
  /** `use.optional.for.nonrequired`: properties not in `required` read as optional fields. @default false */
  readonly useOptionalForNonRequired: boolean
  /** `decimal.format=NUMERIC` (else BASE64). @default false */
  readonly decimalNumeric: boolean
  /** `generalized.sum.type.support`: Connect's generalized Enum/Union parameters. @default false */
  readonly generalizedSumTypeSupport: boolean
  /** `flatten.singleton.unions`. @default true */
  readonly flattenSingletonUnions: boolean
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }
export type JsonSchemaDocument = { [key: string]: Json } | boolean

/** Writes a Connect default value as a JSON value (set by the converter: the data writer). */
export type DefaultWriter = (schema: Schema, value: unknown) => string
/** Reads a JSON default value into Connect data of a schema (set by the converter: the data reader). */
export type DefaultReader = (schema: Schema, json: unknown) => unknown

export function isUnionSchema(schema: Schema): boolean {
  return schema.name === JSON_TYPE_ONE_OF || schema.parameters?.[GENERALIZED_TYPE_UNION] !== undefined
}

export class JsonSchemaData {
  readonly #options: JsonSchemaDataOptions
  readonly #writeDefault: DefaultWriter
  readonly #readDefault: DefaultReader

  constructor(options: JsonSchemaDataOptions, writeDefault: DefaultWriter, readDefault: DefaultReader) {
    this.#options = options
    this.#writeDefault = writeDefault
    this.#readDefault = readDefault
  }

  /** The JSON Schema document of a Connect schema (Confluent's `fromConnectSchema`). */
  fromConnectSchema(schema: Schema): JsonSchemaDocument {
    return this.#fromConnect(schema, undefined, false)
  }

  /**
   * One schema, its keys in the order Java prints them: everit's writer puts each schema type's
   * own keywords before or after the common ones (title, description, default, then the
   * unprocessed `connect.*` properties), and those properties, struct properties and
   * `connect.parameters` come out of Java HashMaps (java-hash-order.ts).
   */
  #fromConnect(schema: Schema, index: number | undefined, ignoreOptional: boolean): JsonObject {
    const head: JsonObject = {}
    const tail: JsonObject = {}
    /** Confluent's unprocessed properties, in the order it puts them. */
    const props: JsonObject = {}
    let typeLast: string | undefined
    let combined = false
    switch (schema.type) {
      case 'INT8':
      case 'INT16':
      case 'INT32':
      case 'INT64':
        head.type = 'integer'
        props[CONNECT_TYPE_PROP] = schema.type.toLowerCase()
        break
      case 'FLOAT32':
      case 'FLOAT64':
        head.type = 'number'
        props[CONNECT_TYPE_PROP] = schema.type.toLowerCase()
        break
      case 'BOOLEAN':
        typeLast = 'boolean'
        break
      case 'STRING': {
        const params = schema.parameters
        if (params !== undefined && (GENERALIZED_TYPE_ENUM in params || JSON_TYPE_ENUM in params)) {
          const prefix = `${this.#options.generalizedSumTypeSupport ? GENERALIZED_TYPE_ENUM : JSON_TYPE_ENUM}.`
          head.enum = Object.keys(params)
            .filter((k) => k.startsWith(prefix))
            .map((k) => {
              const symbol = k.slice(prefix.length)
              return symbol === NULL_MARKER ? null : symbol
            })
        } else {
          head.type = 'string'
        }
        break
      }
      case 'BYTES':
        head.type = schema.name === Decimal.LOGICAL_NAME && this.#options.decimalNumeric ? 'number' : 'string'
        props[CONNECT_TYPE_PROP] = CONNECT_TYPE_BYTES
        break
      case 'ARRAY':
        head.type = 'array'
        tail.items = this.#fromConnect(schema.valueSchema!, undefined, false)
        break
      case 'MAP': {
        const keySchema = schema.keySchema!
        if (keySchema.type === 'STRING' && !keySchema.optional) {
          head.type = 'object'
          tail.additionalProperties = this.#fromConnect(schema.valueSchema!, undefined, false)
        } else {
          head.type = 'array'
          const entry = {
            [KEY_FIELD]: this.#fromConnect(keySchema, 0, false),
            [VALUE_FIELD]: this.#fromConnect(schema.valueSchema!, 1, false),
          }
          tail.items = { type: 'object', properties: reorder(entry, hashMapOrder([KEY_FIELD, VALUE_FIELD])) }
        }
        props[CONNECT_TYPE_PROP] = CONNECT_TYPE_MAP
        break
      }
      case 'STRUCT':
        if (isUnionSchema(schema)) {
          combined = true
          const members: Json[] = schema.optional ? [{ type: 'null' }] : []
          for (const field of schema.fields)
            members.push(this.#fromConnect(required(field.schema), field.index, true))
          tail.oneOf = members
        } else if (schema.optional) {
          combined = true
          tail.oneOf = [{ type: 'null' }, this.#fromConnect(required(schema), undefined, false)]
        } else {
          head.type = 'object'
          if (!this.#options.allowAdditionalProperties) head.additionalProperties = false
          const properties: JsonObject = {}
          for (const field of schema.fields)
            properties[field.name] = this.#fromConnect(field.schema, field.index, false)
          if (schema.fields.length > 0)
            tail.properties = reorder(properties, hashMapOrder(Object.keys(properties)))
        }
        break
    }
    if (combined) return { ...(index === undefined ? {} : { [CONNECT_INDEX_PROP]: index }), ...tail }
    const meta: JsonObject = {}
    if (schema.name !== undefined) meta.title = schema.name
    if (schema.doc !== undefined) meta.description = schema.doc
    if (schema.defaultValue != null)
      meta.default = JSON.parse(this.#writeDefault(schema, schema.defaultValue)) as Json
    if (schema.version !== undefined) props[CONNECT_VERSION_PROP] = schema.version
    if (schema.parameters !== undefined) {
      const kept = Object.keys(schema.parameters).filter((k) => !k.startsWith(NAMESPACE))
      // Collectors.toMap's HashMap, then org.json's `new JSONObject(map)` when printed.
      const order = presizedHashMapOrder(hashMapOrder(kept), kept.length)
      if (kept.length > 0) props[CONNECT_PARAMETERS_PROP] = reorder(schema.parameters, order)
    }
    const assemble = (unprocessed: JsonObject): JsonObject => {
      const ordered = reorder(unprocessed, copiedHashMapOrder(hashMapOrder(Object.keys(unprocessed))))
      return { ...head, ...meta, ...ordered, ...tail, ...(typeLast === undefined ? {} : { type: typeLast }) }
    }
    if (!ignoreOptional && schema.optional) {
      return {
        ...(index === undefined ? {} : { [CONNECT_INDEX_PROP]: index }),
        oneOf: [{ type: 'null' }, assemble(props)],
      }
    }
    if (index !== undefined) props[CONNECT_INDEX_PROP] = index
    return assemble(props)
  }

  /**
   * The Connect schema of a JSON Schema document (Confluent's `toConnectSchema`); `version` is the
   * registry version of the schema, used when the document carries no `connect.version`.
   */
  toConnectSchema(document: JsonSchemaDocument, version?: number): Schema {
    return new ToConnect(this.#options, this.#readDefault, document).convert(document, version, false, 0)
  }
}

/** Reads one document; `root` resolves local `$ref`s. */
class ToConnect {
  readonly #options: JsonSchemaDataOptions
  readonly #readDefault: DefaultReader
  readonly #root: JsonSchemaDocument
  #unionIndex = 0

  constructor(options: JsonSchemaDataOptions, readDefault: DefaultReader, root: JsonSchemaDocument) {
    this.#options = options
    this.#readDefault = readDefault
    this.#root = root
  }

  convert(
    node: JsonSchemaDocument | Json | undefined,
    version: number | undefined,
    forceOptional: boolean,
    depth: number,
  ): Schema {
    if (depth > 64)
      throw new DataError('the JSON schema nests deeper than 64 levels (a recursive $ref?): not supported')
    if (!isObject(node)) {
      throw new DataError(
        `Unsupported schema type: ${JSON.stringify(node)} (an empty or boolean JSON schema has no Connect schema)`,
      )
    }
    if (typeof node.$ref === 'string')
      return this.convert(this.#resolve(node.$ref), version, forceOptional, depth + 1)

    const combinator = Array.isArray(node.oneOf) ? 'oneOf' : Array.isArray(node.anyOf) ? 'anyOf' : undefined
    if (Array.isArray(node.type) && combinator === undefined) {
      const { type, ...rest } = node
      const members = (type as Json[]).map((t) => ({ ...rest, type: t }))
      return this.#union(members as Json[], node, version, forceOptional, depth)
    }
    if (combinator !== undefined && node.type === undefined) {
      return this.#union(node[combinator] as Json[], node, version, forceOptional, depth)
    }
    if (Array.isArray(node.allOf)) return this.#allOf(node, version, forceOptional, depth)

    let builder: SchemaBuilder
    const connectType =
      typeof node[CONNECT_TYPE_PROP] === 'string' ? (node[CONNECT_TYPE_PROP] as string) : undefined
    const type =
      node.type ??
      (Array.isArray(node.enum) || 'const' in node
        ? 'enum'
        : node.properties !== undefined
          ? 'object'
          : undefined)
    // An enum or const of strings is an enum string; of numbers, the number (as Confluent's allOf reading).
    if (
      (Array.isArray(node.enum) || 'const' in node) &&
      (node.type === undefined || node.type === 'string')
    ) {
      builder = this.#enum(Array.isArray(node.enum) ? node.enum : [node.const as Json])
    } else {
      switch (type) {
        case 'boolean':
          builder = SchemaBuilder.bool()
          break
        case 'integer':
        case 'number': {
          if (connectType === undefined)
            builder = type === 'integer' ? SchemaBuilder.int64() : SchemaBuilder.float64()
          else {
            const make = CONNECT_TYPES[connectType]
            if (make === undefined) throw new DataError(`Unsupported type ${connectType}`)
            builder = make()
          }
          break
        }
        case 'string':
          builder = connectType === CONNECT_TYPE_BYTES ? SchemaBuilder.bytes() : SchemaBuilder.string()
          break
        case 'array': {
          const items = node.items
          if (!isObject(items)) throw new DataError('Array schema did not specify the items type')
          const resolved = typeof items.$ref === 'string' ? this.#resolve(items.$ref) : items
          if (connectType === CONNECT_TYPE_MAP && isObject(resolved) && isObject(resolved.properties)) {
            const props = resolved.properties
            builder = SchemaBuilder.map(
              this.convert(props[KEY_FIELD], undefined, false, depth + 1),
              this.convert(props[VALUE_FIELD], undefined, false, depth + 1),
            )
          } else {
            builder = SchemaBuilder.array(this.convert(items, undefined, false, depth + 1))
          }
          break
        }
        case 'object':
          if (connectType === CONNECT_TYPE_MAP) {
            builder = SchemaBuilder.map(
              SchemaBuilder.string().build(),
              this.convert(node.additionalProperties, undefined, false, depth + 1),
            )
          } else {
            builder = this.#struct([{ properties: node.properties, required: node.required }], false, depth)
          }
          break
        default:
          throw new DataError(`Unsupported schema type ${JSON.stringify(node.type ?? node)}`)
      }
    }
    return this.#finish(builder, node, version, forceOptional)
  }

  #finish(
    builder: SchemaBuilder,
    node: { [key: string]: Json },
    version: number | undefined,
    forceOptional: boolean,
  ): Schema {
    if (typeof node.title === 'string' && !builderHasName(builder)) builder.name(node.title)
    const connectVersion = node[CONNECT_VERSION_PROP]
    if (typeof connectVersion === 'number') builder.version(connectVersion)
    else if (version !== undefined) builder.version(version)
    if (typeof node.description === 'string') builder.doc(node.description)
    const parameters = node[CONNECT_PARAMETERS_PROP]
    if (isObject(parameters)) {
      for (const [k, v] of Object.entries(parameters)) builder.parameter(k, String(v))
    }
    if ('default' in node) {
      const value = this.#readDefault(builder.build(), node.default)
      if (value != null) builder.defaultValue(value)
    }
    if (forceOptional) builder.optional()
    return builder.build()
  }

  #enum(values: Json[]): SchemaBuilder {
    const builder = SchemaBuilder.string()
    const param = this.#options.generalizedSumTypeSupport ? GENERALIZED_TYPE_ENUM : JSON_TYPE_ENUM
    builder.parameter(param, '')
    values.forEach((value, i) => {
      const symbol = value === null ? NULL_MARKER : typeof value === 'string' ? value : JSON.stringify(value)
      builder.parameter(`${param}.${symbol}`, this.#options.generalizedSumTypeSupport ? String(i) : symbol)
    })
    return builder
  }

  /**
   * A struct of one object schema, or of an allOf's merged properties (`merged`). Java reads the
   * properties out of a HashMap: an object's fields are sorted by `connect.index`, a property
   * without one taking the next free position in that HashMap order; an allOf's fields come in
   * that order, part after part.
   */
  #struct(
    parts: { properties: Json | undefined; required: Json | undefined }[],
    merged: boolean,
    depth: number,
  ): SchemaBuilder {
    const builder = SchemaBuilder.struct()
    const ordered = new Map<string, { schema: Json; required: boolean }>()
    const byIndex = new Map<number, string>()
    for (const part of parts) {
      if (!isObject(part.properties)) continue
      const properties = part.properties
      const required = new Set(Array.isArray(part.required) ? part.required : [])
      for (const name of hashMapOrder(Object.keys(properties))) {
        const schema = properties[name] as Json
        ordered.set(name, { schema, required: required.has(name) })
        if (merged) continue
        const index =
          isObject(schema) && typeof schema[CONNECT_INDEX_PROP] === 'number'
            ? (schema[CONNECT_INDEX_PROP] as number)
            : byIndex.size
        byIndex.set(index, name)
      }
    }
    const names = merged
      ? [...ordered.keys()]
      : [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n)
    for (const name of names) {
      const entry = ordered.get(name)!
      const optional = this.#options.useOptionalForNonRequired && !entry.required
      builder.field(name, this.convert(entry.schema, undefined, optional, depth + 1))
    }
    return builder
  }

  #union(
    members: Json[],
    node: { [key: string]: Json },
    version: number | undefined,
    forceOptional: boolean,
    depth: number,
  ): Schema {
    if (members.length === 1 && this.#options.flattenSingletonUnions)
      return this.convert(members[0], undefined, false, depth + 1)
    const isNull = (m: Json) => isObject(m) && m.type === 'null'
    if (members.length === 2 && members.some(isNull)) {
      const other = members.find((m) => !isNull(m))!
      return this.convert(other, version, true, depth + 1)
    }
    const generalized = this.#options.generalizedSumTypeSupport
    const name = generalized ? `${GENERALIZED_TYPE_UNION_PREFIX}${this.#unionIndex++}` : JSON_TYPE_ONE_OF
    const builder = SchemaBuilder.struct().name(name)
    if (generalized) builder.parameter(GENERALIZED_TYPE_UNION, name)
    let index = 0
    for (const member of members) {
      if (isNull(member)) builder.optional()
      else {
        const field = generalized
          ? `${GENERALIZED_TYPE_UNION_FIELD_PREFIX}${index}`
          : `${name}.field.${index}`
        builder.field(field, this.convert(member, undefined, true, depth + 1))
        index++
      }
    }
    return this.#finish(builder, { ...node, title: null }, version, forceOptional)
  }

  #allOf(
    node: { [key: string]: Json },
    version: number | undefined,
    forceOptional: boolean,
    depth: number,
  ): Schema {
    const members = (node.allOf as Json[]).map((m) =>
      isObject(m) && typeof m.$ref === 'string' ? this.#resolve(m.$ref) : m,
    )
    const parts = members.filter(isObject).filter((m) => isObject(m.properties))
    if (parts.length > 0) {
      const builder = this.#struct(
        parts.map((p) => ({ properties: p.properties, required: p.required })),
        true,
        depth,
      )
      if (forceOptional) builder.optional()
      return builder.build()
    }
    const typed = members.find(
      (m) => isObject(m) && (Array.isArray(m.enum) || 'const' in m || m.type !== undefined),
    )
    if (typed === undefined) throw new DataError(`Unsupported criterion allOf for ${JSON.stringify(node)}`)
    return this.convert(typed, version, forceOptional, depth + 1)
  }

  #resolve(ref: string): Json {
    if (!ref.startsWith('#')) {
      throw new DataError(`the JSON schema refers to '${ref}': only local references (#/...) are supported`)
    }
    let target: Json | JsonSchemaDocument = this.#root
    for (const raw of ref
      .slice(1)
      .split('/')
      .filter((p) => p !== '')) {
      const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
      if (!isObject(target) || !(part in target))
        throw new DataError(`the JSON schema reference '${ref}' does not resolve`)
      target = target[part] as Json
    }
    return target as Json
  }
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function builderHasName(builder: SchemaBuilder): boolean {
  return builder.build().name !== undefined
}

/** The schema without its optional flag (Confluent's `nonOptional`). */
function required(schema: Schema): Schema {
  if (!schema.optional) return schema
  const builder = SchemaBuilder.from(schema)
  builder.required()
  return builder.build()
}
