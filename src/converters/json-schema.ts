/**
 * Connect schemas as JSON and back, as Kafka's `JsonConverter.asJsonSchema` / `asConnectSchema` do
 * (the schema JSON of `JsonSchema`: member order in json-converter.ts's header), with the two
 * `schemas.cache.size` caches: written JSON by schema object, read schemas by their exact JSON text.
 */
import { quoteJson } from '../api/data/java-text.ts'
import type { Schema } from '../api/data/schema.ts'
import { SchemaBuilder } from '../api/data/schema-builder.ts'
import { DataError } from '../api/errors.ts'
import { LruCache } from '../common/lru-cache.ts'
import { intValue } from './json-numbers.ts'
import { type JsonTree, readJson } from './json-reader.ts'
import { isObjectNode, type JsonToConnect } from './json-to-connect.ts'
import type { JsonWriter } from './json-writer.ts'

const TYPE_NAMES: Record<string, string> = {
  BOOLEAN: '{"type":"boolean"',
  INT8: '{"type":"int8"',
  INT16: '{"type":"int16"',
  INT32: '{"type":"int32"',
  INT64: '{"type":"int64"',
  FLOAT32: '{"type":"float"',
  FLOAT64: '{"type":"double"',
  BYTES: '{"type":"bytes"',
  STRING: '{"type":"string"',
}

/** Schema ↔ schema JSON for one converter; default values go through its writer and reader. */
export class SchemaJson {
  readonly #writer: JsonWriter
  readonly #reader: JsonToConnect
  readonly #fromConnectSchemaCache: LruCache<Schema, string>
  readonly #toConnectSchemaCache: LruCache<string, Schema>
  #lastSchema: Schema | undefined
  #lastSchemaJson = ''

  constructor(cacheSize: number, writer: JsonWriter, reader: JsonToConnect) {
    this.#writer = writer
    this.#reader = reader
    this.#fromConnectSchemaCache = new LruCache(cacheSize)
    this.#toConnectSchemaCache = new LruCache(cacheSize)
  }

  /** Entries in the schema → JSON cache. */
  get fromConnectSchemaCacheSize(): number {
    return this.#fromConnectSchemaCache.size
  }

  /** Entries in the JSON → schema cache. */
  get toConnectSchemaCacheSize(): number {
    return this.#toConnectSchemaCache.size
  }

  /** The schema's JSON text, as Kafka's `asJsonSchema` would serialize it; cached. */
  asJsonSchema(schema: Schema): string {
    if (schema === this.#lastSchema) return this.#lastSchemaJson
    let json = this.#fromConnectSchemaCache.get(schema)
    if (json === undefined) {
      json = this.#buildJsonSchema(schema)
      this.#fromConnectSchemaCache.set(schema, json)
    }
    this.#lastSchema = schema
    this.#lastSchemaJson = json
    return json
  }

  /**
   * A Connect schema from its JSON text; `null` for JSON null. Cached. Throws the reader's syntax
   * errors as they are (the converter wraps them) and `DataError` for a bad schema.
   */
  asConnectSchema(text: string): Schema | null {
    const cached = this.#toConnectSchemaCache.get(text)
    if (cached !== undefined) return cached
    const schema = this.#buildSchema(readJson(text, 'tree') ?? null)
    if (schema) this.#toConnectSchemaCache.set(text, schema)
    return schema
  }

  #buildJsonSchema(schema: Schema): string {
    let json: string
    switch (schema.type) {
      case 'ARRAY':
        json = `{"type":"array","items":${schema.valueSchema ? this.asJsonSchema(schema.valueSchema) : 'null'}`
        break
      case 'MAP':
        json =
          `{"type":"map","keys":${schema.keySchema ? this.asJsonSchema(schema.keySchema) : 'null'}` +
          `,"values":${schema.valueSchema ? this.asJsonSchema(schema.valueSchema) : 'null'}`
        break
      case 'STRUCT': {
        json = '{"type":"struct","fields":['
        for (let i = 0; i < schema.fields.length; i++) {
          const field = schema.fields[i]
          const fieldJson = this.asJsonSchema(field.schema)
          json += `${i === 0 ? '' : ','}${fieldJson.slice(0, -1)},"field":${quoteJson(field.name)}}`
        }
        json += ']'
        break
      }
      default: {
        const head = TYPE_NAMES[schema.type]
        if (head === undefined)
          throw new DataError(`Couldn't translate unsupported schema type ${schema.type}.`)
        json = head
      }
    }
    json += schema.optional ? ',"optional":true' : ',"optional":false'
    if (schema.name != null) json += `,"name":${quoteJson(schema.name)}`
    if (schema.version != null) json += `,"version":${schema.version}`
    if (schema.doc != null) json += `,"doc":${quoteJson(schema.doc)}`
    if (schema.parameters != null) {
      let params = ''
      for (const key in schema.parameters) {
        params += `${params === '' ? '' : ','}${quoteJson(key)}:${quoteJson(schema.parameters[key])}`
      }
      json += `,"parameters":{${params}}`
    }
    if (schema.defaultValue != null) json += `,"default":${this.#writer.toJson(schema, schema.defaultValue)}`
    return `${json}}`
  }

  #buildSchema(node: JsonTree): Schema | null {
    if (node === null) return null
    const obj = isObjectNode(node) ? node : undefined
    const type = obj?.type
    if (!obj || typeof type !== 'string') throw new DataError("Schema must contain 'type' field")
    let builder: SchemaBuilder
    switch (type) {
      case 'boolean':
        builder = SchemaBuilder.bool()
        break
      case 'int8':
        builder = SchemaBuilder.int8()
        break
      case 'int16':
        builder = SchemaBuilder.int16()
        break
      case 'int32':
        builder = SchemaBuilder.int32()
        break
      case 'int64':
        builder = SchemaBuilder.int64()
        break
      case 'float':
        builder = SchemaBuilder.float32()
        break
      case 'double':
        builder = SchemaBuilder.float64()
        break
      case 'bytes':
        builder = SchemaBuilder.bytes()
        break
      case 'string':
        builder = SchemaBuilder.string()
        break
      case 'array': {
        const items = obj.items
        if (items == null) throw new DataError('Array schema did not specify the element type')
        builder = SchemaBuilder.array(this.#buildSchema(items)!)
        break
      }
      case 'map': {
        if (obj.keys === undefined) throw new DataError('Map schema did not specify the key type')
        if (obj.values === undefined) throw new DataError('Map schema did not specify the value type')
        const keySchema = this.#buildSchema(obj.keys)
        const valueSchema = this.#buildSchema(obj.values)
        if (!keySchema) throw new DataError('keySchema cannot be null.')
        if (!valueSchema) throw new DataError('valueSchema cannot be null.')
        builder = SchemaBuilder.map(keySchema, valueSchema)
        break
      }
      case 'struct': {
        builder = SchemaBuilder.struct()
        const fields = obj.fields
        if (!Array.isArray(fields)) throw new DataError('Struct schema\'s "fields" argument is not an array.')
        for (const field of fields) {
          const name = isObjectNode(field) ? field.field : undefined
          if (typeof name !== 'string')
            throw new DataError("Struct schema's field name not specified properly")
          builder.field(name, this.#buildSchema(field)!)
        }
        break
      }
      default:
        throw new DataError(`Unknown schema type: ${type}`)
    }
    if (obj.optional === true) builder.optional()
    if (typeof obj.name === 'string') builder.name(obj.name)
    if (typeof obj.version === 'number' || typeof obj.version === 'bigint')
      builder.version(intValue(obj.version))
    if (typeof obj.doc === 'string') builder.doc(obj.doc)
    const params = obj.parameters
    if (params != null && isObjectNode(params)) {
      const parameters: Record<string, string> = {}
      for (const key in params) {
        const param = params[key]
        if (typeof param !== 'string') throw new DataError('Schema parameters must have string values.')
        parameters[key] = param
      }
      builder.parameters(parameters)
    }
    if (obj.default !== undefined) {
      const defaultValue = this.#reader.toConnect(builder.build(), obj.default)
      if (defaultValue != null) builder.defaultValue(defaultValue)
    }
    return builder.build()
  }
}
