/**
 * The post processors of `post.processor.chain` (`com.mongodb.kafka.connect.sink.processor`), run in
 * order on each record's documents before the write model is built: DocumentIdAdder (always first
 * unless placed), KafkaMetaAdder, the Allow/BlockList key and value projectors (dotted paths, `*` and
 * `**` wildcards, recursing into sub-documents and arrays of documents as `FieldProjector` does),
 * RenameByMapping and RenameByRegExp (paths `key.<field>` / `value.<field>`), NullFieldValueRemover.
 */

import { connectLogger } from '../../../api/log.ts'
import { Long } from '../bson.ts'
import { type BsonDocument, isDocument, setField } from '../bson-document.ts'
import { CLASS } from './config.ts'
import { makeProjection } from './field-projection.ts'
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
