/**
 * Drop-in for Confluent's `io.confluent.connect.s3.S3SinkConnector`. Validation checks the keys
 * (and across keys), then asks the store: the bucket must exist and accept the credentials, so a
 * wrong bucket, wrong keys or an unreachable endpoint are reported at create time, on the key to fix.
 */
import type { ConfigDef, ConfigValue } from '../../api/config-def.ts'
import { type Props, SinkConnector, type TaskClass } from '../../api/connector.ts'
import { ConfigError, errorMessage } from '../../api/errors.ts'
import { readSettings, s3SinkConfigDef } from './config.ts'
import { checkPartitioner } from './partitioner.ts'
import { S3SinkTask } from './sink-task.ts'
import { S3_SINK_VERSION } from './version.ts'

/** How long validation waits for the store before saying it cannot be reached. */
const VALIDATION_TIMEOUT_MS = 10_000

export class S3SinkConnector extends SinkConnector {
  #props: Props = {}

  version(): string {
    return S3_SINK_VERSION
  }
  config(): ConfigDef {
    return s3SinkConfigDef
  }
  start(props: Props): void {
    checkPartitioner(readSettings(props))
    this.#props = props
  }
  taskClass(): TaskClass<S3SinkTask> {
    return S3SinkTask
  }
  override async validate(props: Props): Promise<ConfigValue[]> {
    const values = s3SinkConfigDef.validate(props)
    if (values.some((v) => v.errors.length > 0)) return values
    const addError = (key: string, message: string) => {
      const value = values.find((v) => v.name === key)
      if (value) value.errors.push(message)
    }
    let settings: ReturnType<typeof readSettings>
    try {
      settings = readSettings(props)
      checkPartitioner(settings)
    } catch (error) {
      addError(error instanceof ConfigError && error.key ? error.key : 'format.class', errorMessage(error))
      return values
    }
    // The AWS SDK costs ~35 MB at import: loaded when a config is validated, not with the plugin list.
    const { describeProblem, S3Store } = await import('./s3-store.ts')
    const store = new S3Store(settings, {
      connectionTimeoutMs: VALIDATION_TIMEOUT_MS / 2,
      requestTimeoutMs: VALIDATION_TIMEOUT_MS,
    })
    try {
      await store.checkBucket()
    } catch (error) {
      const problem = describeProblem(error, settings)
      addError(problem.key, problem.message)
    } finally {
      store.close()
    }
    return values
  }
  /** Sink offsets are the consumer group's; the bucket's commit markers win over them at the next start. */
  override alterOffsets(): boolean {
    return true
  }
  /** Every task gets the same config; Kafka's group assignment spreads the partitions. */
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => this.#props)
  }
  stop(): void {}
}
