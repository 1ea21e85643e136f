/**
 * JsonConverter's value reader: Kafka's `JsonConverter.convertToConnect` over a JSON tree (as
 * json-reader.ts builds it), with Jackson's `JsonNode` leniency (see json-converter.ts), and the
 * schemaless reading of a whole text.
 */
import { BigDecimal } from '../api/data/big-decimal.ts'
import { fromBase64 } from '../api/data/java-text.ts'
import { DateType, Decimal, TimestampType, TimeType } from '../api/data/logical-types.ts'
import type { Field, Schema } from '../api/data/schema.ts'
import { Struct } from '../api/data/struct.ts'
import { DataError } from '../api/errors.ts'
import { doubleValue, intValue, isInt, longValue } from './json-numbers.ts'
import { JsonDecimal, type JsonTree, readJson, wrapToInt64 } from './json-reader.ts'

/** Integers wider than 15 digits, or a negative zero: what `JSON.parse` would get wrong. */
const NEEDS_EXACT_PARSE = /\d{16}|-0+(?:\.0*)?(?:[eE][+-]?\d+)?(?![\d.eE])/

/** JSON trees to Connect data for one converter configuration. */
export class JsonToConnect {
  readonly #replaceNullWithDefault: boolean
  readonly #jsonSchema: boolean

  /**
   * `replaceNullWithDefault`: `replace.null.with.default`. `jsonSchema`: Confluent's
   * `JsonSchemaData.toConnectData` instead of Kafka's `convertToConnect` (maps with keys that are
   * not required strings as arrays of `{"key","value"}` objects, OneOf/union structs, a missing
   * member read as null even for a required field).
   */
  constructor(replaceNullWithDefault: boolean, jsonSchema = false) {
    this.#replaceNullWithDefault = replaceNullWithDefault
    this.#jsonSchema = jsonSchema
  }

  /** Kafka's `convertToConnect` over a JSON tree. */
  toConnect(schema: Schema | null, node: JsonTree | undefined): unknown {
    if (!schema) return treeToSchemaless(node)
    if (node == null) {
      if (schema.defaultValue != null && this.#replaceNullWithDefault) return schema.defaultValue
      if (schema.optional || (this.#jsonSchema && node === undefined)) return null
      throw new DataError(`Invalid null value for required ${schema.type} field`)
    }
    if (schema.name != null) {
      const logical = logicalToConnect(schema, schema.name, node)
      if (logical !== undefined) return logical
    }
    switch (schema.type) {
      case 'BOOLEAN':
        return node === true
      case 'INT8':
        return (intValue(node) << 24) >> 24
      case 'INT16':
        return (intValue(node) << 16) >> 16
      case 'INT32':
        return intValue(node)
      case 'INT64':
        return longValue(node)
      case 'FLOAT32':
        return Math.fround(doubleValue(node))
      case 'FLOAT64':
        return doubleValue(node)
      case 'BYTES':
        if (typeof node !== 'string') return null
        try {
          return fromBase64(node)
        } catch (error) {
          throw new DataError('Invalid bytes field', { cause: error })
        }
      case 'STRING':
        return typeof node === 'string' ? node : null
      case 'ARRAY': {
        const elementSchema = schema.valueSchema ?? null
        const elements = Array.isArray(node) ? node : isObjectNode(node) ? Object.values(node) : []
        const result = new Array<unknown>(elements.length)
        for (let i = 0; i < elements.length; i++) result[i] = this.toConnect(elementSchema, elements[i])
        return result
      }
      case 'MAP':
        return this.#mapToConnect(schema, node)
      case 'STRUCT': {
        if (this.#jsonSchema && isUnion(schema)) return this.#unionToConnect(schema, node)
        if (!isObjectNode(node)) {
          throw new DataError(`Structs should be encoded as JSON objects, but found ${nodeType(node)}`)
        }
        if (this.#jsonSchema) return this.#structToConnect(schema, node)
        const struct = new Struct(schema)
        for (const field of schema.fields) {
          const member = Object.hasOwn(node, field.name) ? node[field.name] : undefined
          struct.put(field, this.toConnect(field.schema, member))
        }
        return struct
      }
    }
    throw new DataError(`Unknown schema type: ${schema.type}`)
  }

  #structToConnect(schema: Schema, node: { [key: string]: JsonTree | undefined }): Struct {
    const struct = new Struct(schema)
    for (const field of schema.fields) {
      const value = this.toConnect(
        field.schema,
        Object.hasOwn(node, field.name) ? node[field.name] : undefined,
      )
      if (value != null) struct.put(field, value)
    }
    return struct
  }

  /** A OneOf/union struct: the first member whose type fits the node, else the struct member sharing most properties. */
  #unionToConnect(schema: Schema, node: JsonTree): Struct {
    let best: { field: Field; score: number } | undefined
    for (const field of schema.fields) {
      if (fitsSimpleSchema(field.schema, node))
        return new Struct(schema).put(field, this.toConnect(field.schema, node))
      const score = structMatch(field.schema, node)
      if (score > (best?.score ?? 0)) best = { field, score }
    }
    if (best !== undefined) return new Struct(schema).put(best.field, this.toConnect(best.field.schema, node))
    throw new DataError('Did not find matching oneof field for data')
  }

  #mapToConnect(schema: Schema, node: JsonTree): unknown {
    const keySchema = schema.keySchema ?? null
    const valueSchema = schema.valueSchema ?? null
    if (this.#jsonSchema && !(keySchema?.type === 'STRING' && !keySchema.optional)) {
      if (!Array.isArray(node)) {
        throw new DataError(
          `Maps with non-string fields should be encoded as JSON array of objects, but found ${nodeType(node)}`,
        )
      }
      const result = new Map<unknown, unknown>()
      for (const entry of node) {
        if (!isObjectNode(entry))
          throw new DataError(`Found invalid map entry instead of object: ${nodeType(entry)}`)
        const size = Object.keys(entry).length
        if (size !== 2) throw new DataError(`Found invalid map entry, expected length 2 but found :${size}`)
        result.set(this.toConnect(keySchema, entry.key), this.toConnect(valueSchema, entry.value))
      }
      return result
    }
    if (keySchema?.type === 'STRING') {
      if (!isObjectNode(node)) {
        throw new DataError(
          `Maps with string fields should be encoded as JSON objects, but found ${nodeType(node)}`,
        )
      }
      const result: Record<string, unknown> = {}
      for (const key in node) setMember(result, key, this.toConnect(valueSchema, node[key]))
      return result
    }
    if (!Array.isArray(node)) {
      throw new DataError(
        `Maps with non-string fields should be encoded as JSON array of tuples, but found ${nodeType(node)}`,
      )
    }
    const result = new Map<unknown, unknown>()
    for (const entry of node) {
      if (!Array.isArray(entry))
        throw new DataError(`Found invalid map entry instead of array tuple: ${nodeType(entry)}`)
      if (entry.length !== 2)
        throw new DataError(`Found invalid map entry, expected length 2 but found :${entry.length}`)
      result.set(this.toConnect(keySchema, entry[0]), this.toConnect(valueSchema, entry[1]))
    }
    return result
  }
}

const JSON_SCHEMA_ONE_OF = 'io.confluent.connect.json.OneOf'
const GENERALIZED_UNION = 'org.apache.kafka.connect.data.Union'

function isUnion(schema: Schema): boolean {
  return schema.name === JSON_SCHEMA_ONE_OF || schema.parameters?.[GENERALIZED_UNION] !== undefined
}

/** Confluent's `isInstanceOfSchemaTypeForSimpleSchema`: a node of the member's JSON type (structs never). */
function fitsSimpleSchema(schema: Schema, node: JsonTree): boolean {
  switch (schema.type) {
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'INT64':
      return typeof node === 'number' || typeof node === 'bigint'
    case 'FLOAT32':
    case 'FLOAT64':
      return typeof node === 'number' || typeof node === 'bigint' || node instanceof JsonDecimal
    case 'BOOLEAN':
      return typeof node === 'boolean'
    case 'STRING':
      return typeof node === 'string'
    case 'BYTES':
      return node instanceof JsonDecimal
    case 'ARRAY':
      return Array.isArray(node)
    case 'MAP':
      return Array.isArray(node) || isObjectNode(node)
    default:
      return false
  }
}

/** Confluent's `matchStructSchema`: how many properties (recursively) a node shares with a struct schema. */
function structMatch(schema: Schema, node: JsonTree | undefined): number {
  if (schema.type !== 'STRUCT' || !isObjectNode(node)) return 0
  let score = 0
  for (const field of schema.fields) {
    if (Object.hasOwn(node, field.name)) score += 1 + structMatch(field.schema, node[field.name])
  }
  return score
}

export function serializationError(cause: unknown): DataError {
  return new DataError('Converting byte[] to Kafka Connect data failed due to serialization error: ', {
    cause,
  })
}

/** Schemaless JSON straight to Connect values: `JSON.parse` when it is exact, our reader otherwise. */
export function readSchemaless(text: string): unknown {
  // A lone JSON string holds no number: JSON.parse is exact, no need to scan it for big integers.
  if (text.charCodeAt(0) === 0x22) {
    try {
      return JSON.parse(text)
    } catch {
      // Trailing content and the like: the reader below decides as Jackson does.
    }
  }
  if (!NEEDS_EXACT_PARSE.test(text)) {
    try {
      return JSON.parse(text)
    } catch {
      // Jackson accepts more (leading zeros, trailing content, empty input): let the reader decide.
    }
  }
  try {
    return readJson(text, 'connect') ?? null
  } catch (error) {
    throw serializationError(error)
  }
}

function logicalToConnect(schema: Schema, name: string, node: JsonTree): unknown {
  switch (name) {
    case Decimal.LOGICAL_NAME:
      if (typeof node === 'number' || typeof node === 'bigint') return new BigDecimal(BigInt(node), 0)
      if (node instanceof JsonDecimal) return BigDecimal.parse(node.text)
      if (typeof node === 'string') {
        try {
          return Decimal.toLogical(schema, fromBase64(node))
        } catch (error) {
          throw new DataError('Invalid bytes for Decimal field', { cause: error })
        }
      }
      throw new DataError(
        `Invalid type for Decimal, underlying representation should be numeric or bytes but was ${nodeType(node)}`,
      )
    case DateType.LOGICAL_NAME:
      if (!isInt(node)) {
        throw new DataError(
          `Invalid type for Date, underlying representation should be integer but was ${nodeType(node)}`,
        )
      }
      return DateType.toLogical(schema, node)
    case TimeType.LOGICAL_NAME:
      if (!isInt(node)) {
        throw new DataError(
          `Invalid type for Time, underlying representation should be integer but was ${nodeType(node)}`,
        )
      }
      return TimeType.toLogical(schema, node)
    case TimestampType.LOGICAL_NAME:
      if (typeof node !== 'number' && typeof node !== 'bigint') {
        throw new DataError(
          `Invalid type for Timestamp, underlying representation should be integral but was ${nodeType(node)}`,
        )
      }
      return TimestampType.toLogical(schema, longValue(node))
    default:
      return undefined
  }
}

export function isObjectNode(node: JsonTree | undefined): node is { [key: string]: JsonTree | undefined } {
  return typeof node === 'object' && node !== null && !Array.isArray(node) && !(node instanceof JsonDecimal)
}

/** Jackson's `JsonNodeType` name for a tree value, as it appears in Kafka's messages. */
function nodeType(node: JsonTree | undefined): string {
  if (node === undefined) return 'MISSING'
  if (node === null) return 'NULL'
  switch (typeof node) {
    case 'boolean':
      return 'BOOLEAN'
    case 'string':
      return 'STRING'
    case 'number':
    case 'bigint':
      return 'NUMBER'
  }
  if (node instanceof JsonDecimal) return 'NUMBER'
  return Array.isArray(node) ? 'ARRAY' : 'OBJECT'
}

export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** A tree value as schemaless Connect data: INT64 for integers, FLOAT64 for decimals, MAP for objects. */
function treeToSchemaless(node: JsonTree | undefined): unknown {
  if (node === undefined || node === null) return null
  switch (typeof node) {
    case 'boolean':
    case 'string':
    case 'number':
      return node
    case 'bigint':
      return wrapToInt64(node)
  }
  if (node instanceof JsonDecimal) return node.toNumber()
  if (Array.isArray(node)) return node.map(treeToSchemaless)
  const result: Record<string, unknown> = {}
  for (const key in node) setMember(result, key, treeToSchemaless(node[key]))
  return result
}
