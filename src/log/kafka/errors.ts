/**
 * Maps @platformatic/kafka errors to the runtime's error catalogue. The client nests errors
 * (a MultipleErrors of retries, each maybe a ResponseError of ProtocolErrors, each with a cause);
 * classification looks through the whole tree, messages name the root cause and how to fix it.
 */
import { ConnectError, type ErrorCode } from '../../api/errors.ts'

interface ErrorNode {
  message?: string
  code?: string
  apiId?: string
  canRetry?: boolean
  serverErrorMessage?: string | null
  errors?: unknown[]
  cause?: unknown
}

function* walk(error: unknown, depth = 0): Generator<ErrorNode> {
  if (error === null || typeof error !== 'object' || depth > 10) return
  const node = error as ErrorNode
  yield node
  if (Array.isArray(node.errors)) for (const inner of node.errors) yield* walk(inner, depth + 1)
  if (node.cause !== undefined) yield* walk(node.cause, depth + 1)
}

/** The first Kafka protocol error id (e.g. 'REBALANCE_IN_PROGRESS') anywhere in the error tree. */
export function protocolErrorId(error: unknown): string | undefined {
  for (const node of walk(error)) if (typeof node.apiId === 'string') return node.apiId
  return undefined
}

export function hasProtocolError(error: unknown, ...ids: string[]): boolean {
  for (const node of walk(error)) if (typeof node.apiId === 'string' && ids.includes(node.apiId)) return true
  return false
}

function socketCode(error: unknown): string | undefined {
  for (const node of walk(error)) {
    if (typeof node.code === 'string' && /^E[A-Z]+$/.test(node.code)) return node.code
  }
  return undefined
}

function isNetwork(error: unknown): boolean {
  for (const node of walk(error)) {
    if (node.code === 'PLT_KFK_NETWORK' || node.code === 'PLT_KFK_TIMEOUT') return true
  }
  return socketCode(error) !== undefined
}

/** Protocol errors that retrying (after a metadata refresh or a pause) can fix. */
const RETRIABLE_PROTOCOL = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'THROTTLING_QUOTA_EXCEEDED',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'UNSTABLE_OFFSET_COMMIT',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'UNKNOWN_SERVER_ERROR',
])

/** A failure retrying can fix: the network, or a retriable protocol error. */
export function isRetriableKafkaError(error: unknown): boolean {
  if (isNetwork(error)) return true
  const id = protocolErrorId(error)
  return id !== undefined && RETRIABLE_PROTOCOL.has(id)
}

function rootMessage(error: unknown): string {
  let last: string | undefined
  for (const node of walk(error)) {
    if (typeof node.serverErrorMessage === 'string' && node.serverErrorMessage !== '')
      return node.serverErrorMessage
    if (typeof node.message === 'string' && node.message !== '') last = node.message
  }
  return last ?? String(error)
}

export interface ErrorContext {
  /** What was being done, e.g. "producing to topic 'orders'". */
  operation: string
  bootstrap: readonly string[]
}

/** Wraps any error of the Kafka client as a `ConnectError`; a `ConnectError` passes through. */
export function toConnectError(error: unknown, context: ErrorContext): ConnectError {
  if (error instanceof ConnectError) return error
  const servers = context.bootstrap.join(',')
  if (isNetwork(error)) {
    const code = socketCode(error)
    const reason =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host not found'
          : code !== undefined
            ? code
            : rootMessage(error)
    return new ConnectError(
      'RETRIABLE',
      `cannot reach Kafka at ${servers} while ${context.operation}: ${reason} — check bootstrap.servers and that the brokers are up`,
      { cause: error, retriable: true },
    )
  }
  const id = protocolErrorId(error)
  if (id !== undefined) {
    let code: ErrorCode = RETRIABLE_PROTOCOL.has(id) ? 'RETRIABLE' : 'CONNECT'
    let hint = ''
    if (id === 'UNKNOWN_TOPIC_OR_PARTITION' || id === 'UNKNOWN_TOPIC_ID') {
      code = 'NOT_FOUND'
      hint = ' — create the topic first (the broker does not create topics on use)'
    } else if (id === 'TOPIC_ALREADY_EXISTS') {
      code = 'ALREADY_EXISTS'
    } else if (id.endsWith('AUTHORIZATION_FAILED')) {
      hint = ' — grant the principal the ACLs this operation needs'
    } else if (id === 'MESSAGE_TOO_LARGE' || id === 'RECORD_LIST_TOO_LARGE') {
      hint = " — raise the topic's max.message.bytes or send smaller records"
    } else if (id === 'INVALID_SESSION_TIMEOUT') {
      hint =
        " — the broker accepts session timeouts between its group.min.session.timeout.ms and group.max.session.timeout.ms; change consumer.session.timeout.ms (or the connector's consumer.override.session.timeout.ms)"
    } else if (id === 'PRODUCER_FENCED' || id === 'INVALID_PRODUCER_EPOCH') {
      hint =
        ' — another producer with the same transactional.id started (a newer instance of this task after a rebalance, or zombie fencing by the leader): this one may not write any more'
    } else if (id === 'NON_EMPTY_GROUP') {
      code = 'CONFLICT'
      hint = ' — stop the group members (e.g. the connector) first'
    }
    return new ConnectError(
      code,
      `Kafka error ${id} while ${context.operation}: ${rootMessage(error)}${hint}`,
      {
        cause: error,
        retriable: code === 'RETRIABLE' || code === 'CONFLICT',
      },
    )
  }
  const message = rootMessage(error)
  if (/^Unknown topic /.test(message)) {
    return new ConnectError(
      'NOT_FOUND',
      `${message.replace(/\.$/, '')} while ${context.operation} — create the topic first`,
      {
        cause: error,
      },
    )
  }
  return new ConnectError('CONNECT', `Kafka client error while ${context.operation}: ${message}`, {
    cause: error,
  })
}
