/**
 * Log levels per logger namespace, as Kafka Connect's `/admin/loggers` manages log4j's (KIP-495):
 * a namespace's level applies to it and every namespace below it (`sluice.runtime` covers
 * `sluice.runtime.worker`), `root` to everything without a level of its own. Sluice loggers are
 * children of the root logger bound to `{logger: <namespace>}`; Kafka's level names map to ours.
 */
import { NotFoundError } from '../api/errors.ts'
import type { Logger } from '../common/logger.ts'

const TO_LEVEL: Record<string, string> = {
  ALL: 'trace',
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'fatal',
  OFF: 'silent',
}

const FROM_LEVEL: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'FATAL',
  silent: 'OFF',
}

export interface LoggerLevel {
  level: string
  /** Epoch ms of the last change through the API; null when never changed. */
  last_modified: number | null
}

export const ROOT_LOGGER = 'root'

export class Loggers {
  readonly #root: Logger
  readonly #children = new Map<string, Logger>()
  readonly #lastModified = new Map<string, number>()

  constructor(root: Logger) {
    this.#root = root
  }

  /** The logger of a namespace (created on first use at the level its nearest ancestor has). */
  logger(namespace: string): Logger {
    if (namespace === ROOT_LOGGER) return this.#root
    let child = this.#children.get(namespace)
    if (!child) {
      child = this.#root.child({ logger: namespace })
      child.level = this.#inheritedLevel(namespace)
      this.#children.set(namespace, child)
    }
    return child
  }

  /** Every known logger and its level, sorted by name (Kafka Connect uses a TreeMap). */
  all(): Record<string, LoggerLevel> {
    const names = [ROOT_LOGGER, ...this.#children.keys()].sort()
    return Object.fromEntries(names.map((name) => [name, this.level(name)]))
  }

  level(namespace: string): LoggerLevel {
    const logger = namespace === ROOT_LOGGER ? this.#root : this.#children.get(namespace)
    if (!logger) throw new NotFoundError(`Logger ${namespace} not found.`)
    return {
      level: FROM_LEVEL[logger.level] ?? logger.level.toUpperCase(),
      last_modified: this.#lastModified.get(namespace) ?? null,
    }
  }

  /**
   * Sets the level of a namespace and of every namespace below it; returns the loggers it changed,
   * sorted. An unknown level is a 404, as in Kafka Connect (`invalid log level 'X'.`).
   */
  setLevel(namespace: string, level: string): string[] {
    const levelName = TO_LEVEL[level.toUpperCase()]
    if (!levelName) throw new NotFoundError(`invalid log level '${level}'.`)
    const now = Date.now()
    const affected: string[] = []
    if (namespace === ROOT_LOGGER) {
      this.#root.level = levelName
      affected.push(ROOT_LOGGER, ...this.#children.keys())
    } else {
      this.logger(namespace)
      for (const name of this.#children.keys()) {
        if (name === namespace || name.startsWith(`${namespace}.`)) affected.push(name)
      }
    }
    for (const name of affected) {
      if (name !== ROOT_LOGGER) this.#children.get(name)!.level = levelName
      this.#lastModified.set(name, now)
    }
    return affected.sort()
  }

  #inheritedLevel(namespace: string): string {
    for (let i = namespace.lastIndexOf('.'); i > 0; i = namespace.lastIndexOf('.', i - 1)) {
      const parent = this.#children.get(namespace.slice(0, i))
      if (parent) return parent.level
    }
    return this.#root.level
  }
}
