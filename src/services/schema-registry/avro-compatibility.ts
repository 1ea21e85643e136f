/**
 * Avro schema resolution as a compatibility check: can data written with `writer` be read with
 * `reader`? The rules are Avro's (specification, "Schema Resolution"; Java's
 * `org.apache.avro.SchemaCompatibility`, which Confluent's registry runs):
 *
 * - same primitive type; or a promotion int→long|float|double, long→float|double, float→double,
 *   string↔bytes;
 * - records: names match (unqualified, or the reader's aliases hold the writer's full name); every
 *   reader field is in the writer (by name or the reader field's aliases) with a compatible type, or
 *   has a default; writer fields the reader lacks are skipped;
 * - enums: names match; every writer symbol is a reader symbol, unless the reader has a default;
 * - fixed: names and sizes match; arrays: items; maps: values;
 * - a writer union: every branch readable; a reader union: the writer (or each writer branch) is
 *   readable by some branch.
 *
 * Messages follow the shape of Java's `Incompatibility` (`{errorType:'…', description:'…',
 * additionalInfo:'…'}`) with the JSON-pointer-like path of the reader schema.
 */
import type avro from 'avsc'

export interface Incompatibility {
  readonly errorType: string
  readonly description: string
  readonly path: string
  readonly additionalInfo: string
}

interface AvroRecordField {
  readonly name: string
  readonly type: avro.Type
  readonly aliases: readonly string[]
  defaultValue(): unknown
}

type AnyType = avro.Type & {
  readonly typeName: string
  readonly name?: string
  readonly aliases?: readonly string[]
  readonly fields?: readonly AvroRecordField[]
  readonly symbols?: readonly string[]
  readonly default?: unknown
  readonly size?: number
  readonly itemsType?: avro.Type
  readonly valuesType?: avro.Type
  readonly types?: readonly avro.Type[]
  readonly underlyingType?: avro.Type
}

const PROMOTIONS: Record<string, readonly string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
}

/** The incompatibilities of reading `writer` data with `reader`; empty when compatible. */
export function avroIncompatibilities(reader: avro.Type, writer: avro.Type): Incompatibility[] {
  const found: Incompatibility[] = []
  check(reader as AnyType, writer as AnyType, '', found, new Set())
  return found
}

function kind(type: AnyType): string {
  // Logical types avsc does not implement are their underlying type; implemented ones wrap it.
  if (type.typeName.startsWith('logical:') && type.underlyingType) return kind(type.underlyingType as AnyType)
  return type.typeName.startsWith('union') ? 'union' : type.typeName
}

function base(type: AnyType): AnyType {
  return type.typeName.startsWith('logical:') && type.underlyingType
    ? base(type.underlyingType as AnyType)
    : type
}

function shortName(fullName: string | undefined): string {
  return (fullName ?? '').split('.').pop() ?? ''
}

function namesMatch(reader: AnyType, writer: AnyType): boolean {
  if (shortName(reader.name) === shortName(writer.name)) return true
  return (reader.aliases ?? []).some(
    (alias) => alias === writer.name || shortName(alias) === shortName(writer.name),
  )
}

function typeLabel(type: AnyType): string {
  const k = kind(type)
  return k === 'union' ? 'UNION' : k.toUpperCase()
}

function check(
  readerIn: AnyType,
  writerIn: AnyType,
  path: string,
  found: Incompatibility[],
  seen: Set<string>,
): void {
  const reader = base(readerIn)
  const writer = base(writerIn)
  const readerKind = kind(reader)
  const writerKind = kind(writer)
  if (writerKind === 'union') {
    writer.types!.forEach((branch, i) => {
      // A writer branch is fine when the reader (a union or not) can read it.
      const sub: Incompatibility[] = []
      check(reader, branch as AnyType, path, sub, seen)
      if (sub.length > 0) {
        found.push({
          errorType: 'MISSING_UNION_BRANCH',
          description: `The new schema is missing a type inside a union field at path '${path || '/'}' in the old schema: reader union lacking writer type: ${typeLabel(branch as AnyType)}`,
          path: `${path}/${i}`,
          additionalInfo: `reader union lacking writer type: ${typeLabel(branch as AnyType)}`,
        })
      }
    })
    return
  }
  if (readerKind === 'union') {
    const readable = reader.types!.some((branch) => {
      const sub: Incompatibility[] = []
      check(branch as AnyType, writer, path, sub, seen)
      return sub.length === 0
    })
    if (!readable) {
      found.push({
        errorType: 'MISSING_UNION_BRANCH',
        description: `The new schema is missing a type inside a union field at path '${path || '/'}' in the old schema: reader union lacking writer type: ${typeLabel(writer)}`,
        path,
        additionalInfo: `reader union lacking writer type: ${typeLabel(writer)}`,
      })
    }
    return
  }
  if (readerKind !== writerKind) {
    if ((PROMOTIONS[writerKind] ?? []).includes(readerKind)) return
    found.push({
      errorType: 'TYPE_MISMATCH',
      description: `The type (path '${path || '/'}') of a field in the new schema does not match with the old schema: reader type: ${typeLabel(reader)} not compatible with writer type: ${typeLabel(writer)}`,
      path,
      additionalInfo: `reader type: ${typeLabel(reader)} not compatible with writer type: ${typeLabel(writer)}`,
    })
    return
  }
  switch (readerKind) {
    case 'record': {
      if (!namesMatch(reader, writer)) {
        found.push(nameMismatch(reader, writer, path))
        return
      }
      // Recursive types: a pair under check is assumed compatible (Java's memo table does the same).
      const pair = `${reader.name}|${writer.name}`
      if (seen.has(pair)) return
      seen.add(pair)
      const writerFields = new Map(writer.fields!.map((f) => [f.name, f]))
      reader.fields!.forEach((field, i) => {
        const writerField =
          writerFields.get(field.name) ??
          field.aliases.map((alias) => writerFields.get(alias)).find((f) => f !== undefined)
        const fieldPath = `${path}/fields/${i}`
        if (writerField === undefined) {
          if (field.defaultValue() === undefined) {
            found.push({
              errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE',
              description: `The field '${field.name}' at path '${fieldPath}' in the new schema has no default value and is missing in the old schema`,
              path: fieldPath,
              additionalInfo: field.name,
            })
          }
          return
        }
        check(field.type as AnyType, writerField.type as AnyType, `${fieldPath}/type`, found, seen)
      })
      seen.delete(pair)
      return
    }
    case 'enum': {
      if (!namesMatch(reader, writer)) {
        found.push(nameMismatch(reader, writer, path))
        return
      }
      const missing = writer.symbols!.filter((s) => !reader.symbols!.includes(s))
      if (missing.length > 0 && reader.default === undefined) {
        found.push({
          errorType: 'MISSING_ENUM_SYMBOLS',
          description: `The new schema is missing enum symbols '[${missing.join(', ')}]' at path '${path || '/'}/symbols' in the old schema`,
          path: `${path}/symbols`,
          additionalInfo: `[${missing.join(', ')}]`,
        })
      }
      return
    }
    case 'fixed': {
      if (!namesMatch(reader, writer)) {
        found.push(nameMismatch(reader, writer, path))
        return
      }
      if (reader.size !== writer.size) {
        found.push({
          errorType: 'FIXED_SIZE_MISMATCH',
          description: `The size of FIXED type field at path '${path || '/'}/size' in the new schema does not match with the old schema: expected: ${writer.size}, found: ${reader.size}`,
          path: `${path}/size`,
          additionalInfo: `expected: ${writer.size}, found: ${reader.size}`,
        })
      }
      return
    }
    case 'array':
      check(reader.itemsType as AnyType, writer.itemsType as AnyType, `${path}/items`, found, seen)
      return
    case 'map':
      check(reader.valuesType as AnyType, writer.valuesType as AnyType, `${path}/values`, found, seen)
      return
    default:
      return
  }
}

function nameMismatch(reader: AnyType, writer: AnyType, path: string): Incompatibility {
  return {
    errorType: 'NAME_MISMATCH',
    description: `The name of the schema has changed (path '${path || '/'}/name'): expected: ${writer.name}`,
    path: `${path}/name`,
    additionalInfo: `expected: ${writer.name}, found: ${reader.name}`,
  }
}
