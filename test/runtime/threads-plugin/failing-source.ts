/**
 * A source connector loaded from `plugin.path` by the task-threads tests, written in TypeScript: its
 * task fails its first poll with an error that names the thread it ran in.
 */
import { threadId } from 'node:worker_threads'
import { ConfigDef, type Props, SourceConnector, SourceTask } from '../../../src/api/index.ts'

export class ThreadBoomTask extends SourceTask {
  version(): string {
    return '1'
  }
  start(): void {}
  stop(): void {}
  async poll(): Promise<null> {
    throw new Error(`ThreadBoom in thread ${threadId}`)
  }
}

export class ThreadBoomSource extends SourceConnector {
  version(): string {
    return '1'
  }
  config(): ConfigDef {
    return new ConfigDef()
  }
  start(_props: Props): void {}
  taskConfigs(): Props[] {
    return [{}]
  }
  stop(): void {}
  taskClass(): typeof ThreadBoomTask {
    return ThreadBoomTask
  }
}

export const plugins = [
  { className: 'test.ThreadBoomSource', type: 'source', version: '1', create: () => new ThreadBoomSource() },
]
