/**
 * What the worker reports, less the values config providers returned: status traces (a driver's
 * error quoting a password) and errors it hands to a herder. The mask itself is
 * common/secret-values.ts; the root logger applies it to every log line.
 */
import { ConnectError, errorMessage, errorTrace } from '../api/errors.ts'
import { maskSecretValues } from '../common/secret-values.ts'
import type { Status, StatusListener } from '../common/states.ts'

/** A status listener whose traces never show a value resolved from a config provider. */
export function maskingStatusListener(listener: StatusListener): StatusListener {
  const masked = (status: Status): Status =>
    status.trace ? { ...status, trace: maskSecretValues(status.trace) } : status
  return {
    onConnectorStatus: (connector, status) => listener.onConnectorStatus(connector, masked(status)),
    onTaskStatus: (id, status) => listener.onTaskStatus(id, masked(status)),
    onConnectorDestroyed: (connector) => listener.onConnectorDestroyed(connector),
    onTaskDestroyed: (id) => listener.onTaskDestroyed(id),
    onTopicActive: (connector, topic, task) => listener.onTopicActive(connector, topic, task),
  }
}

/** The error, or one with the same message and trace less any value from a config provider. */
export function maskedError(error: unknown): unknown {
  const trace = errorTrace(error)
  const maskedTrace = maskSecretValues(trace)
  if (maskedTrace === trace) return error
  const masked = new ConnectError('CONNECT', maskSecretValues(errorMessage(error)))
  masked.stack = maskedTrace
  return masked
}
