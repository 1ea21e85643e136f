/**
 * Avro schemas as a tree of nodes (Apache Avro's `org.apache.avro.Schema`): parsed from schema JSON
 * with Avro's name resolution, and written back as Avro's Java `Schema.toString()` writes them, so
 * the text Sluice registers is the text a Java serializer registers for the same schema.
 *
 * Written form (Avro 1.11 `Schema.toJson`): a primitive without properties is its bare name
 * (`"int"`), with properties an object `{"type":…, <props>}`; a record is
 * `{"type":"record","name","namespace"?,"doc"?,"fields":[…],<props>,"aliases"?}` where a field is
 * `{"name","type","doc"?,"default"?,"order"?,"aliases"?,<props>}`; an enum
 * `{"type":"enum","name","namespace"?,"doc"?,"symbols","default"?,<props>}`; a fixed
 * `{"type":"fixed","name","namespace"?,"doc"?,"size",<props>}`; arrays `{"type":"array","items",…}`,
 * maps `{"type":"map","values",…}`, unions a JSON array. A named type is written in full once and
 * then referred to by name; `namespace` is written only when it differs from the enclosing one, and
 * a reference is relative to the enclosing namespace. Properties keep their insertion order.
 */
import { DataError } from '../errors.ts'

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string'

const PRIMITIVES: ReadonlySet<string> = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
])

/** Keys a schema object owns; every other key is a property. */
const RESERVED: Record<string, ReadonlySet<string>> = {
  record: new Set(['type', 'name', 'namespace', 'doc', 'fields', 'aliases']),
  error: new Set(['type', 'name', 'namespace', 'doc', 'fields', 'aliases']),
  enum: new Set(['type', 'name', 'namespace', 'doc', 'symbols', 'default', 'aliases']),
  fixed: new Set(['type', 'name', 'namespace', 'doc', 'size', 'aliases']),
  array: new Set(['type', 'items']),
  map: new Set(['type', 'values']),
  primitive: new Set(['type']),
}
const FIELD_RESERVED: ReadonlySet<string> = new Set(['name', 'type', 'doc', 'default', 'order', 'aliases'])

/** JSON values as they appear in schemas (defaults, properties). */
export type Json = null | boolean | number | string | JsonDouble | Json[] | { [key: string]: Json }

export interface AvroField {
  readonly name: string
  readonly type: AvroSchema
  readonly doc?: string
  /** The field's default as JSON; `undefined` when it has none (JSON `null` is a default). */
  readonly default?: Json
  readonly order?: string
  readonly aliases?: readonly string[]
  readonly props: ReadonlyMap<string, Json>
}

interface Base {
  /** Properties other than the type's own keys, in order (`connect.name`, `logicalType`…). */
  readonly props: Map<string, Json>
}

export interface AvroPrimitiveSchema extends Base {
  readonly type: AvroPrimitive
}
export interface AvroNamed extends Base {
  readonly name: string
  readonly namespace: string | undefined
  readonly doc?: string
  readonly aliases?: readonly string[]
}
export interface AvroRecordSchema extends AvroNamed {
  readonly type: 'record' | 'error'
  /** Filled after creation, so a record may refer to itself. */
  fields: AvroField[]
}
export interface AvroEnumSchema extends AvroNamed {
  readonly type: 'enum'
  readonly symbols: readonly string[]
  readonly default?: string
}
export interface AvroFixedSchema extends AvroNamed {
  readonly type: 'fixed'
  readonly size: number
}
export interface AvroArraySchema extends Base {
  readonly type: 'array'
  readonly items: AvroSchema
}
export interface AvroMapSchema extends Base {
  readonly type: 'map'
  readonly values: AvroSchema
}
export interface AvroUnionSchema {
  readonly type: 'union'
  readonly branches: readonly AvroSchema[]
  readonly props?: undefined
}

export type AvroSchema =
  | AvroPrimitiveSchema
  | AvroRecordSchema
  | AvroEnumSchema
  | AvroFixedSchema
  | AvroArraySchema
  | AvroMapSchema
  | AvroUnionSchema

export type AvroNamedSchema = AvroRecordSchema | AvroEnumSchema | AvroFixedSchema

export function isNamed(schema: AvroSchema): schema is AvroNamedSchema {
  return (
    schema.type === 'record' || schema.type === 'error' || schema.type === 'enum' || schema.type === 'fixed'
  )
}

export function fullName(schema: AvroNamedSchema): string {
  return schema.namespace ? `${schema.namespace}.${schema.name}` : schema.name
}

/** The string value of a property, or undefined when absent or not a string. */
export function stringProp(schema: AvroSchema, key: string): string | undefined {
  const value = schema.props?.get(key)
  return typeof value === 'string' ? value : undefined
}

export function primitive(type: AvroPrimitive): AvroPrimitiveSchema {
  return { type, props: new Map() }
}

/** Parses schema JSON text or a parsed JSON value; names resolve as Avro resolves them. */
export function parseAvroSchema(schema: string | Json): AvroSchema {
  let json: Json
  if (typeof schema === 'string' && !PRIMITIVES.has(schema)) {
    try {
      json = JSON.parse(schema) as Json
    } catch (error) {
      throw new DataError(`invalid Avro schema: ${(error as Error).message}`, { cause: error })
    }
  } else {
    json = schema
  }
  return parse(json, undefined, new Map())
}

function splitFullName(name: string, namespace: string | undefined): [string | undefined, string] {
  const dot = name.lastIndexOf('.')
  if (dot >= 0) return [name.slice(0, dot) || undefined, name.slice(dot + 1)]
  return [namespace || undefined, name]
}

function propsOf(json: Record<string, Json>, reserved: ReadonlySet<string>): Map<string, Json> {
  const props = new Map<string, Json>()
  for (const [k, v] of Object.entries(json)) if (!reserved.has(k)) props.set(k, v)
  return props
}

function parse(json: Json, namespace: string | undefined, names: Map<string, AvroNamedSchema>): AvroSchema {
  if (typeof json === 'string') {
    if (PRIMITIVES.has(json)) return primitive(json as AvroPrimitive)
    const [space, name] = splitFullName(json, namespace)
    const found = names.get(space ? `${space}.${name}` : name) ?? names.get(json)
    if (!found) throw new DataError(`invalid Avro schema: undefined name '${json}'`)
    return found
  }
  if (Array.isArray(json)) {
    const branches = json.map((b) => parse(b, namespace, names))
    for (const b of branches) {
      if (b.type === 'union') throw new DataError('invalid Avro schema: a union may not contain a union')
    }
    return { type: 'union', branches }
  }
  if (!isJsonObject(json)) {
    throw new DataError(`invalid Avro schema: ${JSON.stringify(json)} is not a schema`)
  }
  const type = json.type
  if (typeof type !== 'string') {
    // `{"type": {...}}` or `{"type": [...]}` nests a schema.
    if (type !== undefined && type !== null) return parse(type, namespace, names)
    throw new DataError(`invalid Avro schema: no type in ${JSON.stringify(json)}`)
  }
  switch (type) {
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed': {
      if (typeof json.name !== 'string') throw new DataError(`invalid Avro schema: a ${type} needs a name`)
      const ns = typeof json.namespace === 'string' ? json.namespace : namespace
      const [space, name] = splitFullName(json.name, ns)
      const base = {
        name,
        namespace: space,
        doc: typeof json.doc === 'string' ? json.doc : undefined,
        aliases: Array.isArray(json.aliases) ? (json.aliases as string[]) : undefined,
        props: propsOf(json, RESERVED[type]),
      }
      const full = space ? `${space}.${name}` : name
      let node: AvroNamedSchema
      if (type === 'enum') {
        if (!Array.isArray(json.symbols))
          throw new DataError(`invalid Avro schema: enum ${full} has no symbols`)
        node = {
          ...base,
          type,
          symbols: json.symbols as string[],
          default: typeof json.default === 'string' ? json.default : undefined,
        }
      } else if (type === 'fixed') {
        if (typeof json.size !== 'number')
          throw new DataError(`invalid Avro schema: fixed ${full} has no size`)
        node = { ...base, type, size: json.size }
      } else {
        node = { ...base, type, fields: [] }
      }
      if (names.has(full)) throw new DataError(`invalid Avro schema: '${full}' is defined twice`)
      names.set(full, node)
      if (node.type === 'record' || node.type === 'error') {
        if (!Array.isArray(json.fields))
          throw new DataError(`invalid Avro schema: record ${full} has no fields`)
        for (const f of json.fields as Record<string, Json>[]) {
          if (typeof f?.name !== 'string')
            throw new DataError(`invalid Avro schema: a field of ${full} has no name`)
          node.fields.push({
            name: f.name,
            type: parse(f.type, space, names),
            doc: typeof f.doc === 'string' ? f.doc : undefined,
            default: 'default' in f ? f.default : undefined,
            order: typeof f.order === 'string' ? f.order : undefined,
            aliases: Array.isArray(f.aliases) ? (f.aliases as string[]) : undefined,
            props: propsOf(f, FIELD_RESERVED),
          })
        }
      }
      return node
    }
    case 'array':
      return { type, items: parse(json.items, namespace, names), props: propsOf(json, RESERVED.array) }
    case 'map':
      return { type, values: parse(json.values, namespace, names), props: propsOf(json, RESERVED.map) }
    default:
      if (PRIMITIVES.has(type))
        return { type: type as AvroPrimitive, props: propsOf(json, RESERVED.primitive) }
      // `{"type": "com.example.Name"}` refers to a named type.
      return parse(type, namespace, names)
  }
}

/** The schema's JSON text exactly as Avro's Java `Schema.toString()` writes it. */
export function avroSchemaText(schema: AvroSchema): string {
  const out: string[] = []
  write(schema, { space: undefined, known: new Map() }, out)
  return out.join('')
}

interface Names {
  space: string | undefined
  known: Map<string, AvroNamedSchema>
}

function write(schema: AvroSchema, names: Names, out: string[]): void {
  switch (schema.type) {
    case 'union':
      out.push('[')
      schema.branches.forEach((b, i) => {
        if (i > 0) out.push(',')
        write(b, names, out)
      })
      out.push(']')
      return
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed': {
      const full = fullName(schema)
      const seen = names.known.get(full)
      if (seen !== undefined && seen !== schema && avroSchemaText(seen) !== avroSchemaText(schema)) {
        // Avro's Java Names: two different types cannot share a name.
        throw new DataError(`Can't redefine: ${full}`)
      }
      if (seen !== undefined) {
        const qualified =
          schema.namespace === undefined || schema.namespace === names.space
            ? schema.name
            : `${schema.namespace}.${schema.name}`
        out.push(JSON.stringify(qualified))
        return
      }
      names.known.set(full, schema)
      const saved = names.space
      out.push(`{"type":${JSON.stringify(schema.type)},"name":${JSON.stringify(schema.name)}`)
      if (schema.namespace !== undefined) {
        if (schema.namespace !== names.space) out.push(`,"namespace":${JSON.stringify(schema.namespace)}`)
      } else if (names.space !== undefined) {
        out.push(',"namespace":""')
      }
      if (schema.type === 'record' || schema.type === 'error') names.space = schema.namespace
      if (schema.doc !== undefined) out.push(`,"doc":${JSON.stringify(schema.doc)}`)
      if (schema.type === 'enum') {
        out.push(`,"symbols":${JSON.stringify(schema.symbols)}`)
        if (schema.default !== undefined) out.push(`,"default":${JSON.stringify(schema.default)}`)
      } else if (schema.type === 'fixed') {
        out.push(`,"size":${schema.size}`)
      } else {
        out.push(',"fields":[')
        schema.fields.forEach((f, i) => {
          if (i > 0) out.push(',')
          writeField(f, names, out)
        })
        out.push(']')
      }
      writeProps(schema.props, out)
      if (schema.aliases?.length) out.push(`,"aliases":${JSON.stringify(schema.aliases)}`)
      out.push('}')
      names.space = saved
      return
    }
    case 'array':
      out.push('{"type":"array","items":')
      write(schema.items, names, out)
      writeProps(schema.props, out)
      out.push('}')
      return
    case 'map':
      out.push('{"type":"map","values":')
      write(schema.values, names, out)
      writeProps(schema.props, out)
      out.push('}')
      return
    default:
      if (schema.props.size === 0) {
        out.push(`"${schema.type}"`)
      } else {
        out.push(`{"type":"${schema.type}"`)
        writeProps(schema.props, out)
        out.push('}')
      }
  }
}

function writeField(field: AvroField, names: Names, out: string[]): void {
  out.push(`{"name":${JSON.stringify(field.name)},"type":`)
  write(field.type, names, out)
  if (field.doc !== undefined) out.push(`,"doc":${JSON.stringify(field.doc)}`)
  if (field.default !== undefined) out.push(`,"default":${jsonText(field.default)}`)
  if (field.order !== undefined && field.order !== 'ascending')
    out.push(`,"order":${JSON.stringify(field.order)}`)
  if (field.aliases?.length) out.push(`,"aliases":${JSON.stringify(field.aliases)}`)
  writeProps(field.props, out)
  out.push('}')
}

function writeProps(props: ReadonlyMap<string, Json>, out: string[]): void {
  for (const [k, v] of props) out.push(`,${JSON.stringify(k)}:${jsonText(v)}`)
}

/** JSON text; a `JsonDouble` is written as Jackson writes a double (`1.0`). */
export function jsonText(value: Json): string {
  if (value instanceof JsonDouble) return value.toJSON()
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

/** A floating-point JSON number, written as Java writes a double (`1.0`, `1.0E10`, `NaN` as a string). */
export class JsonDouble {
  readonly value: number
  constructor(value: number) {
    this.value = value
  }
  toJSON(): string {
    const v = this.value
    if (!Number.isFinite(v)) return JSON.stringify(String(v))
    if (Number.isInteger(v) && Math.abs(v) < 1e7) return `${v}.0`
    return JSON.stringify(v)
  }
}

/** Whether a JSON default fits an Avro schema (Avro's `Schema.isValidDefault`): unions take their first branch. */
export function isValidDefault(schema: AvroSchema, value: Json | undefined): boolean {
  if (value === undefined) return false
  const number = value instanceof JsonDouble ? value.value : value
  switch (schema.type) {
    case 'string':
    case 'bytes':
    case 'enum':
    case 'fixed':
      return typeof value === 'string'
    case 'int':
      return (
        typeof number === 'number' && Number.isInteger(number) && number >= -(2 ** 31) && number < 2 ** 31
      )
    case 'long':
      return typeof number === 'number' && Number.isInteger(number)
    case 'float':
    case 'double':
      return typeof number === 'number'
    case 'boolean':
      return typeof value === 'boolean'
    case 'null':
      return value === null
    case 'array':
      return Array.isArray(value) && value.every((v) => isValidDefault(schema.items, v))
    case 'map':
      return isJsonObject(value) && Object.values(value).every((v) => isValidDefault(schema.values, v))
    case 'union':
      return schema.branches.length > 0 && isValidDefault(schema.branches[0], value)
    case 'record':
    case 'error':
      return (
        isJsonObject(value) &&
        schema.fields.every((f) =>
          isValidDefault(f.type, Object.hasOwn(value, f.name) ? value[f.name] : f.default),
        )
      )
  }
}

export function isJsonObject(value: Json | undefined): value is { [key: string]: Json } {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonDouble)
  )
}
