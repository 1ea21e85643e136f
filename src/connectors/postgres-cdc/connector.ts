import type { ConfigDef, ConfigValue } from '../../api/config-def.ts'
import { type ExactlyOnceSupport, type Props, SourceConnector, type TaskClass } from '../../api/connector.ts'
import { ConfigError, errorMessage } from '../../api/errors.ts'
import { type CdcSettings, parseSettings, postgresCdcConfigDef } from './config.ts'
import { clientConfig, newPgClient } from './replication-connection.ts'
import { serverProblems } from './setup.ts'
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
  /**
   * As Debezium's: each change event carries the LSN it was read at and the task resumes from the
   * committed offset, so events and offsets committed together never repeat.
   */
  override exactlyOnceSupport(_props: Props): ExactlyOnceSupport {
    return 'SUPPORTED'
  }
  taskConfigs(_maxTasks: number): Props[] {
    return [this.#props]
  }
  stop(): void {}

  /**
   * Key-by-key checks, then the checks across keys (include/exclude pairs, queue vs batch size), then —
   * when the config itself is sound — what the server must offer (wal_level, REPLICATION, a usable
   * slot), so a server that cannot stream is refused at create rather than failing the task after.
   */
  override async validate(props: Props): Promise<ConfigValue[]> {
    const values = postgresCdcConfigDef.validate(props)
    if (values.some((v) => v.errors.length > 0)) return values
    const add = (name: string, message: string): void => {
      const value = values.find((v) => v.name === name)
      if (value) value.errors.push(message)
      // A pass-through key (`signal.consumer.*`) the ConfigDef does not declare.
      else
        values.push({
          name,
          value: props[name] ?? null,
          recommendedValues: [],
          errors: [message],
          visible: true,
        })
    }
    let settings: CdcSettings
    try {
      settings = parseSettings(props)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      add(error.key ?? 'config', error.message)
      return values
    }
    const client = await newPgClient(clientConfig(settings, { connectionTimeoutMillis: 10_000 }))
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      add(
        'database.hostname',
        `cannot connect to PostgreSQL at ${settings.host}:${settings.port} as '${settings.user}' (${errorMessage(error)}): ` +
          'check database.hostname, database.port, database.user, database.password and database.dbname',
      )
      await client.end().catch(() => {})
      return values
    }
    try {
      for (const [key, message] of await serverProblems(client, settings)) add(key, message)
    } catch (error) {
      add('database.hostname', `cannot check the server: ${errorMessage(error)}`)
    } finally {
      await client.end().catch(() => {})
    }
    return values
  }
}
