/**
 * A source connector for shutdown tests, loaded from `plugin.path`: its task's `poll()` never
 * returns and its `stop()` does not make it return (a driver blocked on a dead connection).
 */
import { ConfigDef, type Props, SourceConnector, SourceTask } from '../../../src/api/index.ts'

export class StuckSourceTask extends SourceTask {
  version(): string {
    return '1'
  }
  start(): void {}
  stop(): void {}
  poll(): Promise<null> {
    return new Promise(() => {})
  }
}

export class StuckSource extends SourceConnector {
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
  taskClass(): typeof StuckSourceTask {
    return StuckSourceTask
  }
}

export const plugins = [
  { className: 'test.StuckSource', type: 'source', version: '1', create: () => new StuckSource() },
]
