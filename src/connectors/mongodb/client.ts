/**
 * The MongoDB client both connectors use, and how driver errors read: which ones a retry can fix
 * (network, server selection, primary stepping down) and which need the user (authentication,
 * authorization), each with a message naming `connection.uri`.
 */
import {
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb'
import { ConnectError, errorMessage, RetriableError } from '../../api/errors.ts'

/** Host list of a connection string without credentials or options, for messages and partition names. */
export function redactedHosts(uri: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/]*@)?([^/?]*)/.exec(uri)
  return match ? `${match[1]}${match[2]}` : '(unparsable connection.uri)'
}

export function openClient(uri: string, appName: string, serverSelectionTimeoutMS = 10_000): MongoClient {
  try {
    return new MongoClient(uri, {
      appName,
      serverSelectionTimeoutMS,
      connectTimeoutMS: serverSelectionTimeoutMS,
    })
  } catch (error) {
    throw new ConnectError(
      'CONFIG',
      `connection.uri is not a valid MongoDB connection string: ${errorMessage(error)}`,
      {
        cause: error,
        key: 'connection.uri',
      },
    )
  }
}

const AUTH_CODES = new Set([18, 13, 8000])
/** Server errors that pass: a primary stepping down, shutting down, write-concern timeouts. */
const TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 64])

/** Labels the driver puts on errors a later attempt can get past. */
const TRANSIENT_LABELS = [
  'RetryableWriteError',
  'RetryableError',
  'TransientTransactionError',
  'ResetPool',
  'PoolRequestedRetry',
  'InterruptInUseConnections',
]

/**
 * True for failures that retrying the same operation later can fix. Looks through the error's
 * causes and `errorResponse` too: a bulk write that lost its connection is a MongoBulkWriteError
 * wrapping the pool's network error.
 */
export function isTransient(error: unknown): boolean {
  if (isAuthFailure(error)) return false
  const seen = new Set<unknown>()
  const pending: unknown[] = [error]
  while (pending.length > 0) {
    const e = pending.pop()
    if (!(e instanceof Error) || seen.has(e)) continue
    seen.add(e)
    if (e instanceof MongoNetworkError || e instanceof MongoServerSelectionError) return true
    if (/Network|ServerSelection|PoolCleared|Timeout/.test(e.name)) return true
    if (
      /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|connection .* closed|interrupted due to server monitor timeout/i.test(
        e.message,
      )
    )
      return true
    if (e instanceof MongoError) {
      if (TRANSIENT_LABELS.some((l) => (e as MongoError).hasErrorLabel(l))) return true
      if (e instanceof MongoServerError && typeof e.code === 'number' && TRANSIENT_CODES.has(e.code))
        return true
    }
    pending.push((e as Error & { cause?: unknown }).cause, (e as { errorResponse?: unknown }).errorResponse)
  }
  return false
}

export function isAuthFailure(error: unknown): boolean {
  let current: unknown = error
  for (let i = 0; i < 5 && current instanceof Error; i++) {
    if (
      current instanceof MongoServerError &&
      typeof current.code === 'number' &&
      AUTH_CODES.has(current.code)
    )
      return true
    if (/Authentication failed|not authorized/i.test(current.message)) return true
    current = (current as Error & { cause?: unknown }).cause
  }
  return false
}

/** A driver error as a ConnectError: retriable for transient failures, CONFIG for credentials. */
export function classify(error: unknown, uri: string, doing: string): ConnectError {
  if (error instanceof ConnectError) return error
  const where = redactedHosts(uri)
  if (isAuthFailure(error)) {
    return new ConnectError(
      'CONFIG',
      `MongoDB refused the credentials of connection.uri (${where}) while ${doing}: ${errorMessage(error)}; fix the user, password or authSource in connection.uri`,
      { cause: error, key: 'connection.uri' },
    )
  }
  if (isTransient(error)) {
    return new RetriableError(`MongoDB at ${where} is unreachable while ${doing}: ${errorMessage(error)}`, {
      cause: error,
    })
  }
  return new ConnectError('CONNECT', `MongoDB at ${where} failed while ${doing}: ${errorMessage(error)}`, {
    cause: error,
  })
}
