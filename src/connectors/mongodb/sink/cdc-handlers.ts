/**
 * `change.data.capture.handler` (`com.mongodb.kafka.connect.sink.cdc`): change events applied as
 * write models, bypassing the post processors and the write-model strategy.
 *
 * - Debezium RDBMS (`RdbmsHandler`, `PostgresHandler`, `MysqlHandler`): `c`/`r`/`u` → replaceOne
 *   (upsert) with `_id` = a sub-document of the key's fields and the `after` image minus the key
 *   fields; `d` → deleteOne; no key → a new ObjectId on create, the `before` image as filter otherwise;
 *   a tombstone (null value) is skipped; a DDL event (`ddl` without `op`) is a no-op.
 * - Debezium MongoDB (`debezium.mongodb.MongoDbHandler`, oplog format): `after`/`patch` are Extended
 *   JSON strings, the key's `id` is the document id as JSON.
 * - Debezium MongoDB change-stream format (`debezium.mongodb.ChangeStreamHandler`): like the above,
 *   with updates replacing by the `after` string.
 * - MongoDB change streams (`mongodb.ChangeStreamHandler`, events of the MongoDB source): insert and
 *   replace → replaceOne by `documentKey` (upsert); update → replace by `fullDocument` when present,
 *   else updateOne from `updateDescription` ($set/$unset); delete → deleteOne by `documentKey`.
 */
import { BSON } from 'mongodb'
import { DataError } from '../../../api/errors.ts'
import { type BsonDocument, byId, isDocument, toJson } from '../bson-document.ts'
import type { CdcHandlerKind } from './config.ts'
import type { SinkDocument } from './sink-document.ts'
import type { WriteModel } from './write-models.ts'

/** A model, or undefined for an event that writes nothing (tombstone, DDL, unsupported operation). */
export type CdcHandler = (doc: SinkDocument) => WriteModel | undefined

export function makeCdcHandler(kind: CdcHandlerKind): CdcHandler {
  switch (kind) {
    case 'rdbms':
      return rdbms
    case 'debezium-mongodb':
      return (doc) => debeziumMongo(doc, 'oplog')
    case 'debezium-change-stream':
      return (doc) => debeziumMongo(doc, 'change-stream')
    case 'change-stream':
      return changeStream
  }
}

function operation(value: BsonDocument): string | undefined {
  if (!('op' in value) && 'ddl' in value) return undefined
  const op = value.op
  if (typeof op !== 'string')
    throw new DataError('Value document is missing or CDC operation is not a string')
  if (!['c', 'r', 'u', 'd'].includes(op))
    throw new DataError(`No CDC operation found in mapping for op=${op}`)
  return op
}

function rdbms(doc: SinkDocument): WriteModel | undefined {
  const value = doc.value
  if (value === undefined || Object.keys(value).length === 0) return undefined // tombstone, for compaction
  const key = doc.key ?? {}
  const op = operation(value)
  if (op === undefined) return undefined
  const filter = rdbmsFilter(key, value, op)
  if (op === 'd') return { deleteOne: { filter } }
  const after = value.after
  if (!isDocument(after) || Object.keys(after).length === 0) {
    throw new DataError(
      "Value document must contain non-empty 'after' field of type document for insert/update operation",
    )
  }
  const replacement: BsonDocument = {}
  if ('_id' in filter) replacement._id = filter._id
  for (const [k, v] of Object.entries(after)) if (!(k in key)) replacement[k] = v
  return { replaceOne: { filter, replacement, upsert: true } }
}

function rdbmsFilter(key: BsonDocument, value: BsonDocument, op: string): BsonDocument {
  if (Object.keys(key).length === 0) {
    if (op === 'c' || op === 'r') return { _id: new BSON.ObjectId() }
    const before = value.before
    if (!isDocument(before) || Object.keys(before).length === 0) {
      throw new DataError(
        "Value doc 'before' field is empty or has invalid type for update/delete operation of a table without a key: " +
          'set REPLICA IDENTITY FULL on the source table, or give the table a primary key',
      )
    }
    return before
  }
  return { _id: { ...key } }
}

function parseJsonField(value: BsonDocument, field: string, what: string): BsonDocument {
  const raw = value[field]
  if (typeof raw !== 'string') throw new DataError(`${what} document missing \`${field}\` field.`)
  try {
    const parsed = BSON.EJSON.parse(raw, { relaxed: false })
    if (!isDocument(parsed)) throw new Error('not an object')
    return parsed
  } catch (error) {
    throw new DataError(
      `${what} document \`${field}\` is not an Extended JSON object: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

function idFilterFromKey(doc: SinkDocument, what: string): BsonDocument {
  const key = doc.key
  if (key === undefined || typeof key.id !== 'string')
    throw new DataError(`${what} document missing \`id\` field.`)
  try {
    return byId(BSON.EJSON.parse(key.id, { relaxed: false }))
  } catch (error) {
    throw new DataError(`the key's \`id\` is not Extended JSON: ${key.id}`, { cause: error })
  }
}

function debeziumMongo(doc: SinkDocument, format: 'oplog' | 'change-stream'): WriteModel | undefined {
  const key = doc.key
  if (key === undefined || Object.keys(key).length === 0)
    throw new DataError('Key document must not be missing for CDC mode')
  const value = doc.value
  if ('id' in key && (value === undefined || Object.keys(value).length === 0)) return undefined
  if (value === undefined) throw new DataError('Value document must not be missing')
  const op = operation(value)
  if (op === undefined) return undefined
  switch (op) {
    case 'c':
    case 'r': {
      const inserted = parseJsonField(value, 'after', 'Insert')
      return { replaceOne: { filter: byId(inserted._id), replacement: inserted, upsert: true } }
    }
    case 'u': {
      if (format === 'change-stream') {
        return {
          replaceOne: {
            filter: idFilterFromKey(doc, 'Update'),
            replacement: parseJsonField(value, 'after', 'Update'),
            upsert: true,
          },
        }
      }
      const patch = parseJsonField(value, 'patch', 'Update')
      delete patch.$v
      if ('_id' in patch) return { replaceOne: { filter: byId(patch._id), replacement: patch, upsert: true } }
      return { updateOne: { filter: idFilterFromKey(doc, 'Update'), update: patch } }
    }
    default:
      return { deleteOne: { filter: idFilterFromKey(doc, 'Delete') } }
  }
}

function documentField(event: BsonDocument, field: string): BsonDocument {
  const v = event[field]
  if (v === undefined) throw new DataError(`Missing ${field} field: ${toJson(event).slice(0, 300)}`)
  if (!isDocument(v))
    throw new DataError(`Unexpected ${field} field type, expecting a document but found \`${toJson(v)}\``)
  return v
}

const UPDATE_DESCRIPTION_FIELDS = new Set([
  'updatedFields',
  'removedFields',
  'truncatedArrays',
  'disambiguatedPaths',
])

function changeStream(doc: SinkDocument): WriteModel | undefined {
  const event = doc.value ?? {}
  const type = event.operationType
  if (type === undefined)
    throw new DataError(`Error: \`operationType\` field is doc is missing. ${toJson(event).slice(0, 300)}`)
  if (typeof type !== 'string')
    throw new DataError('Error: Unexpected CDC operation type, should be a string')
  switch (type) {
    case 'insert':
    case 'replace':
      return {
        replaceOne: {
          filter: documentField(event, 'documentKey'),
          replacement: documentField(event, 'fullDocument'),
          upsert: true,
        },
      }
    case 'update': {
      const filter = documentField(event, 'documentKey')
      if ('fullDocument' in event && event.fullDocument !== null) {
        return { replaceOne: { filter, replacement: documentField(event, 'fullDocument') } }
      }
      const description = documentField(event, 'updateDescription')
      const unexpected = Object.keys(description).filter((k) => !UPDATE_DESCRIPTION_FIELDS.has(k))
      if (unexpected.length > 0)
        throw new DataError(
          `Warning unexpected field(s) in updateDescription [${unexpected.join(', ')}]. Cannot process due to risk of data loss.`,
        )
      const updatedFields = documentField(description, 'updatedFields')
      const removed = description.removedFields
      if (!Array.isArray(removed))
        throw new DataError('Missing updateDescription.removedFields field, or it is not an array')
      const update: BsonDocument = { $set: updatedFields }
      if (removed.length > 0) {
        const unset: BsonDocument = {}
        for (const f of removed) {
          if (typeof f !== 'string')
            throw new DataError(
              `Unexpected value type in removedFields, expected a string but found \`${toJson(f)}\``,
            )
          unset[f] = ''
        }
        update.$unset = unset
      }
      return { updateOne: { filter, update } }
    }
    case 'delete':
      return { deleteOne: { filter: documentField(event, 'documentKey') } }
    default:
      return undefined
  }
}
