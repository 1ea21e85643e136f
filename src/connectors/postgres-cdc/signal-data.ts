/**
 * Reading signals (Debezium's `id`, `type`, `data`) from outside — the signal table, the Kafka topic,
 * an offset written by an earlier run — as data that is checked field by field. A malformed signal is
 * a {@link SignalError}: the task logs and reports it and skips it, as Debezium does, and never fails
 * on it (it would be read again on every restart).
 *
 * `additional-conditions` filters are SQL the operator writes into the signal — Debezium appends an
 * incremental one to the chunk query's WHERE, and runs a blocking one as the table's SELECT. What holds
 * here: a filter can only ever be one expression (incremental) or one query (blocking). Text that could
 * end the expression or the statement — `;`, comments, a parenthesis closing more than it opened,
 * dollar quoting, backslashes in literals (whose meaning depends on `standard_conforming_strings`) — is
 * refused, and the queries run as one statement of the extended protocol in a READ ONLY transaction,
 * so even a function call in a filter cannot write.
 */
import { compileJavaRegex } from '../../api/java-regex.ts'

/** A signal that cannot be acted on; its message says what is wrong with it. */
export class SignalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SignalError'
  }
}

/** The signal types this connector acts on (Debezium's PostgreSQL actions, JMX and schema ones aside). */
export const SIGNAL_TYPES = new Set([
  'execute-snapshot',
  'stop-snapshot',
  'pause-snapshot',
  'resume-snapshot',
  'snapshot-window-open',
  'snapshot-window-close',
  'log',
])

export interface SnapshotRequest {
  type: 'incremental' | 'blocking'
  /** Regular expressions over `schema.table`. */
  collections: string[]
  conditions: { dataCollection: string; filter: string }[]
  surrogateKey: string | null
}

/** Checks a signal's id and type, as read from a channel. */
export function checkSignal(id: unknown, type: unknown): { id: string; type: string } {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new SignalError(`it has no "id" (a non-empty string): ${JSON.stringify(id ?? null)}`)
  }
  if (typeof type !== 'string' || type.trim() === '') {
    throw new SignalError(`it has no "type" (a string): ${JSON.stringify(type ?? null)}`)
  }
  if (!SIGNAL_TYPES.has(type)) {
    throw new SignalError(`its type '${type}' is unknown (known: ${[...SIGNAL_TYPES].join(', ')})`)
  }
  return { id, type }
}

function parseObject(data: string | null): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(data ?? '{}')
  } catch {
    throw new SignalError(`its data is not JSON: ${data}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SignalError(`its data is not a JSON object: ${data}`)
  }
  return parsed as Record<string, unknown>
}

function stringList(data: Record<string, unknown>, key: string): string[] {
  const value = data[key]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new SignalError(`"${key}" must be a list of strings, not ${JSON.stringify(value)}`)
  }
  const list = value.map((v) => v.trim()).filter((v) => v !== '')
  for (const pattern of list) {
    try {
      compileJavaRegex(pattern)
    } catch (error) {
      throw new SignalError(
        `"${key}" holds '${pattern}', which is not a regular expression (${(error as Error).message})`,
      )
    }
  }
  return list
}

/** The data of an `execute-snapshot` signal. */
export function readSnapshotRequest(data: string | null): SnapshotRequest {
  const parsed = parseObject(data)
  const rawType = parsed.type ?? 'incremental'
  if (typeof rawType !== 'string' || !['incremental', 'blocking'].includes(rawType.toLowerCase())) {
    throw new SignalError(`"type" must be "incremental" or "blocking", not ${JSON.stringify(rawType)}`)
  }
  const type = rawType.toLowerCase() as SnapshotRequest['type']
  const collections = stringList(parsed, 'data-collections')
  if (collections.length === 0) throw new SignalError('it has no "data-collections"')
  const rawConditions = parsed['additional-conditions'] ?? []
  if (!Array.isArray(rawConditions)) {
    throw new SignalError(`"additional-conditions" must be a list, not ${JSON.stringify(rawConditions)}`)
  }
  const conditions = rawConditions.map((c: unknown) => {
    const entry = c as { 'data-collection'?: unknown; filter?: unknown } | null
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry['data-collection'] !== 'string' ||
      typeof entry.filter !== 'string'
    ) {
      throw new SignalError(
        `each "additional-conditions" entry needs a string "data-collection" and "filter": ${JSON.stringify(c)}`,
      )
    }
    const filter = entry.filter
    if (type === 'blocking') checkSelect(filter)
    else checkExpression(filter)
    try {
      compileJavaRegex(entry['data-collection'])
    } catch (error) {
      throw new SignalError(
        `"data-collection" '${entry['data-collection']}' is not a regular expression (${(error as Error).message})`,
      )
    }
    return { dataCollection: entry['data-collection'], filter }
  })
  const surrogateKey = parsed['surrogate-key'] ?? null
  if (surrogateKey !== null && typeof surrogateKey !== 'string') {
    throw new SignalError(`"surrogate-key" must be a column name, not ${JSON.stringify(surrogateKey)}`)
  }
  return { type, collections, conditions, surrogateKey: surrogateKey || null }
}

/** The data of a `stop-snapshot` signal: the collections to stop (none: all). */
export function readStopRequest(data: string | null): string[] {
  return stringList(parseObject(data), 'data-collections')
}

/** An incremental snapshot's filter: one SQL expression, appended as `AND (<filter>)`. */
export function checkExpression(filter: string): void {
  const problem = fragmentProblem(filter)
  if (problem) {
    throw new SignalError(
      `the additional condition '${filter}' is not a single expression: it has ${problem}`,
    )
  }
}

/** A blocking snapshot's filter: one query (SELECT, WITH, VALUES or TABLE) replacing the table's SELECT. */
export function checkSelect(select: string): void {
  const problem =
    fragmentProblem(select) ??
    (/^\s*(select|with|values|table)\b/i.test(select) ? null : 'no SELECT at its start')
  if (problem) {
    throw new SignalError(`the additional condition '${select}' is not a single SELECT: it has ${problem}`)
  }
}

/** What in a SQL fragment could end it early or hide text, or null. */
function fragmentProblem(text: string): string | null {
  if (text.trim() === '') return 'no text'
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "'" || c === '"') {
      // A literal or quoted identifier; a doubled quote stands for itself.
      let j = i + 1
      for (;;) {
        if (j >= text.length) return `an unterminated ${c === "'" ? 'string literal' : 'quoted identifier'}`
        if (c === "'" && text[j] === '\\') return 'a backslash in a string literal'
        if (text[j] === c) {
          if (text[j + 1] === c) {
            j += 2
            continue
          }
          break
        }
        j++
      }
      i = j
      continue
    }
    if (c === ';') return 'a statement separator (;)'
    if (c === '-' && text[i + 1] === '-') return 'a comment (--)'
    if (c === '/' && text[i + 1] === '*') return 'a comment (/*)'
    if (c === '$') return "a '$' (dollar quoting)"
    if (c === '(') depth++
    if (c === ')' && --depth < 0) return "a ')' without its '('"
  }
  return depth === 0 ? null : "a '(' without its ')'"
}
