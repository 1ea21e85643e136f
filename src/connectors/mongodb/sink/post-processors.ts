/**
 * The post processors of `post.processor.chain` (`com.mongodb.kafka.connect.sink.processor`), run in
 * order on each record's documents before the write model is built: DocumentIdAdder (always first
 * unless placed), KafkaMetaAdder, the Allow/BlockList key and value projectors (dotted paths, `*` and
 * `**` wildcards, recursing into sub-documents and arrays of documents as `FieldProjector` does),
 * RenameByMapping and RenameByRegExp (paths `key.<field>` / `value.<field>`), NullFieldValueRemover.
 */
import { Long } from 'mongodb'
import { connectLogger } from '../../../api/log.ts'
import { type BsonDocument, isDocument, setField } from '../bson-document.ts'
import { CLASS } from './config.ts'
import type { IdStrategy } from './id-strategies.ts'
import type { SinkDocument } from './sink-document.ts'
import type { Projection, TopicSettings } from './topic-settings.ts'

export type PostProcessor = (doc: SinkDocument) => void

/** The chain of `settings.postProcessors`, in order. */
export function postProcessorChain(settings: TopicSettings, idStrategy: IdStrategy): PostProcessor[] {
  return settings.postProcessors.map((name) => {
    switch (name) {
      case CLASS.documentIdAdder:
        return documentIdAdder(settings, idStrategy)
      case CLASS.kafkaMetaAdder:
        return kafkaMetaAdder
      case CLASS.allowListKeyProjector:
      case CLASS.whitelistKeyProjector:
        return projector('key', { type: 'allow', fields: settings.keyProjection.fields })
      case CLASS.allowListValueProjector:
      case CLASS.whitelistValueProjector:
        return projector('value', { type: 'allow', fields: settings.valueProjection.fields })
      case CLASS.blockListKeyProjector:
      case CLASS.blacklistKeyProjector:
        return projector('key', { type: 'block', fields: settings.keyProjection.fields })
      case CLASS.blockListValueProjector:
      case CLASS.blacklistValueProjector:
        return projector('value', { type: 'block', fields: settings.valueProjection.fields })
      case CLASS.renameByMapping: {
        const map = new Map(settings.renameMapping.map((m) => [m.oldName, m.newName]))
        return renamer((path, name) => map.get(`${path}.${name}`) ?? name)
      }
      case CLASS.renameByRegExp: {
        const rules = settings.renameRegexp.map((r) => ({
          ...r,
          full: new RegExp(`^(?:${r.regexp.source})$`),
        }))
        return renamer((path, name) => {
          let renamed = name
          for (const rule of rules)
            if (rule.full.test(`${path}.${name}`)) renamed = renamed.replace(rule.pattern, rule.replace)
          return renamed
        })
      }
      case CLASS.nullFieldValueRemover:
        return (doc) => {
          const value = doc.value
          if (value !== undefined) removeNulls(value)
        }
      default:
        throw new Error(`no post processor ${name}`) // config.ts accepts only the names above
    }
  })
}

function documentIdAdder(settings: TopicSettings, idStrategy: IdStrategy): PostProcessor {
  let warned = false
  // The value's own _id is what these strategies read: applying them never overwrites anything else.
  const fromValue =
    settings.idStrategy === 'ProvidedInValueStrategy' || settings.idStrategy === 'UuidProvidedInValueStrategy'
  return (doc) => {
    const value = doc.value
    if (value === undefined) return
    if (!('_id' in value) || settings.overwriteExistingId || fromValue) {
      setField(value, '_id', idStrategy(doc))
    } else if (!warned) {
      warned = true
      connectLogger().warn(
        `MongoDB sink: records of topic ${settings.topic} carry an _id which is kept: set document.id.strategy.overwrite.existing=true to replace it with the id strategy's`,
      )
    }
  }
}

function kafkaMetaAdder(doc: SinkDocument): void {
  const value = doc.value
  if (value === undefined) return
  const r = doc.record
  value['topic-partition-offset'] = `${r.topic}-${r.kafkaPartition}-${r.kafkaOffset}`
  if (r.timestampType !== 'NoTimestampType' && r.timestamp !== null)
    value[r.timestampType] = Long.fromNumber(r.timestamp)
}

function removeNulls(doc: BsonDocument): void {
  for (const k of Object.keys(doc)) {
    const v = doc[k]
    if (v === null) delete doc[k]
    else if (isDocument(v)) removeNulls(v)
    else if (Array.isArray(v)) for (const e of v) if (isDocument(e)) removeNulls(e)
  }
}

function projector(side: 'key' | 'value', projection: Projection): PostProcessor {
  const project = makeProjection(projection)
  return (doc) => {
    const target = side === 'key' ? doc.key : doc.value
    if (target !== undefined) project(target)
  }
}

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

/** `Renamer.doRenaming`: renames fields of the key (`key.<path>`) and value (`value.<path>`), recursively. */
function renamer(renamed: (path: string, name: string) => string): PostProcessor {
  const rename = (path: string, doc: BsonDocument): void => {
    const modifications: [string, unknown][] = []
    for (const oldKey of Object.keys(doc)) {
      const value = doc[oldKey]
      const newKey = renamed(path, oldKey)
      if (newKey !== oldKey) {
        delete doc[oldKey]
        modifications.push([newKey, value])
      }
      if (isDocument(value)) rename(`${path}.${newKey}`, value)
    }
    for (const [k, v] of modifications) if (!(k in doc)) setField(doc, k, v)
  }
  return (doc) => {
    if (doc.hasKey) {
      const key = doc.key
      if (key !== undefined) rename('key', key)
    }
    const value = doc.value
    if (value !== undefined) rename('value', value)
  }
}
