/**
 * Logging for connectors and tasks. A connector calls `connectLogger()` wherever it is (a task's poll,
 * a timer its connector started, a validation) and gets the worker's log, tagged with the connector
 * (and task) it runs for — the way a Kafka Connect connector logs through SLF4J with the worker's MDC.
 * The runtime sets the logger around every call it makes into a plugin (`runWithConnectLogger`); it
 * follows the async work started from there. Outside a worker, warnings and errors become process
 * warnings.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

export interface ConnectLogger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

const current = new AsyncLocalStorage<ConnectLogger>()

const outsideWorker: ConnectLogger = {
  debug() {},
  info() {},
  warn: (message) => process.emitWarning(message),
  error: (message) => process.emitWarning(message),
}

/** The logger of the connector or task this code runs for. */
export function connectLogger(): ConnectLogger {
  return current.getStore() ?? outsideWorker
}

/** For the runtime: runs `work` (and what it starts) with `logger` as `connectLogger()`. */
export function runWithConnectLogger<T>(logger: ConnectLogger, work: () => T): T {
  return current.run(logger, work)
}
