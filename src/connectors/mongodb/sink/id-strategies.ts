/**
 * `document.id.strategy` (`com.mongodb.kafka.connect.sink.processor.id.strategy`): how a record's
 * `_id` is made. Errors name the strategy and what the record lacks, and are DataErrors, so
 * `errors.tolerance=all` sends the record to the dead-letter topic.
 */

import { DataError } from '../../../api/errors.ts'
import { Binary, ObjectId, UUID } from '../bson.ts'
import { type BsonDocument, cloneDocument, isDocument, toJson } from '../bson-document.ts'
import type { IdStrategyName } from './config.ts'
import { makeProjection } from './field-projection.ts'
import type { SinkDocument } from './sink-document.ts'
import type { TopicSettings } from './topic-settings.ts'

export type IdStrategy = (doc: SinkDocument) => unknown

function keyDocument(doc: SinkDocument, strategy: IdStrategyName): BsonDocument | undefined {
  try {
    return doc.key
  } catch (error) {
    throw new DataError(
      `${strategy} needs the record key as a document, but ${(error as Error).message}; ` +
        'use a key converter that yields a Struct or a map (e.g. JsonConverter), or another document.id.strategy',
      { cause: error },
    )
  }
}

function provided(doc: BsonDocument | undefined, where: 'key' | 'value', strategy: string): unknown {
  const id = doc?._id
  if (id === undefined || doc === undefined) {
    throw new DataError(
      `${strategy}: the record ${where} has no _id field (${doc === undefined ? `the ${where} is null` : toJson(doc).slice(0, 200)}); ` +
        `put an _id in the ${where}, or choose another document.id.strategy`,
    )
  }
  if (id === null)
    throw new DataError(`${strategy}: the record ${where} has an _id of null; it must hold a value`)
  return id
}

function toUuid(id: unknown, strategy: string): Binary {
  if (typeof id === 'string') {
    try {
      return new UUID(id).toBinary()
    } catch (error) {
      throw new DataError(`${strategy}: _id '${id}' is not a UUID string`, { cause: error })
    }
  }
  if (
    id instanceof Binary &&
    (id.sub_type === Binary.SUBTYPE_UUID || id.sub_type === Binary.SUBTYPE_UUID_OLD) &&
    id.length() === 16
  )
    return new Binary(id.buffer, Binary.SUBTYPE_UUID)
  throw new DataError(`${strategy}: _id ${toJson(id)} is neither a UUID string nor UUID binary`)
}

export function makeIdStrategy(settings: TopicSettings): IdStrategy {
  const name = settings.idStrategy
  switch (name) {
    case 'BsonOidStrategy':
      return () => new ObjectId()
    case 'UuidStrategy':
      return settings.uuidBinary ? () => new UUID().toBinary() : () => new UUID().toHexString(true)
    case 'KafkaMetaDataStrategy':
      return (doc) => `${doc.record.topic}#${doc.record.kafkaPartition}#${doc.record.kafkaOffset}`
    case 'FullKeyStrategy':
      return (doc) => keyDocument(doc, name) ?? {}
    case 'PartialKeyStrategy': {
      const project = makeProjection(settings.partialKeyProjection)
      return (doc) => {
        const key = keyDocument(doc, name)
        if (key === undefined) return {}
        const copy = cloneDocument(key)
        project(copy)
        return copy
      }
    }
    case 'PartialValueStrategy': {
      const project = makeProjection(settings.partialValueProjection)
      return (doc) => {
        const value = doc.value
        if (value === undefined) return {}
        const copy = cloneDocument(value)
        project(copy)
        return copy
      }
    }
    case 'ProvidedInKeyStrategy':
      return (doc) => provided(keyDocument(doc, name), 'key', name)
    case 'ProvidedInValueStrategy':
      return (doc) => provided(doc.value, 'value', name)
    case 'UuidProvidedInKeyStrategy':
      return (doc) => toUuid(provided(keyDocument(doc, name), 'key', name), name)
    case 'UuidProvidedInValueStrategy':
      return (doc) => toUuid(provided(doc.value, 'value', name), name)
  }
}

/** True when an _id built by the strategy is a document of business-key fields. */
export function isPartialStrategy(name: IdStrategyName): boolean {
  return name === 'PartialKeyStrategy' || name === 'PartialValueStrategy'
}

export { isDocument }
