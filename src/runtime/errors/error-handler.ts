/**
 * The one retry-and-tolerance operator for record processing (Kafka Connect's
 * `RetryWithToleranceOperator`), driven by the connector's `errors.*` keys:
 *
 * - a retriable failure is retried with exponential backoff (`300 ms << attempt`, capped by
 *   `errors.retry.delay.max.ms`, never past `errors.retry.timeout`; -1 = forever);
 * - then, with `errors.tolerance=none`, the task fails ("Tolerance exceeded in error handler",
 *   the root cause kept); with `all`, the failure is reported (log, dead-letter topic) and the
 *   record skipped.
 *
 * Sluice applies it on the source side too (conversion and transforms of source records), where
 * Kafka Connect only tolerates without a dead-letter topic.
 */
import type { Props } from '../../api/connector.ts'
import { ConnectError, errorMessage, isRetriable } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import type { ErrorContext, ErrorMetrics, ErrorReporter, Stage } from './error-reporter.ts'

export type { ErrorMetrics, Stage } from './error-reporter.ts'

const INITIAL_RETRY_DELAY_MS = 300

export interface ErrorHandlerConfig {
  retryTimeoutMs: number
  retryDelayMaxMs: number
  tolerance: 'none' | 'all'
}

export function errorHandlerConfig(props: Props): ErrorHandlerConfig {
  return {
    retryTimeoutMs: Number(props['errors.retry.timeout'] ?? 0),
    retryDelayMaxMs: Number(props['errors.retry.delay.max.ms'] ?? 60000),
    tolerance: (props['errors.tolerance'] ?? 'none').toLowerCase() === 'all' ? 'all' : 'none',
  }
}

/** Returned by `handle` when a failure was tolerated: skip the record. */
export const SKIP: unique symbol = Symbol('skip record')

export class ErrorHandler {
  readonly config: ErrorHandlerConfig
  readonly metrics: ErrorMetrics = {
    totalRecordFailures: 0,
    totalRecordErrors: 0,
    totalRecordsSkipped: 0,
    totalRetries: 0,
    totalErrorsLogged: 0,
    deadletterqueueProduceRequests: 0,
    deadletterqueueProduceFailures: 0,
    lastErrorTimestamp: 0,
  }
  readonly #reporters: ErrorReporter[]
  readonly #logger: Logger
  #stopped = false
  #wake: (() => void) | null = null

  constructor(config: ErrorHandlerConfig, reporters: ErrorReporter[], logger: Logger) {
    this.config = config
    this.#reporters = reporters
    this.#logger = logger
  }

  get hasReporters(): boolean {
    return this.#reporters.length > 0
  }

  /**
   * Called after `operation` threw `error` for one record. Retries it while the error is
   * retriable and time remains; then returns its result, or `SKIP` when the failure is tolerated
   * and reported, or throws when it is not tolerated.
   */
  async handle<T>(
    stage: Stage,
    operation: () => T | Promise<T>,
    error: unknown,
    context: ErrorContext,
  ): Promise<T | typeof SKIP> {
    const started = Date.now()
    let attempt = 0
    let last = error
    while (isRetriable(last) && this.#mayRetry(started) && !this.#stopped) {
      this.metrics.totalRecordFailures++
      attempt++
      const delay = this.#delay(attempt, started)
      this.#logger.debug(`${stage} failed (${errorMessage(last)}); retry ${attempt} in ${delay} ms`)
      await this.#sleep(delay)
      this.metrics.totalRetries++
      try {
        return await operation()
      } catch (next) {
        last = next
      }
    }
    this.metrics.totalRecordFailures++
    this.metrics.totalRecordErrors++
    this.metrics.lastErrorTimestamp = Date.now()
    const failure = { ...context, stage, error: last }
    if (this.config.tolerance === 'none') {
      await this.#report(failure)
      throw new ConnectError('CONNECT', `Tolerance exceeded in error handler: ${errorMessage(last)}`, {
        cause: last,
      })
    }
    this.metrics.totalRecordsSkipped++
    await this.#report(failure)
    return SKIP
  }

  /** Reports a failure the task itself found (the errant record reporter of sink tasks). */
  async reportErrant(context: ErrorContext & { stage: Stage; error: unknown }): Promise<void> {
    this.metrics.totalRecordErrors++
    this.metrics.lastErrorTimestamp = Date.now()
    if (this.config.tolerance === 'none') {
      await this.#report(context)
      throw new ConnectError(
        'CONNECT',
        `Tolerance exceeded in error handler: ${errorMessage(context.error)}`,
        {
          cause: context.error,
        },
      )
    }
    this.metrics.totalRecordsSkipped++
    await this.#report(context)
  }

  stop(): void {
    this.#stopped = true
    this.#wake?.()
  }

  async close(): Promise<void> {
    for (const reporter of this.#reporters) await reporter.close()
  }

  async #report(context: ErrorContext & { stage: Stage; error: unknown }): Promise<void> {
    for (const reporter of this.#reporters) await reporter.report(context, this.metrics)
  }

  #mayRetry(started: number): boolean {
    const timeout = this.config.retryTimeoutMs
    return timeout === -1 || Date.now() - started < timeout
  }

  /** Kafka's schedule: 300 ms doubling; past the cap a random delay below it; never past the deadline. */
  #delay(attempt: number, started: number): number {
    let delay = INITIAL_RETRY_DELAY_MS * 2 ** Math.min(attempt - 1, 30)
    if (delay > this.config.retryDelayMaxMs) delay = Math.floor(Math.random() * this.config.retryDelayMaxMs)
    if (this.config.retryTimeoutMs !== -1) {
      delay = Math.min(delay, Math.max(0, started + this.config.retryTimeoutMs - Date.now()))
    }
    return delay
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
  }
}
