import type { ConfigDef, ConfigValue } from '../../../api/config-def.ts'
import { type Props, SourceConnector, type TaskClass } from '../../../api/connector.ts'
import { ConfigError, ConnectError } from '../../../api/errors.ts'
import type { OffsetMap } from '../../../api/records.ts'
import { MONGODB_CONNECTOR_VERSION } from '../version.ts'
import { mongoSourceConfigDef, readSourceSettings } from './config.ts'
import { avroToConnect } from './record-output.ts'
import { MongoSourceTask } from './source-task.ts'

/** `com.mongodb.kafka.connect.MongoSourceConnector`: one change stream, so one task whatever `tasks.max` is. */
export class MongoSourceConnector extends SourceConnector {
  #props: Props = {}

  version(): string {
    return MONGODB_CONNECTOR_VERSION
  }
  config(): ConfigDef {
    return mongoSourceConfigDef
  }
  #check(props: Props): void {
    const s = readSourceSettings(props)
    if (s.keyFormat === 'schema') avroToConnect(s.keySchema, 'output.schema.key')
    if (s.valueFormat === 'schema' && !s.inferValueSchema) avroToConnect(s.valueSchema, 'output.schema.value')
  }
  start(props: Props): void {
    this.#check(props)
    this.#props = props
  }
  override validate(props: Props): ConfigValue[] {
    const values = mongoSourceConfigDef.validate(props)
    if (values.some((v) => v.errors.length > 0)) return values
    try {
      this.#check(props)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      const value = values.find((v) => v.name === error.key)
      if (value) value.errors.push(error.message)
    }
    return values
  }
  taskClass(): TaskClass<MongoSourceTask> {
    return MongoSourceTask
  }
  /** Offsets are `{"ns"}` partitions with `{"_id": "<resume token JSON>"}` offsets. */
  override alterOffsets(_props: Props, offsets: ReadonlyMap<OffsetMap, OffsetMap | null>): boolean {
    for (const [partition, offset] of offsets) {
      if (typeof partition.ns !== 'string')
        throw new ConnectError(
          'BAD_REQUEST',
          `Partition ${JSON.stringify(partition)} must have an 'ns' string`,
        )
      if (offset === null) continue
      if (typeof offset._id !== 'string')
        throw new ConnectError(
          'BAD_REQUEST',
          `Offset ${JSON.stringify(offset)} must have an '_id' string holding a resume token as JSON`,
        )
      try {
        JSON.parse(offset._id)
      } catch {
        throw new ConnectError(
          'BAD_REQUEST',
          `Offset _id ${offset._id} is not JSON: give a resume token such as {"_data": "8263..."}`,
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
