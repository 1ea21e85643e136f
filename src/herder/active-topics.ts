/**
 * KIP-558: the topics each connector's tasks actually produced to (source) or consumed from (sink),
 * kept per connector until reset through `PUT /connectors/{c}/topics/reset` or the connector's
 * deletion. Kafka Connect records a topic in the status store the first time a task's record
 * reaches it (`WorkerTask.recordActiveTopic`); Sluice learns it at the same two points through the
 * `Log` seam (see `trackActiveTopics`), so task runners need no hook of their own.
 */
import type { Log, LogConsumer, LogProducer } from '../log/log.ts'

export class ActiveTopics {
  readonly #topics = new Map<string, Set<string>>()

  /** Cheap when the topic is known already: called once per produced or fetched batch. */
  record(connector: string, topic: string): void {
    let topics = this.#topics.get(connector)
    if (!topics) {
      topics = new Set()
      this.#topics.set(connector, topics)
    }
    topics.add(topic)
  }

  /** Sorted, as Kafka Connect's status store returns them. */
  topics(connector: string): string[] {
    return [...(this.#topics.get(connector) ?? [])].sort()
  }

  reset(connector: string): void {
    this.#topics.delete(connector)
  }
}

/** `connector-producer-<connector>-<task>`: the client id the worker gives a source task's producer. */
const SOURCE_PRODUCER = /^connector-producer-(.+)-\d+$/
/** `connect-<connector>`: a sink task's consumer group. */
const SINK_GROUP = /^connect-(.+)$/

/**
 * Wraps a log so that records a source task's producer wrote (once the log acknowledged them) and
 * records a sink task's consumer fetched are reported as active topics of their connector. The
 * dead-letter-queue producer is not a source task's and is not tracked, as in Kafka Connect.
 */
export function trackActiveTopics(log: Log, onActive: (connector: string, topic: string) => void): Log {
  return new Proxy(log, {
    get(target, property) {
      if (property === 'createProducer') {
        return (options: Parameters<Log['createProducer']>[0]): LogProducer => {
          const producer = target.createProducer(options)
          const connector = SOURCE_PRODUCER.exec(options.clientId)?.[1]
          if (connector === undefined) return producer
          return {
            async send(records) {
              const metadata = await producer.send(records)
              let last = ''
              for (const r of metadata) {
                if (r.topic !== last) onActive(connector, r.topic)
                last = r.topic
              }
              return metadata
            },
            close: () => producer.close(),
          }
        }
      }
      if (property === 'createConsumer') {
        return (options: Parameters<Log['createConsumer']>[0]): LogConsumer => {
          const consumer = target.createConsumer(options)
          const connector = options.clientId.startsWith('connector-consumer-')
            ? SINK_GROUP.exec(options.groupId)?.[1]
            : undefined
          if (connector === undefined) return consumer
          return new Proxy(consumer, {
            get(inner, name) {
              if (name === 'poll') {
                return async (maxWaitMs: number) => {
                  const records = await inner.poll(maxWaitMs)
                  let last = ''
                  for (const r of records) {
                    if (r.topic !== last) onActive(connector, r.topic)
                    last = r.topic
                  }
                  return records
                }
              }
              const value = Reflect.get(inner, name, inner) as unknown
              return typeof value === 'function' ? value.bind(inner) : value
            },
          })
        }
      }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
