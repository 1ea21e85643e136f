import { DataError } from '../errors.ts'
import { ConnectSchema, type Schema, type SchemaType } from './schema.ts'

/**
 * Fluent construction of schemas, as Java's `SchemaBuilder`:
 * `SchemaBuilder.struct().name('com.example.Order').field('id', Schemas.INT32).build()`.
 * Each property may be set once; `build()` returns an immutable `ConnectSchema`.
 */
export class SchemaBuilder {
  readonly type: SchemaType
  #optional = false
  #defaultValue: unknown
  #name: string | undefined
  #version: number | undefined
  #doc: string | undefined
  #parameters: Record<string, string> | undefined
  #keySchema: Schema | undefined
  #valueSchema: Schema | undefined
  readonly #fields: { name: string; schema: Schema }[] = []

  constructor(type: SchemaType) {
    this.type = type
  }

  static int8(): SchemaBuilder {
    return new SchemaBuilder('INT8')
  }
  static int16(): SchemaBuilder {
    return new SchemaBuilder('INT16')
  }
  static int32(): SchemaBuilder {
    return new SchemaBuilder('INT32')
  }
  static int64(): SchemaBuilder {
    return new SchemaBuilder('INT64')
  }
  static float32(): SchemaBuilder {
    return new SchemaBuilder('FLOAT32')
  }
  static float64(): SchemaBuilder {
    return new SchemaBuilder('FLOAT64')
  }
  static bool(): SchemaBuilder {
    return new SchemaBuilder('BOOLEAN')
  }
  static string(): SchemaBuilder {
    return new SchemaBuilder('STRING')
  }
  static bytes(): SchemaBuilder {
    return new SchemaBuilder('BYTES')
  }
  static struct(): SchemaBuilder {
    return new SchemaBuilder('STRUCT')
  }
  static array(valueSchema: Schema): SchemaBuilder {
    const b = new SchemaBuilder('ARRAY')
    b.#valueSchema = valueSchema
    return b
  }
  static map(keySchema: Schema, valueSchema: Schema): SchemaBuilder {
    const b = new SchemaBuilder('MAP')
    b.#keySchema = keySchema
    b.#valueSchema = valueSchema
    return b
  }

  /** A builder that starts as a copy of an existing schema (Java's `SchemaUtil.copySchemaBasics` and more). */
  static from(schema: Schema): SchemaBuilder {
    const b = new SchemaBuilder(schema.type)
    b.#optional = schema.optional
    b.#defaultValue = schema.defaultValue
    b.#name = schema.name
    b.#version = schema.version
    b.#doc = schema.doc
    b.#parameters = schema.parameters ? { ...schema.parameters } : undefined
    b.#keySchema = schema.keySchema
    b.#valueSchema = schema.valueSchema
    for (const f of schema.fields) b.#fields.push({ name: f.name, schema: f.schema })
    return b
  }

  get optionalFlag(): boolean {
    return this.#optional
  }

  optional(): this {
    this.#optional = true
    return this
  }

  required(): this {
    this.#optional = false
    return this
  }

  defaultValue(value: unknown): this {
    this.#defaultValue = value
    return this
  }

  name(name: string): this {
    this.#name = name
    return this
  }

  version(version: number): this {
    this.#version = version
    return this
  }

  doc(doc: string): this {
    this.#doc = doc
    return this
  }

  parameter(key: string, value: string): this {
    this.#parameters = { ...(this.#parameters ?? {}), [key]: value }
    return this
  }

  parameters(params: Record<string, string>): this {
    this.#parameters = { ...(this.#parameters ?? {}), ...params }
    return this
  }

  field(name: string, schema: Schema | SchemaBuilder): this {
    if (this.type !== 'STRUCT') throw new DataError(`cannot add field '${name}' to a ${this.type} schema`)
    if (!name) throw new DataError('field names cannot be empty')
    if (this.#fields.some((f) => f.name === name)) {
      throw new DataError(`cannot create field because of field name duplication: ${name}`)
    }
    this.#fields.push({ name, schema: schema instanceof SchemaBuilder ? schema.build() : schema })
    return this
  }

  build(): Schema {
    return new ConnectSchema({
      type: this.type,
      optional: this.#optional,
      defaultValue: this.#defaultValue,
      name: this.#name,
      version: this.#version,
      doc: this.#doc,
      parameters: this.#parameters,
      keySchema: this.#keySchema,
      valueSchema: this.#valueSchema,
      fields: this.#fields,
    })
  }
}
