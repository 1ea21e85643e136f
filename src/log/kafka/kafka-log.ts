/**
 * The `Log` on a real Kafka cluster, through @platformatic/kafka (the only module tree of the
 * runtime allowed to import it). Admin operations go through one shared Admin client; each
 * producer and consumer gets its own client and connections.
 */
import {
  Admin,
  type BaseOptions,
  ConfigResourceTypes,
  ConnectionPool,
  Consumer,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  Producer,
} from '@platformatic/kafka'
import { ConnectError } from '../../api/errors.ts'
import {
  type ConsumerOptions,
  type Log,
  type LogConsumer,
  type LogProducer,
  type ProducerOptions,
  parseTpKey,
  type TopicDescription,
  type TopicPartition,
  type TopicSpec,
  tpKey,
} from '../log.ts'
import { hasProtocolError, toConnectError } from './errors.ts'
import './pool-close-sweep.ts'
import { KafkaConsumer, type KafkaConsumerSettings } from './kafka-consumer.ts'
import { KafkaProducer, type KafkaProducerSettings } from './kafka-producer.ts'
import { KafkaTransactionalProducer } from './kafka-transactional-producer.ts'

export interface KafkaLogOptions {
  /** `host:port` of one or more brokers. */
  bootstrapServers: readonly string[]
  /** Prefix of the client ids the log's clients report to the brokers. */
  clientId: string
  /** @default 5000 */
  connectTimeoutMs?: number
  /** @default 30000 */
  requestTimeoutMs?: number
  /** Retries of retriable failures inside the client before an error surfaces. @default 3 */
  retries?: number
  /** @default 250 */
  retryDelayMs?: number
  /** @default 5000 */
  metadataMaxAgeMs?: number
  tls?: BaseOptions['tls']
  sasl?: BaseOptions['sasl']
  producer?: KafkaProducerSettings
  consumer?: KafkaConsumerSettings
  /** How long createTopics/deleteTopics wait for the change to show in metadata. @default 30000 */
  topicChangeTimeoutMs?: number
}

export function createKafkaLog(options: KafkaLogOptions): Log {
  if (options.bootstrapServers.length === 0) {
    throw new ConnectError(
      'CONFIG',
      'bootstrap.servers is empty: give at least one Kafka broker as host:port',
      {
        key: 'bootstrap.servers',
      },
    )
  }
  return new KafkaLog(options)
}

class KafkaLog implements Log {
  readonly kind = 'kafka' as const
  readonly #options: KafkaLogOptions
  readonly #admin: Admin
  readonly #clients = new Set<{ close(): Promise<void> }>()
  #clientSeq = 0

  constructor(options: KafkaLogOptions) {
    this.#options = options
    this.#admin = new Admin(this.#baseOptions('admin'))
  }

  #baseOptions(role: string): BaseOptions {
    const o = this.#options
    const base: BaseOptions = {
      clientId: `${o.clientId}-${role}-${++this.#clientSeq}`,
      bootstrapBrokers: [...o.bootstrapServers],
      connectTimeout: o.connectTimeoutMs ?? 5000,
      requestTimeout: o.requestTimeoutMs ?? 30_000,
      timeout: o.requestTimeoutMs ?? 30_000,
      retries: o.retries ?? 3,
      retryDelay: o.retryDelayMs ?? 250,
      metadataMaxAge: o.metadataMaxAgeMs ?? 5000,
      autocreateTopics: false,
    }
    if (o.tls !== undefined) base.tls = o.tls
    if (o.sasl !== undefined) base.sasl = o.sasl
    return base
  }

  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw toConnectError(error, { operation, bootstrap: this.#options.bootstrapServers })
    }
  }

  clusterId(): Promise<string> {
    return this.#run('reading the cluster id', async () => (await this.#admin.metadata({ topics: [] })).id)
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await this.listTopics())
    const toCreate = specs.filter((s) => !existing.has(s.name))
    await this.#run(`creating topics ${toCreate.map((s) => `'${s.name}'`).join(', ')}`, async () => {
      await Promise.all(
        toCreate.map(async (spec) => {
          try {
            await this.#admin.createTopics({
              topics: [spec.name],
              partitions: spec.partitions,
              replicas: spec.replicationFactor ?? -1,
              configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
            })
          } catch (error) {
            // Created meanwhile by someone else: "leave existing ones untouched".
            if (!hasProtocolError(error, 'TOPIC_ALREADY_EXISTS')) throw error
          }
        }),
      )
    })
    // The controller answers before every broker knows the topic; wait until metadata has leaders.
    await this.#waitFor(`topics ${toCreate.map((s) => s.name).join(', ')} to have leaders`, async () => {
      if (toCreate.length === 0) return true
      try {
        const metadata = await this.#admin.metadata({
          topics: toCreate.map((s) => s.name),
          forceUpdate: true,
        })
        return toCreate.every((s) => {
          const topic = metadata.topics.get(s.name)
          return topic?.partitions.every((p) => p.leader >= 0) === true
        })
      } catch {
        return false
      }
    })
  }

  async describeTopics(names: readonly string[]): Promise<Map<string, TopicDescription>> {
    const all = new Set(await this.listTopics())
    const present = names.filter((n) => all.has(n))
    const result = new Map<string, TopicDescription>()
    if (present.length === 0) return result
    return this.#run(`describing topics ${present.map((n) => `'${n}'`).join(', ')}`, async () => {
      const metadata = await this.#admin.metadata({ topics: present, forceUpdate: true })
      const configs = await this.#admin.describeConfigs({
        resources: present.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name })),
      })
      const byName = new Map(configs.map((c) => [c.resourceName, c.configs]))
      for (const name of present) {
        const values: Record<string, string> = {}
        for (const entry of byName.get(name) ?? []) if (entry.value != null) values[entry.name] = entry.value
        result.set(name, {
          name,
          partitions: metadata.topics.get(name)?.partitionsCount ?? 0,
          configs: Object.freeze(values),
        })
      }
      return result
    })
  }

  listTopics(): Promise<string[]> {
    return this.#run('listing topics', () => this.#admin.listTopics({ includeInternals: false }))
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    const all = new Set(await this.listTopics())
    const present = names.filter((n) => all.has(n))
    if (present.length === 0) return
    await this.#run(`deleting topics ${present.map((n) => `'${n}'`).join(', ')}`, async () => {
      try {
        await this.#admin.deleteTopics({ topics: present })
      } catch (error) {
        if (!hasProtocolError(error, 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID')) throw error
      }
    })
    // Deletion is asynchronous on the broker; a topic of the same name can only be created after.
    await this.#waitFor(`topics ${present.join(', ')} to be deleted`, async () => {
      const left = new Set(await this.listTopics())
      return present.every((n) => !left.has(n))
    })
  }

  endOffsets(partitions: readonly TopicPartition[], readCommitted = false): Promise<Map<string, number>> {
    return this.#listOffsets(partitions, ListOffsetTimestamps.LATEST, 'reading end offsets', readCommitted)
  }

  beginningOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    return this.#listOffsets(partitions, ListOffsetTimestamps.EARLIEST, 'reading beginning offsets')
  }

  async #listOffsets(
    partitions: readonly TopicPartition[],
    timestamp: bigint,
    operation: string,
    readCommitted = false,
  ): Promise<Map<string, number>> {
    const result = new Map<string, number>()
    if (partitions.length === 0) return result
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
    const listed = await this.#run(operation, () =>
      this.#admin.listOffsets({
        isolationLevel: readCommitted
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((partitionIndex) => ({ partitionIndex, timestamp })),
        })),
      }),
    )
    for (const topic of listed) {
      for (const p of topic.partitions)
        result.set(tpKey({ topic: topic.name, partition: p.partitionIndex }), Number(p.offset))
    }
    return result
  }

  async groupOffsets(groupId: string): Promise<Map<string, number>> {
    const groups = await this.#run(`reading offsets of group '${groupId}'`, () =>
      this.#admin.listConsumerGroupOffsets({ groups: [groupId] }),
    )
    const result = new Map<string, number>()
    for (const group of groups) {
      for (const topic of group.topics) {
        for (const p of topic.partitions) {
          if (p.committedOffset >= 0n)
            result.set(tpKey({ topic: topic.name, partition: p.partitionIndex }), Number(p.committedOffset))
        }
      }
    }
    return result
  }

  async alterGroupOffsets(groupId: string, offsets: ReadonlyMap<string, number | null>): Promise<void> {
    if (offsets.size === 0) return
    const operation = `altering offsets of group '${groupId}'`
    const groups = await this.#run(operation, () => this.#admin.describeGroups({ groups: [groupId] }))
    const group = groups.get(groupId)
    if (group !== undefined && group.members.size > 0) {
      throw new ConnectError(
        'CONFLICT',
        `cannot alter offsets of group '${groupId}': it has ${group.members.size} active member(s); stop them (e.g. the connector) first`,
      )
    }
    const set = new Map<string, { partition: number; offset: bigint }[]>()
    const remove = new Map<string, number[]>()
    for (const [key, offset] of offsets) {
      const { topic, partition } = parseTpKey(key)
      if (offset === null) remove.set(topic, [...(remove.get(topic) ?? []), partition])
      else set.set(topic, [...(set.get(topic) ?? []), { partition, offset: BigInt(offset) }])
    }
    await this.#run(operation, async () => {
      if (set.size > 0) {
        await this.#admin.alterConsumerGroupOffsets({
          groupId,
          topics: [...set].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
        })
      }
      if (remove.size > 0) {
        try {
          await this.#admin.deleteConsumerGroupOffsets({
            groupId,
            topics: [...remove].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
          })
        } catch (error) {
          // Nothing committed means nothing to remove.
          if (!hasProtocolError(error, 'GROUP_ID_NOT_FOUND')) throw error
        }
      }
    })
  }

  createProducer(options: ProducerOptions): LogProducer {
    const client = new Producer({
      ...this.#baseOptions(`${options.clientId}-producer`),
      idempotent: options.idempotent ?? true,
      acks: -1,
    })
    const settings: KafkaProducerSettings = {
      requestTimeoutMs: this.#options.requestTimeoutMs,
      ...this.#options.producer,
      idempotent: options.idempotent ?? true,
    }
    if (options.compression) settings.compression = options.compression
    if (options.maxInFlight !== undefined) settings.maxInFlight = options.maxInFlight
    const producer = new KafkaProducer(client, this.#options.bootstrapServers, settings)
    return this.#track(producer)
  }

  createTransactionalProducer(
    options: ProducerOptions & { transactionalId: string },
  ): KafkaTransactionalProducer {
    const base = this.#baseOptions(`${options.clientId}-producer`)
    const client = new Producer({
      ...base,
      retryDelay: transactionRetryDelay(base.retryDelay as number),
      idempotent: true,
      acks: -1,
      transactionalId: options.transactionalId,
      // InitProducerId as a new producer (-1/-1, KIP-360): the client's default 0/0 names an existing
      // producer, which the coordinator answers with PRODUCER_FENCED once the id has another epoch.
      producerId: -1n,
      producerEpoch: -1,
    })
    const settings: KafkaProducerSettings = {
      requestTimeoutMs: this.#options.requestTimeoutMs,
      ...this.#options.producer,
    }
    if (options.compression) settings.compression = options.compression
    return this.#track(
      new KafkaTransactionalProducer(
        client,
        options.transactionalId,
        this.#options.bootstrapServers,
        settings,
      ),
    )
  }

  async fenceProducers(transactionalIds: readonly string[]): Promise<void> {
    // What Admin.fenceProducers sends: InitProducerId for each id, which bumps its epoch.
    await Promise.all(
      transactionalIds.map(async (transactionalId) => {
        const producer = this.createTransactionalProducer({ clientId: 'connect-fencing', transactionalId })
        try {
          await producer.init()
        } finally {
          await producer.close().catch(() => {})
        }
      }),
    )
  }

  createConsumer(options: ConsumerOptions): LogConsumer {
    const base = this.#baseOptions(`${options.clientId}-consumer`)
    const settings = this.#options.consumer ?? {}
    const client = new Consumer({ ...base, groupId: options.groupId, autocommit: false })
    const poolOptions = {
      connectTimeout: base.connectTimeout,
      requestTimeout: base.requestTimeout,
      tls: base.tls,
      sasl: base.sasl,
    }
    const consumer = new KafkaConsumer(
      {
        client,
        // JoinGroup is answered only when the rebalance completes: allow the whole rebalance timeout.
        groupPool: new ConnectionPool(base.clientId, {
          ...poolOptions,
          requestTimeout: (settings.rebalanceTimeoutMs ?? 300_000) + 5000,
        }),
        fetchPool: new ConnectionPool(base.clientId, {
          ...poolOptions,
          requestTimeout: (base.requestTimeout ?? 30_000) + (settings.fetchMaxWaitMs ?? 500),
        }),
        coordinatorPool: new ConnectionPool(base.clientId, poolOptions),
        bootstrap: this.#options.bootstrapServers,
        listTopics: () => this.listTopics(),
      },
      options,
      settings,
    )
    return this.#track(consumer)
  }

  #track<T extends { close(): Promise<void> }>(client: T): T {
    const close = client.close.bind(client)
    client.close = async () => {
      this.#clients.delete(client)
      await close()
    }
    this.#clients.add(client)
    return client
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#clients].map((c) => c.close()))
    await this.#admin.close()
  }

  async #waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const timeout = this.#options.topicChangeTimeoutMs ?? 30_000
    const deadline = Date.now() + timeout
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      if (await check()) return
      if (Date.now() > deadline) {
        throw new ConnectError('TIMEOUT', `timed out after ${timeout} ms waiting for ${what}`)
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}

/**
 * The transactional producer's retry delay (transactions v1; under v2 the broker adds the partitions
 * and retries this itself). The first AddPartitionsToTxn of a transaction begun right
 * after the previous one's EndTxn meets CONCURRENT_TRANSACTIONS while the coordinator still writes the
 * previous transaction's markers, which takes milliseconds: Java's `TransactionManager` retries it
 * after 20 ms (`ADD_PARTITIONS_RETRY_BACKOFF_MS`) instead of `retry.backoff.ms`. Here the first retry
 * waits 20 ms and later ones the usual delay, so the client's few retries still span about the usual
 * time. With the usual delay for every retry, about one transaction in eight paid 250 ms on the test
 * broker.
 */
export function transactionRetryDelay(delayMs: number) {
  return (_client: unknown, operationId: string, attempt: number, _retries: number, error: Error): number =>
    attempt === 1 &&
    operationId === 'addPartitionsToTransaction' &&
    hasProtocolError(error, 'CONCURRENT_TRANSACTIONS')
      ? Math.min(delayMs, 20)
      : delayMs
}
