/**
 * A schema's GUID, as Confluent's registry derives it (`Schema.getGuid`, `MD5.ofSchema`): the MD5
 * digest of the schema text (UTF-8) followed by each reference's name and subject (UTF-8) and
 * version (int32, big-endian), written as a UUID. Metadata and rule sets, which Sluice's registry
 * does not store, would follow. The same schema has the same GUID in every registry; serializers
 * write it after magic byte 1 (wire format V1) or in the `__key_schema_id` / `__value_schema_id`
 * headers.
 */
import { createHash } from 'node:crypto'
/** A reference to a schema of another subject (`SchemaReference`). */
export interface GuidReference {
  readonly name: string
  readonly subject: string
  readonly version: number
}

export function schemaGuid(schema: string, references: readonly GuidReference[] = []): string {
  const md5 = createHash('md5').update(schema, 'utf8')
  for (const ref of references) {
    const version = Buffer.alloc(4)
    version.writeInt32BE(ref.version)
    md5.update(ref.name, 'utf8').update(ref.subject, 'utf8').update(version)
  }
  const hex = md5.digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
