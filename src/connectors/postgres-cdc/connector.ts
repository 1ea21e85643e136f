import type { ConfigDef, ConfigValue } from '../../api/config-def.ts'
import { type Props, SourceConnector, type TaskClass } from '../../api/connector.ts'
import { ConfigError } from '../../api/errors.ts'
import { parseSettings, postgresCdcConfigDef } from './config.ts'
import { PostgresCdcSourceTask } from './source-task.ts'
import { POSTGRES_CDC_VERSION } from './version.ts'

/**
 * Debezium's PostgreSQL connector: one task, always (a slot has one reader), whatever `tasks.max`.
 */
export class PostgresCdcConnector extends SourceConnector {
  #props: Props = {}

  version(): string {
    return POSTGRES_CDC_VERSION
  }
  config(): ConfigDef {
    return postgresCdcConfigDef
  }
  start(props: Props): void {
    parseSettings(props)
    this.#props = props
  }
  taskClass(): TaskClass<PostgresCdcSourceTask> {
    return PostgresCdcSourceTask
  }
  taskConfigs(_maxTasks: number): Props[] {
    return [this.#props]
  }
  stop(): void {}

  /** Key-by-key checks, then the checks across keys (include/exclude pairs, queue vs batch size). */
  override validate(props: Props): ConfigValue[] {
    const values = postgresCdcConfigDef.validate(props)
    if (values.some((v) => v.errors.length > 0)) return values
    try {
      parseSettings(props)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      const value = values.find((v) => v.name === error.key)
      if (value) value.errors.push(error.message)
      else {
        // A pass-through key (`signal.consumer.*`) the ConfigDef does not declare.
        const name = error.key ?? 'config'
        values.push({
          name,
          value: props[name] ?? null,
          recommendedValues: [],
          errors: [error.message],
          visible: true,
        })
      }
    }
    return values
  }
}
