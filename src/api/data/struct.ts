import { DataError } from '../errors.ts'
import {
  type Field,
  isPlainlyValid,
  type Schema,
  schemaEquals,
  validateValue,
  valueEquals,
} from './schema.ts'

/** Per struct schema, which fields must hold a value (required, no default), and how many. */
const requiredOf = new WeakMap<Schema, { flags: boolean[]; count: number }>()

function required(schema: Schema): { flags: boolean[]; count: number } {
  let r = requiredOf.get(schema)
  if (r === undefined) {
    const flags = schema.fields.map((f) => !f.schema.optional && f.schema.defaultValue == null)
    r = { flags, count: flags.filter(Boolean).length }
    requiredOf.set(schema, r)
  }
  return r
}

/** Values handed to the constructor by `Struct.trusted` (taken, not copied); null otherwise. */
let trustedValues: unknown[] | null = null

/**
 * A structured record value whose fields follow a STRUCT schema (Java's `Struct`). `put` checks
 * each value against its field's schema; `validate` checks that every required field is set.
 */
export class Struct {
  readonly schema: Schema
  readonly #values: unknown[]
  readonly #required: boolean[]
  /** Required fields (no default) still null: 0 means `validate` has nothing left to find. */
  #missing: number

  constructor(schema: Schema) {
    if (schema.type !== 'STRUCT') {
      throw new DataError(`a Struct needs a STRUCT schema, got ${schema.type}`)
    }
    this.schema = schema
    const r = required(schema)
    this.#required = r.flags
    const values = trustedValues
    if (values === null) {
      this.#values = new Array(schema.fields.length).fill(null)
      this.#missing = r.count
      return
    }
    trustedValues = null
    this.#values = values
    let missing = 0
    for (let i = 0; i < values.length; i++) {
      if (values[i] === undefined) values[i] = null
      if (r.flags[i] && values[i] === null) missing++
    }
    this.#missing = missing
  }

  /**
   * A struct holding `values`, one per field in the schema's order (null or undefined for none), taken
   * as they are (the array is kept, not copied) without `put`'s check of each value against its field.
   * For connector code whose values come from converters made for the schema, such as the CDC events of
   * every row: the checks were a tenth of a snapshot's CPU. A required field left null still fails
   * here, as `put` would have failed; a value of the wrong type is still refused by the converters,
   * which check what they do not expect.
   */
  static trusted(schema: Schema, values: unknown[]): Struct {
    if (values.length !== schema.fields.length)
      throw new DataError(`a struct of ${schema.fields.length} fields got ${values.length} values`)
    trustedValues = values
    let struct: Struct
    try {
      struct = new Struct(schema)
    } finally {
      trustedValues = null
    }
    if (struct.#missing > 0) {
      // What `put` says for the first required field given null.
      const fields = schema.fields
      for (let i = 0; i < fields.length; i++)
        if (struct.#required[i] && values[i] === null)
          validateValue(fields[i].schema, null, `field '${fields[i].name}'`)
    }
    return struct
  }

  put(fieldName: string | Field, value: unknown): this {
    const field = this.#lookup(fieldName)
    if (!isPlainlyValid(field.schema, value)) validateValue(field.schema, value, `field '${field.name}'`)
    const index = field.index
    // A required field without a default only ever gets non-null values (null fails validation above).
    if (this.#required[index] && this.#values[index] === null) this.#missing--
    this.#values[index] = value ?? null
    return this
  }

  /** Every required field without a default holds a value (so `validate` passes). */
  get isComplete(): boolean {
    return this.#missing === 0
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

  /**
   * The value of the field at `index` of this struct's schema, without a name lookup or the default:
   * for serializers that walk the schema's fields in order.
   */
  valueAt(index: number): unknown {
    return this.#values[index]
  }

  validate(): void {
    // Each value was checked by `put`: only required fields left null can fail.
    if (this.#missing === 0) return
    for (const field of this.schema.fields) {
      validateValue(field.schema, this.get(field), `field '${field.name}'`)
    }
  }

  equals(other: unknown): boolean {
    if (!(other instanceof Struct) || !schemaEquals(this.schema, other.schema)) return false
    return this.schema.fields.every((f) => valueEquals(this.getWithoutDefault(f), other.getWithoutDefault(f)))
  }

  /** Java's `Struct.toString()`: the fields that hold a value, as `Struct{a=1,b=x}`. */
  toString(): string {
    const parts = this.schema.fields
      .filter((f) => this.#values[f.index] !== null)
      .map((f) => `${f.name}=${String(this.#values[f.index])}`)
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
