/**
 * A source connector loaded from `plugin.path` by the task-threads tests: its task polls nothing and,
 * when stopped, logs a burst of lines ending with its last words (the `marker` key), right before its
 * runner ends and the worker may terminate its thread.
 */
import { ConfigDef, connectLogger, type Props, SourceConnector, SourceTask } from '../../../src/api/index.ts'

export class LastWordsTask extends SourceTask {
  #marker = ''
  version(): string {
    return '1'
  }
  start(props: Props): void {
    this.#marker = props.marker ?? ''
  }
  readonly #stopped = Promise.withResolvers<null>()
  /** Polls nothing until stopped; then the runner's loop ends at once. */
  poll(): Promise<null> {
    return this.#stopped.promise
  }
  stop(): void {
    const log = connectLogger()
    for (let i = 1; i <= 200; i++) log.warn(`${this.#marker} line ${i} ${'x'.repeat(200)}`)
    log.warn(`${this.#marker} last words`)
    this.#stopped.resolve(null)
  }
}

export class LastWordsSource extends SourceConnector {
  #props: Props = {}
  version(): string {
    return '1'
  }
  config(): ConfigDef {
    return new ConfigDef()
  }
  start(props: Props): void {
    this.#props = props
  }
  taskConfigs(): Props[] {
    return [{ marker: this.#props.marker ?? '' }]
  }
  stop(): void {}
  taskClass(): typeof LastWordsTask {
    return LastWordsTask
  }
}

export const plugins = [
  { className: 'test.LastWordsSource', type: 'source', version: '1', create: () => new LastWordsSource() },
]
