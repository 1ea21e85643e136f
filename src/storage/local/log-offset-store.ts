/**
 * Standalone source offsets on the embedded log (decision 0032): the compacted `connect-offsets`
 * topic of the log itself, in Kafka Connect's key and value format (the same store distributed
 * workers keep in Kafka). Being in the log is what lets an exactly-once source task write its records
 * and their offsets in one SQLite transaction.
 *
 * Offsets a previous version kept in `offset.storage.file.filename` are copied into the topic once,
 * when the topic is still empty; the file is left as it was.
 */
import { existsSync } from 'node:fs'
import { ConfigError } from '../../api/errors.ts'
import type { Logger } from '../../common/logger.ts'
import { EMBEDDED_OFFSETS_TOPIC, isCompacted, type Log } from '../../log/log.ts'
import { KafkaOffsetStore } from '../kafka/kafka-offset-store.ts'
import type { OffsetStore } from '../offset-store.ts'
import { FileOffsetStore } from './file-offset-store.ts'

export const LOG_OFFSETS_TOPIC = EMBEDDED_OFFSETS_TOPIC

export async function openLogOffsetStore(log: Log, legacyFile: string, logger: Logger): Promise<OffsetStore> {
  await log.createTopics([
    { name: LOG_OFFSETS_TOPIC, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
  ])
  // A topic of that name an earlier Sluice let someone else create: not one to trust with offsets.
  const topic = (await log.describeTopics([LOG_OFFSETS_TOPIC])).get(LOG_OFFSETS_TOPIC)
  if (topic && !(topic.partitions === 1 && isCompacted(topic.configs))) {
    throw new ConfigError(
      'sluice.data.dir',
      `The embedded log's topic '${LOG_OFFSETS_TOPIC}' was not created for source offsets (${topic.partitions} ` +
        `partition(s), cleanup.policy=${topic.configs['cleanup.policy'] ?? 'delete'}): start the worker on a ` +
        'new sluice.data.dir',
    )
  }
  const store = new KafkaOffsetStore(log, LOG_OFFSETS_TOPIC, 'sluice-standalone', logger)
  await store.start()
  if (existsSync(legacyFile)) {
    const end = await log.endOffsets([{ topic: LOG_OFFSETS_TOPIC, partition: 0 }])
    const legacy = await FileOffsetStore.open(legacyFile)
    const entries = legacy.entries()
    await legacy.close()
    if ([...end.values()].every((offset) => offset === 0) && entries.size > 0) {
      await store.set(entries)
      logger.info(
        `copied ${entries.size} source offset(s) from ${legacyFile} into the embedded log's '${LOG_OFFSETS_TOPIC}' topic, where they are kept from now on`,
      )
    }
  }
  return store
}
