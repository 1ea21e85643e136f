import pino from 'pino'
import type { ConnectLogger } from '../api/log.ts'
import { maskSecretValues } from './secret-values.ts'

export type Logger = pino.Logger

export interface LoggerOptions {
  level?: string
  /** One readable line per entry instead of JSON (for a terminal). */
  pretty?: boolean
}

/** The worker's root logger, on stderr (stdout stays free for FileStreamSink's output). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  // Every entry, children's included, passes the mask of values resolved from config providers.
  const hooks = {
    logMethod(this: pino.Logger, args: unknown[], method: (...args: unknown[]) => void) {
      method.apply(this, args.map(masked))
    },
  }
  if (options.pretty)
    return pino(
      { level, base: undefined, hooks },
      { write: (line: string) => process.stderr.write(pretty(line)) },
    )
  return pino({ level, base: undefined, hooks }, pino.destination({ fd: 2, sync: false }))
}

function masked(arg: unknown): unknown {
  if (typeof arg === 'string') return maskSecretValues(arg)
  if (arg instanceof Error)
    return {
      type: arg.name,
      message: maskSecretValues(arg.message),
      stack: maskSecretValues(arg.stack ?? ''),
    }
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) return arg
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(arg))
    out[k] = typeof v === 'object' && v !== null ? masked(v) : typeof v === 'string' ? maskSecretValues(v) : v
  return out
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
}

function pretty(line: string): string {
  const { time, level, msg, err, connector, task } = JSON.parse(line) as Record<string, unknown>
  const at = new Date(time as number).toISOString().slice(11, 23)
  const where =
    connector === undefined ? '' : ` [${String(connector)}${task === undefined ? '' : `-${String(task)}`}]`
  const error = err ? ` (${typeof err === 'string' ? err : JSON.stringify(err)})` : ''
  return `${at} ${LEVELS[level as number] ?? level}${where} ${String(msg)}${error}\n`
}

/** The worker's logger as connectors see it (`connectLogger()` of the API). */
export function asConnectLogger(logger: Logger): ConnectLogger {
  return {
    debug: (message) => logger.debug(message),
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
  }
}
