import type { ConfigDef, ConfigValue } from '../../../api/config-def.ts'
import {
  type ExactlyOnceSupport,
  type Props,
  SourceConnector,
  type TaskClass,
} from '../../../api/connector.ts'
import { ConfigError, ConnectError, errorMessage, RetriableError } from '../../../api/errors.ts'
import type { OffsetMap } from '../../../api/records.ts'
import type { DbConnection } from '../common/connection.ts'
import type { TableId } from '../common/dialect.ts'
import {
  CONNECTION_URL,
  JdbcSourceConfig,
  jdbcSourceConfigDef,
  TABLE_POLL_INTERVAL_MS,
  TASK_TABLES,
} from './config.ts'
import { connect } from './database.ts'
import { JdbcSourceTask } from './source-task.ts'
import { configProblems, inspectDatabase, type Problem, selectTables } from './validation.ts'
import { JDBC_SOURCE_VERSION } from './version.ts'
import { warn } from './warnings.ts'

/**
 * Confluent's `JdbcSourceConnector`: lists the tables the config selects, spreads them over at most
 * `tasks.max` tasks in contiguous groups (Kafka's `ConnectorUtils.groupPartitions`: the first
 * `n % k` groups get one table more), and re-lists them every `table.poll.interval.ms`, asking for new
 * task configs when a table appears or disappears. A custom `query` always gets one task.
 */
export class JdbcSourceConnector extends SourceConnector {
  #props: Props = {}
  #config: JdbcSourceConfig | null = null
  #tables: TableId[] = []
  #monitor: NodeJS.Timeout | null = null
  #monitorDb: DbConnection | null = null
  #listing = false
  #stopped = false

  version(): string {
    return JDBC_SOURCE_VERSION
  }

  config(): ConfigDef {
    return jdbcSourceConfigDef
  }

  /**
   * Exactly-once in the incrementing and timestamp modes, whose offsets say where to resume; `bulk`
   * reads every table in full at each poll, so its records repeat by design.
   */
  override exactlyOnceSupport(props: Props): ExactlyOnceSupport {
    return (props.mode ?? '').trim() === 'bulk' ? 'UNSUPPORTED' : 'SUPPORTED'
  }

  async start(props: Props): Promise<void> {
    const config = new JdbcSourceConfig(props)
    const problems = configProblems(config)
    if (problems.length > 0) throw new ConfigError(problems[0][0], problems[0][1])
    this.#props = props
    this.#config = config
    this.#stopped = false
    if (config.query !== '') return
    const db = await connect(config)
    try {
      // Warnings (no index, out-of-order commits) come from the tasks, which read the tables.
      const inspection = await inspectDatabase(db, config)
      if (inspection.problems.length > 0)
        throw new ConfigError(inspection.problems[0][0], inspection.problems[0][1])
      this.#tables = inspection.tables.map(({ catalog, schema, table }) => ({ catalog, schema, table }))
    } finally {
      await db.close()
    }
    const interval = config.getLong(TABLE_POLL_INTERVAL_MS)
    if (interval > 0) {
      this.#monitor = setInterval(() => void this.#relist(), interval)
      this.#monitor.unref()
    }
  }

  taskClass(): TaskClass<JdbcSourceTask> {
    return JdbcSourceTask
  }

  taskConfigs(maxTasks: number): Props[] {
    if (this.#config?.query) return [{ ...this.#props, [TASK_TABLES]: '[]' }]
    const tables = this.#tables
    if (tables.length === 0) {
      warn('no table matches the JDBC source config yet; no task runs until one appears')
      return []
    }
    const groups = Math.min(tables.length, Math.max(1, maxTasks))
    const base = Math.floor(tables.length / groups)
    const extra = tables.length % groups
    const configs: Props[] = []
    let at = 0
    for (let g = 0; g < groups; g++) {
      const size = base + (g < extra ? 1 : 0)
      configs.push({ ...this.#props, [TASK_TABLES]: JSON.stringify(tables.slice(at, at + size)) })
      at += size
    }
    return configs
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#monitor) clearInterval(this.#monitor)
    this.#monitor = null
    const db = this.#monitorDb
    this.#monitorDb = null
    await db?.close()
  }

  /** Config checks, then (when the config itself is sound) the checks against the database. */
  override async validate(props: Props): Promise<ConfigValue[]> {
    const values = jdbcSourceConfigDef.validate(props)
    if (values.some((v) => v.errors.length > 0)) return values
    const config = new JdbcSourceConfig(props)
    const problems: Problem[] = configProblems(config)
    if (problems.length === 0) {
      let db: DbConnection | null = null
      try {
        db = await connect(config, { attempts: 1 })
        problems.push(...(await inspectDatabase(db, config)).problems)
      } catch (error) {
        if (error instanceof ConfigError) problems.push([error.key ?? CONNECTION_URL, error.message])
        else if (error instanceof RetriableError)
          problems.push([CONNECTION_URL, `${error.message}; check the host and port in ${CONNECTION_URL}`])
        else problems.push([CONNECTION_URL, errorMessage(error)])
      } finally {
        await db?.close()
      }
    }
    for (const [key, message] of problems) {
      const value = values.find((v) => v.name === key)
      if (value) value.errors.push(message)
      else
        values.push({
          name: key,
          value: props[key] ?? null,
          recommendedValues: [],
          errors: [message],
          visible: true,
        })
    }
    return values
  }

  /** Accepts offsets shaped like Confluent's (table or query partitions; numeric offset fields). */
  override alterOffsets(_props: Props, offsets: ReadonlyMap<OffsetMap, OffsetMap | null>): boolean {
    for (const [partition, offset] of offsets) {
      if (typeof partition.table !== 'string' && partition.query !== 'query') {
        throw new ConnectError(
          'BAD_REQUEST',
          `Partition ${JSON.stringify(partition)} must have a 'table' name or be {"query": "query"}`,
        )
      }
      if (offset === null) continue
      for (const [key, value] of Object.entries(offset)) {
        if (!['incrementing', 'timestamp', 'timestamp_nanos'].includes(key) || typeof value !== 'number') {
          throw new ConnectError(
            'BAD_REQUEST',
            `Offset ${JSON.stringify(offset)} may only have numeric 'incrementing', 'timestamp' and 'timestamp_nanos'`,
          )
        }
      }
    }
    return true
  }

  /** Table monitor: re-lists the tables; a change asks the runtime for new task configs. */
  async #relist(): Promise<void> {
    if (this.#listing || this.#stopped || !this.#config) return
    this.#listing = true
    try {
      this.#monitorDb ??= await connect(this.#config, { attempts: 1 })
      const tables = (await selectTables(this.#monitorDb, this.#config)).map(
        ({ catalog, schema, table }) => ({
          catalog,
          schema,
          table,
        }),
      )
      if (this.#stopped) return
      const key = (list: TableId[]) => JSON.stringify(list)
      if (key(tables) !== key(this.#tables)) {
        this.#tables = tables
        this.context.requestTaskReconfiguration()
      }
    } catch (error) {
      warn(
        `listing the tables failed (${errorMessage(error)}); trying again in ${this.#config.getLong(TABLE_POLL_INTERVAL_MS)} ms`,
      )
      const db = this.#monitorDb
      this.#monitorDb = null
      await db?.close().catch(() => {})
    } finally {
      this.#listing = false
    }
  }
}
