import { DataError } from '../errors.ts'
import { type Field, type Schema, schemaEquals, validateValue, valueEquals } from './schema.ts'

/**
 * A structured record value whose fields follow a STRUCT schema (Java's `Struct`). `put` checks
 * each value against its field's schema; `validate` checks that every required field is set.
 */
export class Struct {
  readonly schema: Schema
  readonly #values: unknown[]

  constructor(schema: Schema) {
    if (schema.type !== 'STRUCT') {
      throw new DataError(`a Struct needs a STRUCT schema, got ${schema.type}`)
    }
    this.schema = schema
    this.#values = new Array(schema.fields.length).fill(null)
  }

  put(fieldName: string | Field, value: unknown): this {
    const field = this.#lookup(fieldName)
    validateValue(field.schema, value, `field '${field.name}'`)
    this.#values[field.index] = value ?? null
    return this
  }

  /** The field's value, or its schema's default when the value is null (as Java's `Struct.get`). */
  get(fieldName: string | Field): unknown {
    const field = this.#lookup(fieldName)
    const value = this.#values[field.index]
    return value === null && field.schema.defaultValue !== undefined ? field.schema.defaultValue : value
  }

  /** The field's value without substituting the default. */
  getWithoutDefault(fieldName: string | Field): unknown {
    return this.#values[this.#lookup(fieldName).index]
  }

  validate(): void {
    for (const field of this.schema.fields) {
      validateValue(field.schema, this.get(field), `field '${field.name}'`)
    }
  }

  equals(other: unknown): boolean {
    if (!(other instanceof Struct) || !schemaEquals(this.schema, other.schema)) return false
    return this.schema.fields.every((f) => valueEquals(this.getWithoutDefault(f), other.getWithoutDefault(f)))
  }

  toString(): string {
    const parts = this.schema.fields.map((f) => `${f.name}=${String(this.#values[f.index])}`)
    return `Struct{${parts.join(',')}}`
  }

  #lookup(fieldName: string | Field): Field {
    if (typeof fieldName !== 'string') {
      if (
        this.schema.fields[fieldName.index] !== fieldName &&
        this.schema.fields[fieldName.index]?.name !== fieldName.name
      ) {
        throw new DataError(`field '${fieldName.name}' does not belong to this struct's schema`)
      }
      return this.schema.fields[fieldName.index]
    }
    const field = this.schema.field(fieldName)
    if (!field) {
      const known = this.schema.fields.map((f) => f.name).join(', ')
      throw new DataError(`'${fieldName}' is not a valid field name; the struct has: ${known}`)
    }
    return field
  }
}
