import { join } from 'node:path'
import type { TopicReader, TopicReaderOptions } from '../api/topic-reader.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { type Log, producerBufferMemory, sinkConsumerSettings } from './log.ts'

/**
 * The worker's log: Kafka when `bootstrap.servers` is set, else the embedded log under the data
 * dir. Each backend is imported only when used: the Kafka client alone costs ~0.6 s and ~60 MB at
 * import, which an embedded worker must not pay.
 */
export async function createLog(config: WorkerConfig, clientId: string): Promise<Log> {
  // The tasks' worker-wide client settings: a bad value fails the start, naming the key.
  sinkConsumerSettings(config.originals(), {})
  producerBufferMemory(config.originals(), {})
  if (config.embedded) {
    const { createEmbeddedLog } = await import('./embedded/embedded-log.ts')
    return createEmbeddedLog({ dir: join(config.dataDir, 'log') })
  }
  const { createKafkaLog } = await import('./kafka/kafka-log.ts')
  const { workerKafkaOptions } = await import('./kafka/worker-client-options.ts')
  return createKafkaLog({
    bootstrapServers: config.getList('bootstrap.servers'),
    clientId,
    ...workerKafkaOptions(config),
  })
}

/**
 * A reader of one partition of a Kafka topic, possibly on another cluster than the worker's log, for
 * connectors' side channels (`SourceTaskContext.openTopicReader`, decision 0011). Loaded on first
 * use: the Kafka client costs ~0.6 s at import, which most tasks never need.
 */
export async function openTopicReader(options: TopicReaderOptions): Promise<TopicReader> {
  const { openKafkaTopicReader } = await import('./kafka/topic-reader.ts')
  return openKafkaTopicReader(options)
}
