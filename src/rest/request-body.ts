/**
 * Request bodies as Kafka Connect's Jersey/Jackson stack reads them. Verified against a Kafka
 * Connect 4.3.1 worker: a body that is not JSON, or JSON of the wrong shape for the resource
 * (an array where an object is expected, an object where a config value must be a string, an
 * unknown field of `CreateConnectorRequest`), is answered **500** with Jackson's message: the
 * exception reaches `ConnectExceptionMapper`, which maps anything that is not a Connect or JAX-RS
 * exception to 500. Sluice keeps those status codes and says in the message what is wrong.
 * Numbers and booleans given as config values are turned into strings, as Jackson coerces them.
 */
import { ConnectError } from '../api/errors.ts'

/** A body Jackson could not read (Kafka Connect: 500). */
export class BodyReadError extends ConnectError {
  constructor(message: string) {
    super('CONNECT', message)
    this.name = 'BodyReadError'
  }
}

/** `JSON.parse` with a message in the spirit of Jackson's (what was wrong, where). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    throw new BodyReadError(`Request body is not valid JSON: ${detail}`)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'Array value (token `JsonToken.START_ARRAY`)'
  if (typeof value === 'object') return 'Object value (token `JsonToken.START_OBJECT`)'
  if (typeof value === 'string') return `String value ('${value.slice(0, 100)}')`
  return `${typeof value} value (${String(value)})`
}

/** A JSON object (not null, not an array), or a 500 naming the Java type Kafka Connect expects. */
export function jsonObject(value: unknown, javaType: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BodyReadError(`Cannot deserialize value of type \`${javaType}\` from ${describe(value)}`)
  }
  return value as Record<string, unknown>
}

/**
 * A flat config map: strings stay, numbers and booleans become strings, nested values are a 500
 * as in Jackson. Keys with null values are returned apart (Kafka Connect rejects them on create
 * and update with a validation error; PATCH uses them to remove keys).
 */
export function configMap(value: unknown): { config: Record<string, string>; nullKeys: string[] } {
  const object = jsonObject(value, 'java.util.LinkedHashMap')
  const entries: [string, string][] = []
  const nullKeys: string[] = []
  for (const [key, v] of Object.entries(object)) {
    if (v === null) nullKeys.push(key)
    else if (typeof v === 'object') {
      throw new BodyReadError(
        `Cannot deserialize value of type \`java.lang.String\` from ${describe(v)} (through reference chain: java.util.LinkedHashMap["${key}"])`,
      )
    } else entries.push([key, String(v)])
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return { config: Object.fromEntries(entries), nullKeys }
}

/** Jackson's FAIL_ON_UNKNOWN_PROPERTIES message for an entity with a fixed set of fields. */
export function rejectUnknownFields(
  object: Record<string, unknown>,
  javaClass: string,
  known: string[],
): void {
  const unknown = Object.keys(object).find((k) => !known.includes(k))
  if (unknown !== undefined) {
    throw new BodyReadError(
      `Unrecognized field "${unknown}" (class ${javaClass}), not marked as ignorable (${known.length} known properties: ${known.map((k) => `"${k}"`).join(', ')})`,
    )
  }
}
