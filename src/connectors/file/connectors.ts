import type { ConfigDef } from '../../api/config-def.ts'
import { type Props, SinkConnector, SourceConnector, type TaskClass } from '../../api/connector.ts'
import { fileSinkConfigDef, fileSourceConfigDef } from './config.ts'
import { FileStreamSinkTask } from './sink-task.ts'
import { FileStreamSourceTask } from './source-task.ts'
import { FILE_CONNECTOR_VERSION } from './version.ts'

/** One task reads one file; a file cannot be split among tasks. */
export class FileStreamSourceConnector extends SourceConnector {
  #props: Props = {}

  version(): string {
    return FILE_CONNECTOR_VERSION
  }
  config(): ConfigDef {
    return fileSourceConfigDef
  }
  start(props: Props): void {
    fileSourceConfigDef.parse(props)
    this.#props = props
  }
  taskClass(): TaskClass<FileStreamSourceTask> {
    return FileStreamSourceTask
  }
  taskConfigs(_maxTasks: number): Props[] {
    return [this.#props]
  }
  stop(): void {}
}

export class FileStreamSinkConnector extends SinkConnector {
  #props: Props = {}

  version(): string {
    return FILE_CONNECTOR_VERSION
  }
  config(): ConfigDef {
    return fileSinkConfigDef
  }
  start(props: Props): void {
    fileSinkConfigDef.parse(props)
    this.#props = props
  }
  taskClass(): TaskClass<FileStreamSinkTask> {
    return FileStreamSinkTask
  }
  /** Every task appends to the same file, as Kafka's does. */
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => this.#props)
  }
  stop(): void {}
}
