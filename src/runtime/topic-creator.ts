import type { Props } from '../api/connector.ts'
import { errorMessage } from '../api/errors.ts'
import type { Logger } from '../common/logger.ts'
import type { Log } from '../log/log.ts'

/**
 * Creates a source connector's topics before its first record goes out, when it may
 * (Kafka Connect's `TopicCreation`, KIP-158): with `topic.creation.default.partitions` and
 * `.replication.factor` set, or always on the embedded log (one partition), which has no broker
 * auto-creation to fall back on. On Kafka without those settings the broker's own
 * `auto.create.topics.enable` decides, as with Kafka Connect.
 */
export class TopicCreator {
  readonly #log: Log
  readonly #logger: Logger
  readonly #partitions: number | null
  readonly #replicationFactor: number | null
  readonly #known = new Set<string>()
  readonly #pending = new Map<string, Promise<void>>()

  constructor(log: Log, props: Props, enabled: boolean, logger: Logger) {
    this.#log = log
    this.#logger = logger
    const partitions = props['topic.creation.default.partitions']
    const rf = props['topic.creation.default.replication.factor']
    const configured = enabled && partitions !== undefined && rf !== undefined
    this.#partitions = configured ? Number(partitions) : log.kind === 'embedded' ? 1 : null
    this.#replicationFactor = configured ? Number(rf) : null
  }

  /** Undefined when the topic is known to exist (the fast path for every record). */
  ensure(topic: string): Promise<void> | undefined {
    if (this.#known.has(topic) || this.#partitions === null) return undefined
    let pending = this.#pending.get(topic)
    if (!pending) {
      pending = this.#create(topic).finally(() => this.#pending.delete(topic))
      this.#pending.set(topic, pending)
    }
    return pending
  }

  async #create(topic: string): Promise<void> {
    const existing = await this.#log.describeTopics([topic])
    if (!existing.has(topic)) {
      try {
        await this.#log.createTopics([
          { name: topic, partitions: this.#partitions!, replicationFactor: this.#replicationFactor ?? -1 },
        ])
        this.#logger.info(`created topic ${topic} with ${this.#partitions} partition(s)`)
      } catch (error) {
        this.#logger.warn(`could not create topic ${topic}: ${errorMessage(error)}`)
        throw error
      }
    }
    this.#known.add(topic)
  }
}
