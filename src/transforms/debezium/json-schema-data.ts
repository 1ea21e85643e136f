/**
 * Debezium's outbox `JsonSchemaData`: a JSON object string as a Connect Struct with an inferred,
 * all-optional schema (`table.expand.json.payload`). Integers that fit 32 bits are INT32, larger
 * ones INT64, other numbers FLOAT64; nulls are left out (`ignore`) or OPTIONAL_BYTES; empty arrays
 * are left out (`ignore`) or arrays of optional strings; array elements must share one type, and
 * object elements' schemas are merged.
 *
 * Deviations: integers beyond 2^53 lose precision (JSON.parse); a payload that is not a JSON object
 * (an array, a scalar, malformed text) is left as the original string, where Debezium would
 * replace the schema but keep the string.
 */
import { type Schema, Schemas } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import { DataError } from '../../api/errors.ts'
import { copySchemaBasics } from '../transform-support.ts'

export function jsonToConnect(
  key: string,
  text: string,
  nullBehavior: string,
  emptyArrayBehavior: string,
): { schema: Schema; value: Struct } | undefined {
  if (!text.startsWith('{')) return undefined
  let node: unknown
  try {
    node = JSON.parse(text)
  } catch {
    return undefined
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined
  const infer = new Inference(nullBehavior, emptyArrayBehavior)
  const schema = infer.schema(key, node)!
  return { schema, value: toStruct(node as Record<string, unknown>, schema) }
}

class Inference {
  readonly #nullBehavior: string
  readonly #emptyArrayBehavior: string

  constructor(nullBehavior: string, emptyArrayBehavior: string) {
    this.#nullBehavior = nullBehavior
    this.#emptyArrayBehavior = emptyArrayBehavior
  }

  schema(key: string | null, node: unknown): Schema | null {
    if (node === null) return this.#nullBehavior === 'optional_bytes' ? Schemas.OPTIONAL_BYTES : null
    switch (typeof node) {
      case 'string':
        return Schemas.OPTIONAL_STRING
      case 'boolean':
        return Schemas.OPTIONAL_BOOLEAN
      case 'number':
        if (!Number.isInteger(node)) return Schemas.OPTIONAL_FLOAT64
        return node >= -2147483648 && node <= 2147483647 ? Schemas.OPTIONAL_INT32 : Schemas.OPTIONAL_INT64
    }
    if (Array.isArray(node)) {
      if (node.length === 0) {
        return this.#emptyArrayBehavior === 'optional_string'
          ? SchemaBuilder.array(Schemas.OPTIONAL_STRING).optional().build()
          : null
      }
      return SchemaBuilder.array(this.#elementSchema(key, node)).optional().build()
    }
    const builder = SchemaBuilder.struct().optional()
    if (key) builder.name(key)
    const names = new Set<string>()
    for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
      const fieldSchema = this.schema(key ? `${key}.${name}` : name, value)
      if (fieldSchema && !names.has(name)) {
        builder.field(name, fieldSchema)
        names.add(name)
      }
    }
    return builder.build()
  }

  #elementSchema(key: string | null, array: unknown[]): Schema {
    const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
    let sample: unknown = null
    let sampleSchema: Schema | null = null
    for (const element of array) {
      if (element === null) continue
      if (sample === null) sample = element
      if (kind(element) !== kind(sample)) {
        throw new DataError(
          `Field is not a homogenous array (${JSON.stringify(sample)} x ${kind(element).toUpperCase()}).`,
        )
      }
      if (typeof sample === 'number') {
        sampleSchema ??= this.schema(null, sample)
        if (this.schema(null, element) !== sampleSchema) {
          throw new DataError(
            `Field is not a homogenous array (${sample} x ${element}), different number types`,
          )
        }
      }
    }
    if (sample !== null && typeof sample === 'object' && !Array.isArray(sample)) {
      let merged: Schema | null = null
      for (const element of array) {
        if (element === null || typeof element !== 'object' || Array.isArray(element)) continue
        merged = merge(merged, this.schema(key, element)!)
      }
      return merged!
    }
    const schema = this.schema(null, sample)
    if (!schema) throw new DataError(`Array '${JSON.stringify(array)}' has unrecognized member schema.`)
    return schema
  }
}

function merge(left: Schema | null, right: Schema): Schema {
  if (!left) return right
  const fields = new Map(left.fields.map((f) => [f.name, f.schema]))
  for (const f of right.fields) {
    const old = fields.get(f.name)
    if (!old || (old.type === 'BYTES' && f.schema.type !== 'BYTES')) fields.set(f.name, f.schema)
  }
  const builder = copySchemaBasics(left).optional()
  for (const [name, schema] of fields) builder.field(name, schema)
  return builder.build()
}

function toStruct(node: Record<string, unknown>, schema: Schema): Struct {
  const struct = new Struct(schema)
  for (const field of schema.fields) {
    if (Object.hasOwn(node, field.name)) struct.put(field.name, toValue(node[field.name], field.schema))
  }
  return struct
}

function toValue(node: unknown, schema: Schema): unknown {
  if (node === null || node === undefined) return null
  if (Array.isArray(node)) return node.map((e) => toValue(e, schema.valueSchema!))
  if (typeof node === 'object') return toStruct(node as Record<string, unknown>, schema)
  if (typeof node === 'number' && schema.type === 'STRING') return String(node)
  return node
}
