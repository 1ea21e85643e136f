import type { ConfigDef, ConfigValue } from '../../../api/config-def.ts'
import type { SinkTask } from '../../../api/connector.ts'
import { type Props, SinkConnector, type TaskClass } from '../../../api/connector.ts'
import {
  confluentSinkConfigDef,
  debeziumSinkConfigDef,
  type Flavour,
  readSettings,
  validateSettings,
} from './config.ts'
import { DebeziumJdbcSinkTask, JdbcSinkTask } from './sink-task.ts'
import { JDBC_SINK_VERSION } from './version.ts'

abstract class AbstractJdbcSinkConnector extends SinkConnector {
  protected abstract readonly flavour: Flavour
  #props: Props = {}

  version(): string {
    return JDBC_SINK_VERSION
  }
  start(props: Props): void {
    readSettings(this.flavour, props)
    this.#props = props
  }
  override validate(props: Props): ConfigValue[] {
    return validateSettings(this.flavour, props)
  }
  /** Sink offsets are the consumer group's only; nothing to check or keep on the side. */
  override alterOffsets(): boolean {
    return true
  }
  /** Every task gets the same config; Kafka's group assignment spreads the partitions. */
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => this.#props)
  }
  stop(): void {}
}

/** Drop-in for Confluent's `io.confluent.connect.jdbc.JdbcSinkConnector`. */
export class JdbcSinkConnector extends AbstractJdbcSinkConnector {
  protected readonly flavour = 'confluent' as const
  config(): ConfigDef {
    return confluentSinkConfigDef
  }
  taskClass(): TaskClass<SinkTask> {
    return JdbcSinkTask
  }
}

/** Drop-in for Debezium's `io.debezium.connector.jdbc.JdbcSinkConnector`: its keys, change events read natively. */
export class DebeziumJdbcSinkConnector extends AbstractJdbcSinkConnector {
  protected readonly flavour = 'debezium' as const
  config(): ConfigDef {
    return debeziumSinkConfigDef
  }
  taskClass(): TaskClass<SinkTask> {
    return DebeziumJdbcSinkTask
  }
}
