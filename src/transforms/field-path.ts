/**
 * Kafka's `SingleFieldPath` (KIP-821): a field name (`field.syntax.version=V1`) or a dotted path to
 * a nested field (`V2`), with backticks around names that contain dots ("`foo.bar`.baz") and a
 * backslash before a backtick that is part of a name.
 */
import type { Field, Schema } from '../api/data/schema.ts'
import type { Struct } from '../api/data/struct.ts'
import { ConfigError } from '../api/errors.ts'
import { type MapValue, mapGet, requireMapOrNull, requireStructOrNull } from './transform-support.ts'

export const FIELD_SYNTAX_VERSION_CONFIG = 'field.syntax.version'
export const FIELD_SYNTAX_VERSION_DOC =
  'Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named "foo.bar" in a struct/map the following format can be used to access its elements: "`foo.bar`.baz".'

export type FieldSyntaxVersion = 'V1' | 'V2'

export class SingleFieldPath {
  readonly steps: readonly string[]

  constructor(path: string, version: FieldSyntaxVersion) {
    this.steps = version === 'V1' ? [path] : parseV2(path)
  }

  fieldFrom(schema: Schema | null): Field | undefined {
    if (!schema) return undefined
    let current = schema
    for (const step of this.steps.slice(0, -1)) {
      if (current.type !== 'STRUCT') return undefined
      const field = current.field(step)
      if (!field) return undefined
      current = field.schema
    }
    return current.type === 'STRUCT' ? current.field(this.steps[this.steps.length - 1]) : undefined
  }

  valueFromStruct(struct: Struct | null, withDefault = true): unknown {
    let current = struct
    if (!current) return null
    for (const step of this.steps.slice(0, -1)) {
      if (!current.schema.field(step)) return null
      current = requireStructOrNull(current.get(step), 'nested field access')
      if (!current) return null
    }
    const last = this.steps[this.steps.length - 1]
    if (!current.schema.field(last)) return null
    return withDefault ? current.get(last) : current.getWithoutDefault(last)
  }

  valueFromMap(map: MapValue | null): unknown {
    let current = map
    if (!current) return null
    for (const step of this.steps.slice(0, -1)) {
      current = requireMapOrNull(mapGet(current, step), 'nested field access')
      if (!current) return null
    }
    return mapGet(current, this.steps[this.steps.length - 1])
  }
}

function parseV2(path: string): string[] {
  const steps: string[] = []
  let idx = 0
  while (idx < path.length && idx >= 0) {
    if (path[idx] !== '`') {
      const start = idx
      idx = path.indexOf('.', idx)
      if (idx >= 0) {
        steps.push(path.slice(start, idx))
        idx++
      } else {
        steps.push(path.slice(start))
      }
      continue
    }
    const backtickAt = idx
    idx++
    let field = ''
    let start = idx
    for (;;) {
      idx = path.indexOf('`', idx)
      if (idx === -1) incomplete(path, backtickAt)
      const escaped = path[idx - 1] === '\\'
      if (idx >= path.length - 1) {
        if (escaped) incomplete(path, backtickAt)
        field += path.slice(start, idx)
        steps.push(field)
        idx++
        break
      }
      if (path[idx + 1] !== '.') {
        idx++
        continue
      }
      if (escaped) {
        field += `${path.slice(start, idx - 1)}\``
        idx++
        start = idx
        continue
      }
      field += path.slice(start, idx)
      steps.push(field)
      idx += 2
      break
    }
  }
  if (path.endsWith('.')) steps.push('')
  return steps
}

function incomplete(path: string, backtickAt: number): never {
  throw new ConfigError(
    'field',
    `Incomplete backtick pair in path: [${path}], consider adding a backslash before backtick at position ${backtickAt} to escape it`,
  )
}
