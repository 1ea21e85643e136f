/** A source task with nothing to read, for test connectors whose point is the connector itself. */
import { SourceTask } from '../../src/api/index.ts'

export class IdleSourceTask extends SourceTask {
  version(): string {
    return '1'
  }
  start(): void {}
  stop(): void {}
  async poll(): Promise<null> {
    await new Promise((resolve) => setTimeout(resolve, 100))
    return null
  }
}
