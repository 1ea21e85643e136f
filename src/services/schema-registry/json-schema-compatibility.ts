/**
 * JSON Schema compatibility: is every document valid under `writer` also valid under `reader`?
 * The main rules of Confluent's JSON Schema diff (`io.confluent.kafka.schemaregistry.json.diff`),
 * with its difference names as error types:
 *
 * - types: the reader must accept every writer type (`integer` is a `number`) — TYPE_CHANGED,
 *   TYPE_NARROWED; a reader `true`/`{}` accepts anything; a writer `false` produces nothing;
 * - enum and const narrowed (ENUM_ARRAY_NARROWED, ENUM_ARRAY_CHANGED, CONST_CHANGED);
 * - limits tightened or added: minimum/maximum, exclusive ones, multipleOf, minLength/maxLength,
 *   pattern, minItems/maxItems, uniqueItems, minProperties/maxProperties;
 * - objects, by content model: a required property added (REQUIRED_ATTRIBUTE_ADDED); a property
 *   added that old data of an open model may already carry with another shape
 *   (PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL); a property removed from a closed reader model
 *   (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL); additional properties forbidden
 *   (ADDITIONAL_PROPERTIES_REMOVED); property schemas compared recursively;
 * - arrays: items compared recursively; anyOf/oneOf: each writer branch readable by a reader
 *   branch (COMBINED_TYPE_SUBSCHEMAS_CHANGED); allOf: every reader branch must accept the writer;
 * - local `$ref`s (`#/definitions/…`, `#/$defs/…`) are followed.
 */
import type { Incompatibility } from './avro-compatibility.ts'

type Json = boolean | Record<string, unknown>

interface Side {
  readonly root: unknown
  readonly schema: unknown
}

export function jsonSchemaIncompatibilities(reader: unknown, writer: unknown): Incompatibility[] {
  const found: Incompatibility[] = []
  check({ root: reader, schema: reader }, { root: writer, schema: writer }, '#', found, 0)
  return found
}

function resolve(side: Side, depth = 0): Json {
  const schema = side.schema
  if (typeof schema === 'boolean') return schema
  if (typeof schema !== 'object' || schema === null) return true
  const ref = (schema as { $ref?: unknown }).$ref
  if (typeof ref === 'string' && ref.startsWith('#') && depth < 32) {
    let target: unknown = side.root
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      target = (target as Record<string, unknown> | undefined)?.[
        decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')
      ]
    }
    if (target !== undefined) return resolve({ root: side.root, schema: target }, depth + 1)
  }
  return schema as Record<string, unknown>
}

const at = (side: Side, schema: unknown): Side => ({ root: side.root, schema })

function isAnything(schema: Json): boolean {
  if (schema === true) return true
  if (schema === false) return false
  const meaningful = Object.keys(schema).filter(
    (k) =>
      ![
        '$schema',
        '$id',
        'id',
        'title',
        'description',
        'default',
        'examples',
        '$comment',
        'definitions',
        '$defs',
      ].includes(k),
  )
  return meaningful.length === 0
}

function types(schema: Record<string, unknown>): Set<string> | undefined {
  const t = schema.type
  if (t === undefined) return undefined
  return new Set(Array.isArray(t) ? (t as string[]) : [t as string])
}

function accepts(readerTypes: Set<string>, type: string): boolean {
  return readerTypes.has(type) || (type === 'integer' && readerTypes.has('number'))
}

function push(found: Incompatibility[], errorType: string, path: string, detail: string): void {
  found.push({
    errorType,
    path,
    description: `${errorType} at path '${path}': ${detail}`,
    additionalInfo: detail,
  })
}

function check(
  readerSide: Side,
  writerSide: Side,
  path: string,
  found: Incompatibility[],
  depth: number,
): void {
  if (depth > 64) return
  const reader = resolve(readerSide)
  const writer = resolve(writerSide)
  if (isAnything(reader) || writer === false) return
  if (reader === false) {
    push(found, 'TYPE_NARROWED', path, 'the new schema accepts nothing')
    return
  }
  if (writer === true || isAnything(writer)) {
    push(found, 'TYPE_NARROWED', path, 'the old schema accepted any value; the new one restricts it')
    return
  }
  const r = reader as Record<string, unknown>
  const w = writer as Record<string, unknown>

  // Combinators first: they decide what the schema accepts as a whole.
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const readerBranches = r[keyword] as unknown[] | undefined
    const writerBranches = (w[keyword] as unknown[] | undefined) ?? (readerBranches ? [writer] : undefined)
    if (readerBranches) {
      writerBranches!.forEach((branch, i) => {
        const readable = readerBranches.some((rb) => {
          const sub: Incompatibility[] = []
          check(at(readerSide, rb), at(writerSide, branch), `${path}/${keyword}/${i}`, sub, depth + 1)
          return sub.length === 0
        })
        if (!readable) {
          push(
            found,
            'COMBINED_TYPE_SUBSCHEMAS_CHANGED',
            `${path}/${keyword}/${i}`,
            'no branch of the new schema accepts this branch of the old one',
          )
        }
      })
      return
    }
  }
  if (Array.isArray(r.allOf)) {
    for (const [i, branch] of (r.allOf as unknown[]).entries()) {
      check(at(readerSide, branch), writerSide, `${path}/allOf/${i}`, found, depth + 1)
    }
  }

  const readerTypes = types(r)
  const writerTypes = types(w)
  if (readerTypes) {
    if (!writerTypes) {
      push(
        found,
        'TYPE_NARROWED',
        `${path}/type`,
        `the new schema allows only ${[...readerTypes].join(', ')}`,
      )
      return
    }
    const lost = [...writerTypes].filter((t) => !accepts(readerTypes, t))
    if (lost.length > 0) {
      const narrowed = [...readerTypes].every((t) => writerTypes.has(t))
      push(
        found,
        narrowed ? 'TYPE_NARROWED' : 'TYPE_CHANGED',
        `${path}/type`,
        `the new schema does not accept ${lost.join(', ')}`,
      )
      return
    }
  }

  if (Array.isArray(r.enum)) {
    const readerValues = new Set((r.enum as unknown[]).map((v) => JSON.stringify(v)))
    const writerValues = Array.isArray(w.enum)
      ? (w.enum as unknown[]).map((v) => JSON.stringify(v))
      : undefined
    if (!writerValues) push(found, 'ENUM_ARRAY_CHANGED', `${path}/enum`, 'an enum was added')
    else if (writerValues.some((v) => !readerValues.has(v))) {
      push(found, 'ENUM_ARRAY_NARROWED', `${path}/enum`, 'values of the old enum are missing')
    }
  }
  if ('const' in r && JSON.stringify(r.const) !== JSON.stringify(w.const)) {
    push(found, 'CONST_CHANGED', `${path}/const`, 'the constant changed or was added')
  }

  limit(found, `${path}`, r, w, 'minimum', 'lower', 'MINIMUM')
  limit(found, `${path}`, r, w, 'exclusiveMinimum', 'lower', 'EXCLUSIVE_MINIMUM')
  limit(found, `${path}`, r, w, 'maximum', 'upper', 'MAXIMUM')
  limit(found, `${path}`, r, w, 'exclusiveMaximum', 'upper', 'EXCLUSIVE_MAXIMUM')
  limit(found, `${path}`, r, w, 'minLength', 'lower', 'MIN_LENGTH')
  limit(found, `${path}`, r, w, 'maxLength', 'upper', 'MAX_LENGTH')
  limit(found, `${path}`, r, w, 'minItems', 'lower', 'MIN_ITEMS')
  limit(found, `${path}`, r, w, 'maxItems', 'upper', 'MAX_ITEMS')
  limit(found, `${path}`, r, w, 'minProperties', 'lower', 'MIN_PROPERTIES')
  limit(found, `${path}`, r, w, 'maxProperties', 'upper', 'MAX_PROPERTIES')
  if (r.multipleOf !== undefined) {
    const wm = w.multipleOf
    if (typeof wm !== 'number' || wm % (r.multipleOf as number) !== 0) {
      push(
        found,
        wm === undefined ? 'MULTIPLE_OF_ADDED' : 'MULTIPLE_OF_CHANGED',
        `${path}/multipleOf`,
        'a stricter multipleOf',
      )
    }
  }
  if (r.pattern !== undefined && r.pattern !== w.pattern) {
    push(
      found,
      w.pattern === undefined ? 'PATTERN_ADDED' : 'PATTERN_CHANGED',
      `${path}/pattern`,
      `pattern ${String(r.pattern)}`,
    )
  }
  if (r.uniqueItems === true && w.uniqueItems !== true) {
    push(found, 'UNIQUE_ITEMS_ADDED', `${path}/uniqueItems`, 'items must now be unique')
  }

  if (r.items !== undefined && !Array.isArray(r.items)) {
    const writerItems = w.items === undefined || Array.isArray(w.items) ? true : w.items
    check(at(readerSide, r.items), at(writerSide, writerItems), `${path}/items`, found, depth + 1)
  }

  objectRules(readerSide, writerSide, r, w, path, found, depth)
}

function limit(
  found: Incompatibility[],
  path: string,
  r: Record<string, unknown>,
  w: Record<string, unknown>,
  keyword: string,
  side: 'lower' | 'upper',
  name: string,
): void {
  const rv = r[keyword]
  if (typeof rv !== 'number') return
  const wv = w[keyword]
  if (typeof wv !== 'number') {
    push(found, `${name}_ADDED`, `${path}/${keyword}`, `${keyword} ${rv} was added`)
    return
  }
  if (side === 'lower' ? rv > wv : rv < wv) {
    push(
      found,
      `${name}_${side === 'lower' ? 'INCREASED' : 'DECREASED'}`,
      `${path}/${keyword}`,
      `${keyword} ${wv} → ${rv}`,
    )
  }
}

function objectRules(
  readerSide: Side,
  writerSide: Side,
  r: Record<string, unknown>,
  w: Record<string, unknown>,
  path: string,
  found: Incompatibility[],
  depth: number,
): void {
  const rProps = (r.properties ?? {}) as Record<string, unknown>
  const wProps = (w.properties ?? {}) as Record<string, unknown>
  if (
    r.properties === undefined &&
    w.properties === undefined &&
    r.required === undefined &&
    r.additionalProperties === undefined
  )
    return
  const writerAdditional = w.additionalProperties === undefined ? true : w.additionalProperties
  const readerAdditional = r.additionalProperties === undefined ? true : r.additionalProperties
  const writerRequired = new Set((w.required as string[] | undefined) ?? [])
  for (const name of (r.required as string[] | undefined) ?? []) {
    if (!writerRequired.has(name)) {
      push(found, 'REQUIRED_ATTRIBUTE_ADDED', `${path}/required`, `property '${name}' is now required`)
    }
  }
  for (const [name, readerProp] of Object.entries(rProps)) {
    const propPath = `${path}/properties/${name}`
    if (name in wProps) {
      check(at(readerSide, readerProp), at(writerSide, wProps[name]), propPath, found, depth + 1)
    } else if (writerAdditional !== false) {
      // Old data may carry this property, shaped by the old additionalProperties.
      const sub: Incompatibility[] = []
      check(at(readerSide, readerProp), at(writerSide, writerAdditional), propPath, sub, depth + 1)
      if (sub.length > 0) {
        push(
          found,
          'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
          propPath,
          `property '${name}' added to an open content model`,
        )
      }
    }
  }
  for (const [name, writerProp] of Object.entries(wProps)) {
    if (name in rProps) continue
    const propPath = `${path}/properties/${name}`
    if (readerAdditional === false) {
      push(
        found,
        'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
        propPath,
        `property '${name}' removed from a closed content model`,
      )
    } else {
      check(at(readerSide, readerAdditional), at(writerSide, writerProp), propPath, found, depth + 1)
    }
  }
  if (writerAdditional !== false) {
    if (readerAdditional === false) {
      push(
        found,
        'ADDITIONAL_PROPERTIES_REMOVED',
        `${path}/additionalProperties`,
        'additional properties are no longer allowed',
      )
    } else if (readerAdditional !== true) {
      check(
        at(readerSide, readerAdditional),
        at(writerSide, writerAdditional),
        `${path}/additionalProperties`,
        found,
        depth + 1,
      )
    }
  }
}
