import pino from 'pino'

export type Logger = pino.Logger

export interface LoggerOptions {
  level?: string
  /** One readable line per entry instead of JSON (for a terminal). */
  pretty?: boolean
}

/** The worker's root logger, on stderr (stdout stays free for FileStreamSink's output). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  if (options.pretty)
    return pino({ level, base: undefined }, { write: (line: string) => process.stderr.write(pretty(line)) })
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: false }))
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
