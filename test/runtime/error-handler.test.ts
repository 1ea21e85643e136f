import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectError, DataError, RetriableError } from '../../src/api/errors.ts'
import { createLogger } from '../../src/common/logger.ts'
import { ErrorHandler, SKIP } from '../../src/runtime/errors/error-handler.ts'
import type { ErrorReporter, FailureContext } from '../../src/runtime/errors/error-reporter.ts'

const logger = createLogger({ level: 'silent' })
const context = { connector: 'c', task: 0 }

function recorder(): ErrorReporter & { reports: FailureContext[] } {
  const reports: FailureContext[] = []
  return { reports, report: async (c) => void reports.push(c), close: async () => {} }
}

describe('the retry and tolerance operator', () => {
  it('fails with "Tolerance exceeded" and keeps the root cause under tolerance none', async () => {
    const reporter = recorder()
    const handler = new ErrorHandler(
      { retryTimeoutMs: 0, retryDelayMaxMs: 100, tolerance: 'none' },
      [reporter],
      logger,
    )
    const cause = new DataError('bad bytes')
    await assert.rejects(
      handler.handle('VALUE_CONVERTER', () => 1, cause, context),
      (error: unknown) =>
        error instanceof ConnectError &&
        /Tolerance exceeded in error handler/.test(error.message) &&
        error.cause === cause,
    )
    assert.equal(reporter.reports.length, 1, 'a fatal failure is still reported')
  })

  it('skips and reports the record under tolerance all, counting it', async () => {
    const reporter = recorder()
    const handler = new ErrorHandler(
      { retryTimeoutMs: 0, retryDelayMaxMs: 100, tolerance: 'all' },
      [reporter],
      logger,
    )
    const result = await handler.handle('TRANSFORMATION', () => 1, new DataError('no field x'), context)
    assert.equal(result, SKIP)
    assert.equal(reporter.reports[0].stage, 'TRANSFORMATION')
    assert.equal(handler.metrics.totalRecordsSkipped, 1)
    assert.equal(handler.metrics.totalRecordErrors, 1)
  })

  it('retries retriable failures with backoff until the operation succeeds', async () => {
    const handler = new ErrorHandler(
      { retryTimeoutMs: 5000, retryDelayMaxMs: 1000, tolerance: 'none' },
      [],
      logger,
    )
    let calls = 0
    const started = Date.now()
    const result = await handler.handle(
      'VALUE_CONVERTER',
      () => {
        calls++
        if (calls < 2) throw new RetriableError('flaky')
        return 'ok'
      },
      new RetriableError('flaky'),
      context,
    )
    assert.equal(result, 'ok')
    assert.equal(calls, 2)
    assert.equal(handler.metrics.totalRetries, 2)
    assert.ok(Date.now() - started >= 300 + 600 - 50, 'waits 300 ms, then 600 ms')
  })

  it('stops retrying at errors.retry.timeout and never waits past it', async () => {
    const handler = new ErrorHandler(
      { retryTimeoutMs: 500, retryDelayMaxMs: 60000, tolerance: 'all' },
      [],
      logger,
    )
    const started = Date.now()
    const result = await handler.handle(
      'KEY_CONVERTER',
      () => {
        throw new RetriableError('down')
      },
      new RetriableError('down'),
      context,
    )
    const elapsed = Date.now() - started
    assert.equal(result, SKIP)
    assert.ok(elapsed >= 450 && elapsed < 1500, `took ${elapsed} ms`)
  })

  it('does not retry non-retriable failures', async () => {
    const handler = new ErrorHandler(
      { retryTimeoutMs: 60000, retryDelayMaxMs: 60000, tolerance: 'all' },
      [],
      logger,
    )
    const started = Date.now()
    assert.equal(await handler.handle('KEY_CONVERTER', () => 1, new DataError('bad'), context), SKIP)
    assert.ok(Date.now() - started < 100)
    assert.equal(handler.metrics.totalRetries, 0)
  })
})
