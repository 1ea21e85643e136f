/**
 * [integration] Creating the internal offsets topics on the shared Kafka: a replication factor the
 * cluster cannot reach (the broker's INVALID_REPLICATION_FACTOR; the default 3 on one broker) is
 * refused naming the replication setting, the topic's key and the fix.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { ConfigError } from '../../src/api/errors.ts'
import { createKafkaLog } from '../../src/log/kafka/kafka-log.ts'
import type { Log } from '../../src/log/log.ts'
import { ensureInternalTopics, ensureOffsetsTopic } from '../../src/storage/kafka/internal-topics.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

/** More brokers than any test cluster has. */
const UNREACHABLE = 100

describe('[integration] internal topics with a replication factor above the brokers', {
  skip: kafkaSkipReason(),
}, () => {
  const prefix = `offsets-fix-rf-${randomUUID().slice(0, 8)}`
  let log: Log

  before(() => {
    log = createKafkaLog({ bootstrapServers: [kafkaBootstrap()], clientId: 'internal-topics-test' })
  })

  after(async () => {
    const left = (await log.listTopics()).filter((t) => t.startsWith(prefix))
    if (left.length > 0) await log.deleteTopics(left)
    await log.close()
  })

  it("a connector's offsets.storage.topic: names offset.storage.replication.factor and the fix", async () => {
    const topic = `${prefix}-own`
    await assert.rejects(
      ensureOffsetsTopic(
        log,
        topic,
        { partitions: 1, replicationFactor: UNREACHABLE },
        'offsets.storage.topic',
      ),
      (error: ConfigError) => {
        assert.equal(error.key, 'offset.storage.replication.factor')
        assert.match(error.message, new RegExp(`Topic '${topic}' \\(offsets\\.storage\\.topic\\)`))
        assert.match(error.message, /INVALID_REPLICATION_FACTOR/)
        assert.match(
          error.message,
          /Set offset\.storage\.replication\.factor to at most the number of brokers/,
        )
        return true
      },
    )
    assert.equal((await log.describeTopics([topic])).get(topic), undefined)
  })

  it('the worker topics: names the setting of the topic refused', async () => {
    await assert.rejects(
      ensureInternalTopics(log, {
        configTopic: `${prefix}-configs`,
        offsetTopic: `${prefix}-offsets`,
        statusTopic: `${prefix}-status`,
        configReplicationFactor: 1,
        offsetPartitions: 1,
        offsetReplicationFactor: 1,
        statusPartitions: 1,
        statusReplicationFactor: UNREACHABLE,
      }),
      (error: ConfigError) => {
        assert.equal(error.key, 'status.storage.replication.factor')
        assert.match(error.message, /\(status\.storage\.topic\)/)
        assert.match(error.message, /or to -1 for the broker's default\.replication\.factor/)
        return true
      },
    )
  })
})
