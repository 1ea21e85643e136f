/**
 * `writemodel.strategy` and `delete.writemodel.strategy`
 * (`com.mongodb.kafka.connect.sink.writemodel.strategy`): the bulk-write operation made from a
 * record's documents after the post processors ran. Models and errors follow the official classes.
 */
import type { AnyBulkWriteOperation } from 'mongodb'
import { DataError } from '../../../api/errors.ts'
import { type BsonDocument, byId, isDocument } from '../bson-document.ts'
import type { WriteModelStrategyName } from './config.ts'
import { type IdStrategy, isPartialStrategy } from './id-strategies.ts'
import type { SinkDocument } from './sink-document.ts'
import type { TopicSettings } from './topic-settings.ts'

export type WriteModel = AnyBulkWriteOperation<BsonDocument>

const BUSINESS_KEY_MISSING =
  'Could not build the WriteModel,the value document does not contain an _id field of type BsonDocument which holds the business key fields.\n\n' +
  ' If you are including an existing `_id` value in the business key then ensure `document.id.strategy.overwrite.existing=true`.'

/** `WriteModelHelper.flattenKeys`: `{a: {b: 1}}` → `{"a.b": 1}`, so a partial id matches fields, not a sub-document. */
export function flattenKeys(doc: BsonDocument, prefix = '', into: BsonDocument = {}): BsonDocument {
  for (const [k, v] of Object.entries(doc)) {
    if (isDocument(v)) flattenKeys(v, `${prefix}${k}.`, into)
    else into[`${prefix}${k}`] = v
  }
  return into
}

function valueDocument(doc: SinkDocument): BsonDocument {
  const value = doc.value
  if (value === undefined)
    throw new DataError('Could not build the WriteModel,the value document was missing unexpectedly')
  return value
}

function businessKey(value: BsonDocument, partial: boolean): BsonDocument {
  const id = value._id
  if (!isDocument(id)) throw new DataError(BUSINESS_KEY_MISSING)
  delete value._id
  return partial ? flattenKeys(id) : id
}

function requireId(value: BsonDocument): unknown {
  const id = value._id
  if (id === undefined)
    throw new DataError('Could not build the WriteModel,the `_id` field was missing unexpectedly')
  return id
}

export type ModelBuilder = (doc: SinkDocument) => WriteModel

/** The strategy for records with a value. */
export function makeValueModel(name: WriteModelStrategyName, settings: TopicSettings): ModelBuilder {
  const partial = isPartialStrategy(settings.idStrategy)
  switch (name) {
    case 'DefaultWriteModelStrategy':
    case 'ReplaceOneDefaultStrategy':
      return (doc) => {
        const value = valueDocument(doc)
        return { replaceOne: { filter: byId(requireId(value)), replacement: value, upsert: true } }
      }
    case 'ReplaceOneBusinessKeyStrategy':
      return (doc) => {
        const value = valueDocument(doc)
        const filter = businessKey(value, partial)
        return { replaceOne: { filter, replacement: value, upsert: true } }
      }
    case 'UpdateOneDefaultStrategy':
      return (doc) => {
        const value = valueDocument(doc)
        const id = requireId(value)
        delete value._id
        return { updateOne: { filter: byId(id), update: { $set: value }, upsert: true } }
      }
    case 'UpdateOneTimestampsStrategy':
      return (doc) => {
        const value = valueDocument(doc)
        const id = requireId(value)
        const now = new Date()
        value._modifiedTS = now
        return {
          updateOne: {
            filter: byId(id),
            update: { $set: value, $setOnInsert: { _insertedTS: now } },
            upsert: true,
          },
        }
      }
    case 'UpdateOneBusinessKeyTimestampStrategy':
      return (doc) => {
        const value = valueDocument(doc)
        const filter = businessKey(value, partial)
        const now = new Date()
        value._modifiedTS = now
        return {
          updateOne: { filter, update: { $set: value, $setOnInsert: { _insertedTS: now } }, upsert: true },
        }
      }
    case 'InsertOneDefaultStrategy':
      return (doc) => ({ insertOne: { document: valueDocument(doc) } })
    case 'DeleteOneBusinessKeyStrategy':
      return (doc) => {
        const value = valueDocument(doc)
        const id = value._id
        if (!isDocument(id))
          throw new DataError(
            'Could not build the WriteModel, the value document does not contain an _id field of type BsonDocument which holds the business key fields.',
          )
        return { deleteOne: { filter: partial ? flattenKeys(id) : id } }
      }
    case 'DeleteOneDefaultStrategy':
      return (doc) => deleteByKey(doc)
    case 'DeleteOneTombstoneBusinessKeyStrategy':
      return (doc) => deleteByKeyDocument(doc)
  }
}

/** The model for tombstones with `delete.on.null.values=true`. */
export function makeDeleteModel(settings: TopicSettings, idStrategy: IdStrategy): ModelBuilder {
  if (settings.deleteWriteModel === 'DeleteOneTombstoneBusinessKeyStrategy') return deleteByKeyDocument
  // DeleteOneDefaultStrategy(idStrategy): the filter is {_id: <id built from the key>}.
  return (doc) => {
    if (doc.key === undefined)
      throw new DataError('Could not build the WriteModel,the key document was missing unexpectedly')
    return { deleteOne: { filter: byId(idStrategy(doc)) } }
  }
}

/** `DeleteOneDefaultStrategy()` as a value strategy: the key document if it has an _id, else `{_id: key}`. */
function deleteByKey(doc: SinkDocument): WriteModel {
  const key = doc.key
  if (key === undefined)
    throw new DataError('Could not build the WriteModel,the key document was missing unexpectedly')
  return { deleteOne: { filter: '_id' in key ? key : { _id: key } } }
}

function deleteByKeyDocument(doc: SinkDocument): WriteModel {
  const key = doc.key
  if (key === undefined)
    throw new DataError('Could not build the WriteModel,the key document was missing unexpectedly')
  return { deleteOne: { filter: key } }
}
