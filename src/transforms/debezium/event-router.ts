/**
 * Debezium's outbox `io.debezium.transforms.outbox.EventRouter`: each insert into an outbox table
 * (columns `id`, `aggregatetype`, `aggregateid`, `type`, `payload` by default) becomes one event on
 * the topic `route.topic.replacement` built from `route.by.field` (`outbox.event.<aggregatetype>`),
 * keyed by `table.field.event.key`, with the payload as value and the event id in header `id`.
 * Deletes and tombstones are dropped; updates follow `table.op.invalid.behavior`; records that are
 * not change events pass through. Only the default (relational) configuration provider is built in:
 * Debezium's MongoDB- and Oracle-specific providers are not.
 */

import { ConfigDef, ValidString, validator } from '../../api/config-def.ts'
import type { Props } from '../../api/connector.ts'
import { type Schema, Schemas } from '../../api/data/schema.ts'
import { SchemaBuilder } from '../../api/data/schema-builder.ts'
import { Struct } from '../../api/data/struct.ts'
import { ConfigError, DataError } from '../../api/errors.ts'
import { compileJavaRegex, type JavaPattern, replaceIfMatches, replacementFor } from '../../api/java-regex.ts'
import type { ConnectRecord } from '../../api/records.ts'
import type { Transformation } from '../../api/transformation.ts'
import { validRegex } from '../config-validators.ts'
import { guard, requireStruct } from '../transform-support.ts'
import { isEnvelope } from './extract-new-record-state.ts'
import { jsonToConnect } from './json-schema-data.ts'

type Placement = 'header' | 'envelope' | 'partition'

interface AdditionalField {
  placement: Placement
  field: string
  alias: string
}

function parsePlacements(list: readonly string[]): AdditionalField[] {
  return list.map((entry) => {
    const parts = entry.split(':')
    const placement = parts[1]?.trim().toLowerCase()
    if (
      (parts.length !== 2 && parts.length !== 3) ||
      !['header', 'envelope', 'partition'].includes(placement)
    ) {
      throw new ConfigError(
        'table.fields.additional.placement',
        `A comma-separated list of valid String pairs or trios is expected but got: ${list.join(',')}`,
      )
    }
    const field = parts[0].trim()
    return { placement: placement as Placement, field, alias: parts.length === 3 ? parts[2].trim() : field }
  })
}

export const EVENT_ROUTER_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'table.field.event.id',
    type: 'STRING',
    defaultValue: 'id',
    importance: 'LOW',
    group: 'Table',
    documentation: 'The column which contains the event ID within the outbox table',
  })
  .define({
    name: 'table.field.event.key',
    type: 'STRING',
    defaultValue: 'aggregateid',
    importance: 'LOW',
    group: 'Table',
    documentation: 'The column which contains the event key within the outbox table',
  })
  .define({
    name: 'table.field.event.type',
    type: 'STRING',
    defaultValue: 'type',
    importance: 'LOW',
    group: 'Table',
    documentation: 'The column which contains the event type within the outbox table',
  })
  .define({
    name: 'table.field.event.payload',
    type: 'STRING',
    defaultValue: 'payload',
    importance: 'LOW',
    group: 'Table',
    documentation: 'The column which contains the event payload within the outbox table',
  })
  .define({
    name: 'table.field.event.timestamp',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    group: 'Table',
    documentation:
      "Optionally you can override the Kafka message timestamp with a value from a chosen column, otherwise it'll be the Debezium event processed timestamp.",
  })
  .define({
    name: 'table.fields.additional.placement',
    type: 'LIST',
    defaultValue: null,
    validator: validator('list of field:placement[:alias]', (value) => {
      parsePlacements((value as string[] | null) ?? [])
      return undefined
    }),
    importance: 'HIGH',
    group: 'Table',
    documentation:
      'Extra fields can be added as part of the event envelope or a message header, format is a list of colon-delimited pairs or trios when you desire to have aliases, e.g. <code>id:header,field_name:envelope:alias,field_name:partition</code> ',
  })
  .define({
    name: 'table.field.additional.missing',
    type: 'STRING',
    defaultValue: 'error',
    validator: ValidString.inIgnoringCase('error', 'ignore'),
    importance: 'MEDIUM',
    group: 'Table',
    documentation:
      "When transforming the 'table.fields.additional.placement' fields, defines the behavior when one of the configured fields is missing in the change data. 'error' (default) will throw an exception; 'ignore' will silently skip the missing field.",
  })
  .define({
    name: 'table.field.event.schema.version',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    group: 'Table',
    documentation: 'The column which contains the event schema version within the outbox table',
  })
  .define({
    name: 'table.op.invalid.behavior',
    type: 'STRING',
    defaultValue: 'warn',
    validator: ValidString.inIgnoringCase('warn', 'error', 'fatal'),
    importance: 'MEDIUM',
    group: 'Table',
    documentation:
      "While Debezium is capturing changes from the outbox table, it is expecting only to process 'create' or 'delete' row events; in case something else is processed this transform can log it as warning, error or stop the process.",
  })
  .define({
    name: 'table.expand.json.payload',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    group: 'Table',
    documentation:
      'Whether or not to try unescaping a JSON string and make it real JSON. It will infer schema information from payload and update the record schema accordingly. If content is not JSON, it just produces a warning and emits the record unchanged',
  })
  .define({
    name: 'table.json.payload.null.behavior',
    type: 'STRING',
    defaultValue: 'ignore',
    validator: ValidString.inIgnoringCase('ignore', 'optional_bytes'),
    importance: 'MEDIUM',
    group: 'Table',
    documentation:
      'Behavior when json payload including null value, the default will ignore null, optional_bytes will keep the null value, and treat null as optional bytes of connect.',
  })
  .define({
    name: 'table.json.payload.empty.array.behavior',
    type: 'STRING',
    defaultValue: 'ignore',
    validator: ValidString.inIgnoringCase('ignore', 'optional_string'),
    importance: 'MEDIUM',
    group: 'Table',
    documentation:
      'Behavior when json payload including an empty array value, the default ignore will drop the empty array field, optional_string will keep the field as an optional array with an optional string element type.',
  })
  .define({
    name: 'route.by.field',
    type: 'STRING',
    defaultValue: 'aggregatetype',
    importance: 'HIGH',
    group: 'Router',
    documentation:
      'The column which determines how the events will be routed, the value will become part of the topic name',
  })
  .define({
    name: 'route.topic.regex',
    type: 'STRING',
    defaultValue: '(?<routedByValue>.*)',
    validator: validRegex,
    importance: 'LOW',
    group: 'Router',
    documentation:
      "The default regex to use within the RegexRouter, the default capture will allow to replace the routed field into a new topic name defined in 'route.topic.replacement'",
  })
  .define({
    name: 'route.topic.replacement',
    type: 'STRING',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka/Debezium placeholder syntax, not a template
    defaultValue: 'outbox.event.${routedByValue}',
    importance: 'HIGH',
    group: 'Router',
    documentation:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka/Debezium placeholder syntax, not a template
      "The name of the topic in which the events will be routed, a replacement '${routedByValue}' is available which is the value of The column configured via 'route.by.field'",
  })
  .define({
    name: 'route.tombstone.on.empty.payload',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'HIGH',
    group: 'Router',
    documentation: 'Whether or not an empty payload should cause a tombstone event.',
  })

/** How an update to the outbox table is reported; `warn`/`error` drop it, `fatal` fails. */
export type InvalidOperationLog = (level: 'warn' | 'error', message: string) => void

export class EventRouter implements Transformation {
  #fieldEventId = 'id'
  #fieldEventKey = 'aggregateid'
  #fieldPayload = 'payload'
  #fieldTimestamp: string | null = null
  #fieldSchemaVersion: string | null = null
  #routeByField = 'aggregatetype'
  #regex: JavaPattern = compileJavaRegex('(?<routedByValue>.*)')
  #replacement = ''
  #tombstoneOnEmpty = false
  #invalidOp = 'warn'
  #expandJson = false
  #nullBehavior = 'ignore'
  #emptyArrayBehavior = 'ignore'
  #additional: AdditionalField[] = []
  #ignoreMissing = false
  #onlyHeaders = true
  readonly #payloadSchemas = new Map<Schema, Schema>()
  readonly #versionedSchemas = new Map<number, Schema>()
  /** Where skipped updates are reported; replaceable for tests and embedding. */
  log: InvalidOperationLog = (level, message) => console[level](message)

  configure(props: Props): void {
    const c = EVENT_ROUTER_CONFIG_DEF.parse(props)
    this.#fieldEventId = c['table.field.event.id'] as string
    this.#fieldEventKey = c['table.field.event.key'] as string
    this.#fieldPayload = c['table.field.event.payload'] as string
    this.#fieldTimestamp = c['table.field.event.timestamp'] as string | null
    this.#fieldSchemaVersion = c['table.field.event.schema.version'] as string | null
    this.#routeByField = c['route.by.field'] as string
    this.#regex = compileJavaRegex(c['route.topic.regex'] as string)
    this.#replacement = replacementFor('route.topic.replacement', c['route.topic.replacement'] as string)
    this.#tombstoneOnEmpty = c['route.tombstone.on.empty.payload'] as boolean
    this.#invalidOp = (c['table.op.invalid.behavior'] as string).toLowerCase()
    this.#expandJson = c['table.expand.json.payload'] as boolean
    this.#nullBehavior = (c['table.json.payload.null.behavior'] as string).toLowerCase()
    this.#emptyArrayBehavior = (c['table.json.payload.empty.array.behavior'] as string).toLowerCase()
    this.#additional = parsePlacements((c['table.fields.additional.placement'] as string[] | null) ?? [])
    this.#ignoreMissing = (c['table.field.additional.missing'] as string).toLowerCase() === 'ignore'
    this.#onlyHeaders = !this.#additional.some((f) => f.placement === 'envelope')
    this.#payloadSchemas.clear()
    this.#versionedSchemas.clear()
  }

  config(): ConfigDef {
    return EVENT_ROUTER_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R | null {
    if (record.value === null || record.value === undefined) return null
    if (!isEnvelope(record)) return record
    return guard('EventRouter', record, () => this.#apply(record))
  }

  #apply<R extends ConnectRecord>(record: R): R | null {
    const envelope = requireStruct(record.value, 'Detect Debezium Operation')
    const op = envelope.get('op')
    if (op === 'd') return null
    if (op === 'u') {
      const message = `Unexpected update message received ${String(record.key)} and ignored`
      if (this.#invalidOp === 'fatal') {
        throw new DataError(`Unexpected update message received ${String(record.key)}, fail.`)
      }
      this.log(this.#invalidOp === 'error' ? 'error' : 'warn', message)
      return null
    }
    const event = requireStruct(envelope.get('after'), 'Read Outbox Event')
    const eventSchema = event.schema
    const payloadField = eventSchema.field(this.#fieldPayload)
    if (!payloadField) throw new DataError(`Unable to find payload field ${this.#fieldPayload} in event`)
    const idField = eventSchema.field(this.#fieldEventId)
    if (!idField) throw new DataError(`Unable to find event-id field ${this.#fieldEventId} in event`)
    const timestamp = this.#timestamp(envelope, event)
    let payloadSchema = payloadField.schema
    let payload = event.get(this.#fieldPayload)
    const headers = record.headers.duplicate()
    headers.add('id', event.get(this.#fieldEventId), idField.schema)

    if (this.#expandJson && typeof payload === 'string') {
      const expanded = jsonToConnect(
        this.#fieldPayload,
        payload,
        this.#nullBehavior,
        this.#emptyArrayBehavior,
      )
      if (expanded) {
        payloadSchema = expanded.schema
        payload = expanded.value
      }
    }

    const routedBy = this.#routeValue(event)
    let structValue: Struct | null = null
    if (!this.#onlyHeaders) {
      let valueSchema: Schema
      if (this.#fieldSchemaVersion === null) {
        let cached = this.#payloadSchemas.get(payloadSchema)
        if (!cached) {
          cached = this.#valueSchema(payloadSchema, eventSchema, routedBy).build()
          this.#payloadSchemas.set(payloadSchema, cached)
        }
        valueSchema = cached
      } else {
        const version = event.get(this.#fieldSchemaVersion) as number
        let cached = this.#versionedSchemas.get(version)
        if (!cached) {
          cached = this.#valueSchema(payloadSchema, eventSchema, routedBy).version(version).build()
          this.#versionedSchemas.set(version, cached)
        }
        valueSchema = cached
      }
      structValue = new Struct(valueSchema).put('payload', payload)
    }

    let partition: number | null = null
    for (const extra of this.#additional) {
      const field = eventSchema.field(extra.field)
      if (!field) {
        if (this.#ignoreMissing) continue
        throw new DataError(`Unable to find field ${extra.field} in event`)
      }
      if (extra.placement === 'envelope') structValue!.put(extra.alias, event.get(extra.field))
      else if (extra.placement === 'header') headers.add(extra.alias, event.get(extra.field), field.schema)
      else partition = event.get(extra.field) as number | null
    }

    const isDelete = payload === null || payload === undefined || String(payload).trim() === ''
    let valueSchema: Schema | null
    let value: unknown
    if (isDelete && this.#tombstoneOnEmpty) {
      valueSchema = null
      value = null
    } else if (this.#onlyHeaders) {
      valueSchema = payloadSchema
      value = payload
    } else {
      valueSchema = structValue!.schema
      value = structValue
    }
    const keyField = eventSchema.field(this.#fieldEventKey)
    const routed = record.newRecord({
      topic: routedBy,
      kafkaPartition: partition,
      keySchema: keyField ? keyField.schema : Schemas.STRING,
      key: keyField ? event.get(this.#fieldEventKey) : null,
      valueSchema,
      value,
      timestamp,
      headers,
    })
    const topic = replaceIfMatches(this.#regex, this.#replacement, routed.topic)
    return topic === null ? routed : routed.newRecord({ topic })
  }

  #routeValue(event: Struct): string {
    if (!event.schema.field(this.#routeByField)) {
      throw new DataError(`Unable to find route.by.field ${this.#routeByField} in event`)
    }
    const value = event.get(this.#routeByField)
    if (typeof value !== 'string') {
      throw new DataError(
        `route.by.field ${this.#routeByField} must be a non-null string, found ${String(value)}`,
      )
    }
    return value
  }

  #timestamp(envelope: Struct, event: Struct): number | null {
    const fallback = (): number | null => {
      const ts = envelope.schema.field('ts_ms') ? envelope.get('ts_ms') : null
      return ts === null ? null : Number(ts)
    }
    if (this.#fieldTimestamp === null) return fallback()
    const field = event.schema.field(this.#fieldTimestamp)
    if (!field) throw new DataError(`Unable to find timestamp field ${this.#fieldTimestamp} in event`)
    const raw = event.get(this.#fieldTimestamp)
    if (raw === null) return fallback()
    const name = field.schema.name
    if (!name) {
      throw new DataError(
        `Unsupported field type ${field.schema.type} (without logical schema name) for event timestamp`,
      )
    }
    const n = raw instanceof Date ? raw.getTime() : Number(raw)
    switch (name) {
      case 'org.apache.kafka.connect.data.Timestamp':
      case 'io.debezium.time.Timestamp':
        return n
      case 'io.debezium.time.MicroTimestamp':
        return Math.trunc(n / 1_000)
      case 'io.debezium.time.NanoTimestamp':
        return Math.trunc(n / 1_000_000)
      default:
        throw new DataError(`Unsupported field type ${name} for event timestamp`)
    }
  }

  /** The value struct's schema: named after the row schema with the routed value inserted (`db.outbox.Value` → `db.outbox.<routed>.Value`). */
  #valueSchema(payloadSchema: Schema, eventSchema: Schema, routedBy: string): SchemaBuilder {
    const original = eventSchema.name
    let name = routedBy
    if (original) {
      const dot = original.lastIndexOf('.')
      name =
        dot >= 0
          ? `${original.slice(0, dot + 1)}${routedBy}.${original.slice(dot + 1)}`
          : `${routedBy}.${original}`
    }
    const builder = SchemaBuilder.struct().name(name).field('payload', payloadSchema)
    for (const extra of this.#additional) {
      if (extra.placement !== 'envelope') continue
      const field = eventSchema.field(extra.field)
      if (!field) {
        if (this.#ignoreMissing) continue
        throw new DataError(`Unable to find field ${extra.field} in event`)
      }
      builder.field(extra.alias, field.schema)
    }
    return builder
  }
}
