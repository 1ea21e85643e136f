/**
 * Starts a `SinkTaskRunner` for tests, with string converters, no transforms and errors not
 * tolerated, recording the task's states.
 */
import assert from 'node:assert/strict'
import type { SinkTask } from '../../src/api/connector.ts'
import type { SinkRecord } from '../../src/api/records.ts'
import { createLogger } from '../../src/common/logger.ts'
import type { Status, TaskId } from '../../src/common/states.ts'
import { SimpleHeaderConverter } from '../../src/converters/simple-header-converter.ts'
import { StringConverter } from '../../src/converters/string-converter.ts'
import type { LogConsumer } from '../../src/log/log.ts'
import { ErrorHandler } from '../../src/runtime/errors/error-handler.ts'
import type { ErrorReporter } from '../../src/runtime/errors/error-reporter.ts'
import { SinkTaskRunner } from '../../src/runtime/sink-task-runner.ts'
import { TransformationChain } from '../../src/runtime/transformation-chain.ts'
import { eventually } from './rest.ts'

export function startRunner(
  consumer: LogConsumer,
  task: SinkTask,
  options: { flushIntervalMs?: number; topics?: string[]; reporters?: ErrorReporter[] } = {},
): { runner: SinkTaskRunner; states: Status['state'][] } {
  const states: Status['state'][] = []
  const logger = createLogger({ level: 'silent' })
  const key = new StringConverter()
  key.configure({}, true)
  const value = new StringConverter()
  value.configure({}, false)
  const header = new SimpleHeaderConverter()
  header.configure({})
  const runner = new SinkTaskRunner(
    {
      id: { connector: 'scripted', task: 0 },
      workerId: 'test',
      logger,
      statusListener: {
        onConnectorStatus() {},
        onTaskStatus(_id: TaskId, status: Status) {
          states.push(status.state)
        },
        onConnectorDestroyed() {},
        onTaskDestroyed() {},
        onTopicActive() {},
      },
    },
    'STARTED',
    {
      task,
      taskConfig: {},
      converters: { key, value, header },
      transforms: TransformationChain.fromConfig<SinkRecord>({}, undefined as never),
      consumer,
      topics: options.topics ?? ['orders'],
      offsetFlushIntervalMs: options.flushIntervalMs ?? 60_000,
      offsetFlushTimeoutMs: 5000,
      errorHandler: new ErrorHandler(
        { retryTimeoutMs: 0, retryDelayMaxMs: 0, tolerance: options.reporters ? 'all' : 'none' },
        options.reporters ?? [],
        logger,
      ),
    },
  )
  runner.start()
  return { runner, states }
}

export const until = (check: () => boolean, what: string, timeoutMs = 5000) =>
  eventually(() => (check() ? true : undefined), timeoutMs, what)

export function assertNeverFailed(states: Status['state'][]): void {
  assert.ok(!states.includes('FAILED'), `the task failed: ${states.join(' → ')}`)
}
