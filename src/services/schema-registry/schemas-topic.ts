/**
 * The records of the registry's topic (`_schemas` by default: one partition, compacted), in the
 * layout of Confluent's `KafkaStore` (`SchemaRegistryKey` subclasses and their values, JSON):
 *
 *   SCHEMA  key {"keytype":"SCHEMA","subject":s,"version":v,"magic":1}
 *           value {"subject","version","id","schemaType"?,"references"?,"schema","deleted"}
 *           (schemaType omitted for AVRO, references when empty); null = permanently deleted
 *   CONFIG  key {"keytype":"CONFIG","subject":s|null,"magic":0}  value {"compatibilityLevel":L} | null
 *   MODE    key {"keytype":"MODE","subject":s|null,"magic":0}    value {"mode":M} | null
 *   NOOP    key {"keytype":"NOOP","magic":0}                     value null (Confluent's leader
 *           writes one on election to find the end of the log; read and skipped here)
 *
 * A soft delete rewrites each SCHEMA record with `deleted: true` (what Confluent's store holds after
 * a DELETE_SUBJECT, and readable by it); DELETE_SUBJECT and CLEAR_SUBJECT records written by a
 * Confluent registry are applied as soft deletes too. Unknown key types are skipped with a warning.
 */
import type { SchemaReference, SchemaType } from './parsed-schema.ts'

export interface SchemaRecordValue {
  subject: string
  version: number
  id: number
  schemaType: SchemaType
  references: SchemaReference[]
  schema: string
  deleted: boolean
}

export type SchemasTopicEntry =
  | { keytype: 'SCHEMA'; subject: string; version: number; value: SchemaRecordValue | null }
  | { keytype: 'CONFIG'; subject: string | null; value: { compatibilityLevel: string } | null }
  | { keytype: 'MODE'; subject: string | null; value: { mode: string } | null }
  | { keytype: 'DELETE_SUBJECT'; subject: string; version: number }
  | { keytype: 'CLEAR_SUBJECT'; subject: string }
  | { keytype: 'NOOP' }

export function encodeSchemaKey(subject: string, version: number): string {
  return JSON.stringify({ keytype: 'SCHEMA', subject, version, magic: 1 })
}

export function encodeSchemaValue(value: SchemaRecordValue): string {
  return JSON.stringify({
    subject: value.subject,
    version: value.version,
    id: value.id,
    ...(value.schemaType === 'AVRO' ? {} : { schemaType: value.schemaType }),
    ...(value.references.length > 0 ? { references: value.references } : {}),
    schema: value.schema,
    deleted: value.deleted,
  })
}

export function encodeConfigKey(subject: string | null): string {
  return JSON.stringify({ keytype: 'CONFIG', subject, magic: 0 })
}

export function encodeModeKey(subject: string | null): string {
  return JSON.stringify({ keytype: 'MODE', subject, magic: 0 })
}

/** Decodes one record of the topic; undefined for a key type this registry does not use. */
export function decodeEntry(key: string, value: string | null): SchemasTopicEntry | undefined {
  const k = JSON.parse(key) as { keytype?: string; subject?: string | null; version?: number }
  const v = value === null ? null : (JSON.parse(value) as Record<string, unknown>)
  switch (k.keytype) {
    case 'SCHEMA':
      return {
        keytype: 'SCHEMA',
        subject: k.subject!,
        version: k.version!,
        value:
          v === null
            ? null
            : {
                subject: v.subject as string,
                version: v.version as number,
                id: v.id as number,
                schemaType: ((v.schemaType as string | undefined)?.toUpperCase() ?? 'AVRO') as SchemaType,
                references: (v.references as SchemaReference[] | undefined) ?? [],
                schema: v.schema as string,
                deleted: v.deleted === true,
              },
      }
    case 'CONFIG':
      return {
        keytype: 'CONFIG',
        subject: k.subject ?? null,
        value:
          v === null || typeof v.compatibilityLevel !== 'string'
            ? null
            : { compatibilityLevel: v.compatibilityLevel },
      }
    case 'MODE':
      return {
        keytype: 'MODE',
        subject: k.subject ?? null,
        value: v === null ? null : { mode: String(v.mode) },
      }
    case 'DELETE_SUBJECT':
      return {
        keytype: 'DELETE_SUBJECT',
        subject: k.subject!,
        version: (v?.version as number | undefined) ?? Number.MAX_SAFE_INTEGER,
      }
    case 'CLEAR_SUBJECT':
      return { keytype: 'CLEAR_SUBJECT', subject: k.subject! }
    case 'NOOP':
      return { keytype: 'NOOP' }
    default:
      return undefined
  }
}
