import type { ConfigDef } from '../../api/config-def.ts'
import {
  type ExactlyOnceSupport,
  type Props,
  SinkConnector,
  SourceConnector,
  type TaskClass,
} from '../../api/connector.ts'
import { ConnectError } from '../../api/errors.ts'
import type { OffsetMap } from '../../api/records.ts'
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
  /** As Kafka's: exactly-once when reading a file (appended to only), not stdin, whose position is not tracked. */
  override exactlyOnceSupport(props: Props): ExactlyOnceSupport {
    return props.file?.trim() ? 'SUPPORTED' : 'UNSUPPORTED'
  }
  /**
   * Offsets live only in the framework's store; like Kafka's, accept them when each names a file
   * and a non-negative byte position (or is a reset).
   */
  override alterOffsets(_props: Props, offsets: ReadonlyMap<OffsetMap, OffsetMap | null>): boolean {
    for (const [partition, offset] of offsets) {
      if (typeof partition.filename !== 'string') {
        throw new ConnectError(
          'BAD_REQUEST',
          `Partition ${JSON.stringify(partition)} must have a 'filename' string`,
        )
      }
      if (offset === null) continue
      const position = offset.position
      if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
        throw new ConnectError(
          'BAD_REQUEST',
          `Offset ${JSON.stringify(offset)} for ${partition.filename} must have a non-negative integer 'position'`,
        )
      }
    }
    return true
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
  /** The sink keeps no offsets of its own: the framework's consumer-group offsets are all there is. */
  override alterOffsets(): boolean {
    return true
  }
  /** Every task appends to the same file, as Kafka's does. */
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => this.#props)
  }
  stop(): void {}
}
