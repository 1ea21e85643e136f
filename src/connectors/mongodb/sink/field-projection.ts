/**
 * The official connector's `FieldProjector` and its allow and block list subclasses: dotted paths,
 * `*` and `**` wildcards, recursing into sub-documents and arrays of documents. Used by the key and
 * value projecting post processors and by the partial key and value id strategies.
 */
import { type BsonDocument, isDocument } from '../bson-document.ts'
import type { Projection } from './topic-settings.ts'

/** Applies an allow or block list to a document in place (`FieldProjector` and its two subclasses). */
export function makeProjection(projection: Projection): (doc: BsonDocument) => void {
  if (projection.type === 'none') return () => {}
  if (projection.type === 'block') {
    const fields = new Set(projection.fields)
    return (doc) => {
      for (const f of fields) blockPath(f, doc)
    }
  }
  // Allow list: every left prefix of a dotted path is kept too, so the recursion reaches the leaves.
  const fields = new Set<string>()
  for (const f of projection.fields) {
    let entry = f
    fields.add(entry)
    while (entry.includes('.')) {
      entry = entry.slice(0, entry.lastIndexOf('.'))
      if (entry !== '') fields.add(entry)
    }
  }
  return (doc) => allowIn('', doc, fields)
}

function allowIn(prefix: string, doc: BsonDocument, fields: Set<string>): void {
  if (fields.has('**')) return
  for (const name of Object.keys(doc)) {
    const key = prefix === '' ? name : `${prefix}.${name}`
    const value = doc[name]
    if (!fields.has(key) && !wildcardMatch(key, fields)) {
      delete doc[name]
    }
    if (isDocument(value)) {
      if (!fields.has(`${key}.**`)) allowIn(key, value, fields)
    } else if (Array.isArray(value)) {
      for (const v of value) if (isDocument(v)) allowIn(key, v, fields)
    }
  }
}

function wildcardMatch(key: string, fields: Set<string>): boolean {
  for (const f of fields) {
    if (!f.includes('.') && f !== '*' && f.endsWith('*') && key.startsWith(f.slice(0, -1))) return true
  }
  const parts = key.split('.')
  // Every pattern that replaces some parts of the path with '*'.
  for (let mask = (1 << parts.length) - 1; mask >= 0; mask--) {
    const pattern = parts.map((p, i) => (mask & (1 << (parts.length - 1 - i)) ? p : '*')).join('.')
    if (fields.has(pattern)) return true
  }
  return false
}

function blockPath(field: string, doc: BsonDocument): void {
  const dot = field.indexOf('.')
  if (dot < 0) {
    if (field === '*' || field === '**') blockWildcard(field, '', doc)
    else if (field.endsWith('*')) {
      const start = field.slice(0, -1)
      for (const k of Object.keys(doc)) if (k.startsWith(start)) delete doc[k]
    } else delete doc[field]
    return
  }
  const first = field.slice(0, dot)
  const rest = field.slice(dot + 1)
  if (first === '*' || first === '**') {
    blockWildcard(first, rest, doc)
    return
  }
  const value = doc[first]
  if (isDocument(value)) blockPath(rest, value)
  else if (Array.isArray(value)) for (const v of value) if (isDocument(v)) blockPath(rest, v)
}

function blockWildcard(first: string, rest: string, doc: BsonDocument): void {
  for (const k of Object.keys(doc)) {
    const value = doc[k]
    if (first === '**') delete doc[k]
    else if (!isDocument(value)) delete doc[k]
    else if (rest !== '') blockPath(rest, value)
  }
}
