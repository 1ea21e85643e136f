import { join } from 'node:path'
import type { WorkerConfig } from '../config/worker-config.ts'
import { createEmbeddedLog } from './embedded/embedded-log.ts'
import { createKafkaLog } from './kafka/kafka-log.ts'
import type { Log } from './log.ts'

/** The worker's log: Kafka when `bootstrap.servers` is set, else the embedded log under the data dir. */
export async function createLog(config: WorkerConfig, clientId: string): Promise<Log> {
  if (config.embedded) return createEmbeddedLog({ dir: join(config.dataDir, 'log') })
  return createKafkaLog({ bootstrapServers: config.getList('bootstrap.servers'), clientId })
}
