/**
 * The worker's logger: one JSON line per entry on stderr (stdout stays free for FileStreamSink's
 * output), the line pino wrote before (decision 0035), so log pipelines read it unchanged:
 * `{"level":30,"time":<epoch ms>,<the child's bindings>,<the entry's fields>,"msg":"…"}`, levels
 * as pino's numbers (trace 10, debug 20, info 30, warn 40, error 50, fatal 60), no pid or hostname.
 * Lines go to `process.stderr`: written at once to a file or a terminal, but a pipe whose reader is
 * slower than the worker (a log collector) leaves them queued in the process, where `process.exit()`
 * drops them: the command line exits through `exitAfterLogs`.
 */
import type { ConnectLogger } from '../api/log.ts'
import { maskSecretValues } from './secret-values.ts'

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }
type LevelName = keyof typeof LEVELS

/** `log.info('text')`, or `log.info({ key: value }, 'text')`: the fields go into the line. */
export interface LogFn {
  (msg: string): void
  (fields: object, msg?: string): void
}

export interface LoggerOptions {
  level?: string
  /** One readable line per entry instead of JSON (for a terminal). */
  pretty?: boolean
}

type Sink = (line: string) => void

export class Logger {
  readonly #sink: Sink
  /** The bindings of this logger and its parents, serialized: `,"key":value…`. */
  readonly #bindings: string
  #level: LevelName = 'info'
  #threshold = LEVELS.info

  constructor(sink: Sink, level: string, bindings = '') {
    this.#sink = sink
    this.#bindings = bindings
    this.level = level
  }

  get level(): string {
    return this.#level
  }

  set level(name: string) {
    if (!Object.hasOwn(LEVELS, name))
      throw new Error(`unknown log level '${name}': use ${Object.keys(LEVELS).join(', ')}`)
    this.#level = name as LevelName
    this.#threshold = LEVELS[this.#level]
  }

  /**
   * Writes a line another logger formatted (a task thread's, decision 0029) as this logger's own:
   * pretty if this one is. The writer already applied its level.
   */
  line(text: string): void {
    this.#sink(text)
  }

  /** A logger whose lines carry these fields too; it starts at this logger's level. */
  child(bindings: Record<string, unknown>): Logger {
    return new Logger(this.#sink, this.#level, this.#bindings + fields(bindings))
  }

  readonly trace: LogFn = (a: object | string, b?: string) => this.#log(LEVELS.trace, a, b)
  readonly debug: LogFn = (a: object | string, b?: string) => this.#log(LEVELS.debug, a, b)
  readonly info: LogFn = (a: object | string, b?: string) => this.#log(LEVELS.info, a, b)
  readonly warn: LogFn = (a: object | string, b?: string) => this.#log(LEVELS.warn, a, b)
  readonly error: LogFn = (a: object | string, b?: string) => this.#log(LEVELS.error, a, b)
  readonly fatal: LogFn = (a: object | string, b?: string) => this.#log(LEVELS.fatal, a, b)

  #log(level: number, a: object | string, b: string | undefined): void {
    if (level < this.#threshold) return
    let props = ''
    let msg = b
    if (typeof a === 'string') msg = a
    else {
      const entry = masked(a) as Record<string, unknown>
      props = fields(entry)
      // As pino: an entry without a message takes its error's.
      const err = entry.err as { message?: unknown } | undefined
      if (msg === undefined && typeof err?.message === 'string') msg = err.message
    }
    const text = msg === undefined ? '' : `,"msg":${JSON.stringify(maskSecretValues(String(msg)))}`
    this.#sink(`{"level":${level},"time":${Date.now()}${this.#bindings}${props}${text}}\n`)
  }
}

/** `,"key":value` for each field that JSON has a value for (undefined and functions are left out). */
function fields(entry: Record<string, unknown>): string {
  let out = ''
  for (const key of Object.keys(entry)) {
    const value = JSON.stringify(entry[key]) as string | undefined
    if (value !== undefined) out += `,${JSON.stringify(key)}:${value}`
  }
  return out
}

/** The worker's root logger, on stderr. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const sink: Sink = options.pretty
    ? (line) => process.stderr.write(pretty(line))
    : (line) => process.stderr.write(line)
  return new Logger(sink, options.level ?? 'info')
}

/**
 * Every field passes the mask of values resolved from config providers; errors become
 * `{type, message, stack}`, objects with a `toJSON` (dates, buffers) what it returns, a BigInt
 * its digits as a string and a cycle `"[Circular]"` (JSON takes neither).
 */
function masked(arg: unknown, ancestors = new Set<object>()): unknown {
  if (typeof arg === 'string') return maskSecretValues(arg)
  if (typeof arg === 'bigint') return arg.toString()
  if (arg === null || typeof arg !== 'object') return arg
  if (ancestors.has(arg)) return '[Circular]'
  if (arg instanceof Error)
    return {
      type: arg.name,
      message: maskSecretValues(arg.message),
      stack: maskSecretValues(arg.stack ?? ''),
    }
  const toJSON = (arg as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return masked(toJSON.call(arg), ancestors)
  ancestors.add(arg)
  let out: unknown
  if (Array.isArray(arg)) out = arg.map((v) => masked(v, ancestors))
  else {
    const fields: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(arg)) fields[k] = masked(v, ancestors)
    out = fields
  }
  ancestors.delete(arg)
  return out
}

const NAMES: Record<number, string> = {
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
  return `${at} ${NAMES[level as number] ?? level}${where} ${String(msg)}${error}\n`
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

/**
 * Ends the process with `code` once every line written to stderr so far has left it, or after
 * `timeoutMs` if the reader of a stderr pipe does not take them (a stuck log collector must not keep
 * a stopped worker alive).
 */
export function exitAfterLogs(code: number, timeoutMs = 5_000): void {
  const exit = () => process.exit(code)
  if (process.stderr.writableLength === 0) exit()
  setTimeout(exit, timeoutMs)
  // Called once the writes queued before it are written.
  process.stderr.write('', exit)
}
