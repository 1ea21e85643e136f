/**
 * Compatibility levels of a subject (Confluent's `CompatibilityLevel`) and the check of a new
 * schema against the subject's live versions. BACKWARD: the new schema reads data written with
 * the latest; FORWARD: the latest reads data written with the new one; FULL: both; the
 * `_TRANSITIVE` levels check against every live version instead of the latest; NONE checks nothing.
 * Messages are Confluent's verbose shape: each incompatibility, then `{oldSchemaVersion: N}`,
 * `{oldSchema: '…'}` and `{compatibility: 'LEVEL'}`.
 */
import { avroIncompatibilities, type Incompatibility } from './avro-compatibility.ts'
import { jsonSchemaIncompatibilities } from './json-schema-compatibility.ts'
import type { ParsedSchema } from './parsed-schema.ts'

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number]

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value)
}

export interface PreviousSchema {
  readonly version: number
  readonly text: string
  readonly parsed: ParsedSchema
}

/** Incompatibilities of reading `writer` data with `reader`, per schema type. */
export function incompatibilities(reader: ParsedSchema, writer: ParsedSchema): Incompatibility[] {
  if (reader.schemaType !== writer.schemaType) {
    return [
      {
        errorType: 'TYPE_MISMATCH',
        description: `Incompatible because of different schema type: ${writer.schemaType} → ${reader.schemaType}`,
        path: '/',
        additionalInfo: `${writer.schemaType} → ${reader.schemaType}`,
      },
    ]
  }
  if (reader.schemaType === 'AVRO') return avroIncompatibilities(reader.avro!, writer.avro!)
  return jsonSchemaIncompatibilities(reader.json, writer.json)
}

/**
 * The messages explaining why `candidate` is not compatible with `previous` (oldest first) under
 * `level`; empty when it is compatible.
 */
export function compatibilityMessages(
  level: CompatibilityLevel,
  candidate: ParsedSchema,
  previous: readonly PreviousSchema[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return []
  const against = level.endsWith('_TRANSITIVE') ? [...previous].reverse() : [previous[previous.length - 1]!]
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL')
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL')
  for (const old of against) {
    const found = [
      ...(backward ? incompatibilities(candidate, old.parsed) : []),
      ...(forward ? incompatibilities(old.parsed, candidate) : []),
    ]
    if (found.length > 0) {
      return [
        ...found.map(
          (i) =>
            `{errorType:'${i.errorType}', description:'${i.description}', additionalInfo:'${i.additionalInfo}'}`,
        ),
        `{oldSchemaVersion: ${old.version}}`,
        `{oldSchema: '${old.text}'}`,
        `{compatibility: '${level}'}`,
      ]
    }
  }
  return []
}
