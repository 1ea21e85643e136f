/**
 * The one error catalogue. Every error the runtime or a connector raises on purpose is a
 * `ConnectError` with a stable `code`; the code fixes its HTTP status (mapped once by the REST layer
 * to Kafka Connect's `{"error_code", "message"}` body) and whether retrying can help.
 *
 * Messages say what happened and how to fix it.
 */

export const ErrorCodes = {
  /** A config value is missing or invalid. */
  CONFIG: { status: 400, retriable: false },
  /** Request body or parameters are malformed. */
  BAD_REQUEST: { status: 400, retriable: false },
  /** Data could not be converted or does not match its schema. */
  DATA: { status: 500, retriable: false },
  /** A connector, task, plugin or logger does not exist. */
  NOT_FOUND: { status: 404, retriable: false },
  /** The thing to create exists already. */
  ALREADY_EXISTS: { status: 409, retriable: false },
  /** A concurrent operation (e.g. a rebalance) is in the way; try again. */
  CONFLICT: { status: 409, retriable: true },
  /** The operation is switched off by configuration. */
  FORBIDDEN: { status: 403, retriable: false },
  /** A transient failure of an external system (network, broker, database): retry with backoff. */
  RETRIABLE: { status: 500, retriable: true },
  /** A request did not complete in time. */
  TIMEOUT: { status: 500, retriable: true },
  /** The worker is not ready yet. */
  UNAVAILABLE: { status: 503, retriable: true },
  /** A generic failure of a connector, task or the runtime. */
  CONNECT: { status: 500, retriable: false },
} as const

export type ErrorCode = keyof typeof ErrorCodes

export interface ConnectErrorOptions {
  cause?: unknown
  /** Overrides the catalogue's default for this instance. */
  retriable?: boolean
  /** The config key at fault, for CONFIG errors. */
  key?: string
}

export class ConnectError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retriable: boolean
  readonly key: string | undefined

  constructor(code: ErrorCode, message: string, options: ConnectErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ConnectError'
    this.code = code
    this.status = ErrorCodes[code].status
    this.retriable = options.retriable ?? ErrorCodes[code].retriable
    this.key = options.key
  }
}

/** A config value is invalid: names the key, says why and how to fix it. */
export class ConfigError extends ConnectError {
  constructor(key: string | undefined, message: string, options: Omit<ConnectErrorOptions, 'key'> = {}) {
    super('CONFIG', message, { ...options, key })
    this.name = 'ConfigError'
  }
}

/** Data does not match its schema, or could not be converted. */
export class DataError extends ConnectError {
  constructor(message: string, options: ConnectErrorOptions = {}) {
    super('DATA', message, options)
    this.name = 'DataError'
  }
}

/** A transient failure: the operation may succeed if retried later. */
export class RetriableError extends ConnectError {
  constructor(message: string, options: ConnectErrorOptions = {}) {
    super('RETRIABLE', message, { ...options, retriable: true })
    this.name = 'RetriableError'
  }
}

export class NotFoundError extends ConnectError {
  constructor(message: string, options: ConnectErrorOptions = {}) {
    super('NOT_FOUND', message, options)
    this.name = 'NotFoundError'
  }
}

export class AlreadyExistsError extends ConnectError {
  constructor(message: string, options: ConnectErrorOptions = {}) {
    super('ALREADY_EXISTS', message, options)
    this.name = 'AlreadyExistsError'
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof ConnectError && error.retriable
}

/** The stack trace kept in task status, as Kafka Connect keeps Java's: the error and its causes. */
export function errorTrace(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (current instanceof Error) {
      parts.push(depth === 0 ? (current.stack ?? String(current)) : `Caused by: ${current.stack ?? current}`)
      current = current.cause
    } else {
      parts.push(depth === 0 ? String(current) : `Caused by: ${String(current)}`)
      current = undefined
    }
  }
  return parts.join('\n')
}

/** A short message for logs and errors: the error's message, with its cause chain. */
export function errorMessage(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const message = (current instanceof Error ? current.message : String(current)).replace(/:\s*$/, '')
    if (message && !parts.some((p) => p.includes(message))) parts.push(message)
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.join(': ')
}
