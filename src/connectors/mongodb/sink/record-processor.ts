/**
 * One topic's way from a record to a namespace and a write model (the official connector's
 * `MongoProcessedSinkRecordData`): the namespace mapper, then either the CDC handler or the post
 * processors and the write-model strategy (the delete strategy for tombstones).
 */
import { DataError } from '../../../api/errors.ts'
import type { SinkRecord } from '../../../api/records.ts'
import { type BsonDocument, isDocument } from '../bson-document.ts'
import { type CdcHandler, makeCdcHandler } from './cdc-handlers.ts'
import { makeIdStrategy } from './id-strategies.ts'
import { type PostProcessor, postProcessorChain } from './post-processors.ts'
import { SinkDocument } from './sink-document.ts'
import type { TopicSettings } from './topic-settings.ts'
import { type ModelBuilder, makeDeleteModel, makeValueModel, type WriteModel } from './write-models.ts'

export interface Namespace {
  db: string
  coll: string
}

/** What to do with one record: write `model` into `ns`, or nothing (model undefined: a no-op event). */
export interface ProcessedRecord {
  record: SinkRecord
  ns: Namespace
  model: WriteModel | undefined
}

export class TopicProcessor {
  readonly settings: TopicSettings
  readonly #postProcessors: PostProcessor[]
  readonly #valueModel: ModelBuilder
  readonly #deleteModel: ModelBuilder | undefined
  readonly #cdc: CdcHandler | undefined

  constructor(settings: TopicSettings) {
    this.settings = settings
    const idStrategy = makeIdStrategy(settings)
    this.#postProcessors = postProcessorChain(settings, idStrategy)
    this.#valueModel = makeValueModel(settings.writeModel, settings)
    this.#deleteModel = settings.deleteOnNullValues ? makeDeleteModel(settings, idStrategy) : undefined
    this.#cdc = settings.cdcHandler === undefined ? undefined : makeCdcHandler(settings.cdcHandler)
  }

  /** Throws a DataError (or ConnectError) for a record that cannot be written. */
  process(record: SinkRecord): ProcessedRecord {
    const doc = new SinkDocument(record)
    const ns = this.#namespace(doc)
    if (this.#cdc) {
      const model = this.#cdc(doc)
      if (model !== undefined && this.settings.cdcRemoveNullValues) removeNullsFromModel(model)
      return { record, ns, model }
    }
    if (doc.hasValue) {
      for (const p of this.#postProcessors) p(doc)
      return { record, ns, model: this.#valueModel(doc) }
    }
    if (!doc.hasKey) throw new DataError('Invalid Sink Record neither key doc nor value doc were present')
    if (this.#deleteModel === undefined) {
      throw new DataError(
        'Could not create write model: the record is a tombstone (null value) and delete.on.null.values is false; ' +
          'set delete.on.null.values=true to delete by key, or drop tombstones before the sink',
      )
    }
    return { record, ns, model: this.#deleteModel(doc) }
  }

  #namespace(doc: SinkDocument): Namespace {
    const s = this.settings
    if (s.namespaceMapper === 'default') return { db: s.database, coll: s.collection }
    const f = s.mapperFields
    const db = f.keyDatabase
      ? this.#field(doc, 'key', f.keyDatabase)
      : f.valueDatabase
        ? this.#field(doc, 'value', f.valueDatabase)
        : undefined
    const coll = f.keyCollection
      ? this.#field(doc, 'key', f.keyCollection)
      : f.valueCollection
        ? this.#field(doc, 'value', f.valueCollection)
        : undefined
    return { db: db ?? s.database, coll: coll ?? s.collection }
  }

  /** `FieldPathNamespaceMapper`: a string at a dotted path; missing or not a string → default or error. */
  #field(doc: SinkDocument, side: 'key' | 'value', path: string): string | undefined {
    let current: unknown = side === 'key' ? doc.key : doc.value
    for (const part of path.split('.'))
      current = isDocument(current) ? (current as BsonDocument)[part] : undefined
    if (typeof current === 'string' && current !== '') return current
    if (this.settings.mapperErrorIfInvalid) {
      throw new DataError(
        `Invalid ${side} document: the field '${path}' named by namespace.mapper.${side}.* is missing or not a non-empty string`,
      )
    }
    return undefined
  }
}

function removeNullsFromModel(model: WriteModel): void {
  const strip = (doc: unknown): void => {
    if (!isDocument(doc)) return
    for (const k of Object.keys(doc)) {
      if (doc[k] === null) delete doc[k]
      else strip(doc[k])
    }
  }
  if ('replaceOne' in model) strip(model.replaceOne.replacement)
  else if ('updateOne' in model) strip((model.updateOne.update as BsonDocument).$set)
  else if ('insertOne' in model) strip(model.insertOne.document)
}
