import type { ConfigDef, ConfigValue } from '../../../api/config-def.ts'
import { type Props, SinkConnector, type TaskClass } from '../../../api/connector.ts'
import { ConfigError } from '../../../api/errors.ts'
import { MONGODB_CONNECTOR_VERSION } from '../version.ts'
import { mongoSinkConfigDef, TOPIC_OVERRIDE_PREFIX } from './config.ts'
import { MongoSinkTask } from './sink-task.ts'
import { readTopicSettings } from './topic-settings.ts'

/** The topics whose settings can be checked up front: `topics` and every `topic.override.<topic>.*`. */
function knownTopics(props: Props): string[] {
  const topics = new Set(
    (props.topics ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  )
  const overridden = Object.keys(props)
    .filter((k) => k.startsWith(TOPIC_OVERRIDE_PREFIX))
    .map((k) => k.slice(TOPIC_OVERRIDE_PREFIX.length))
  // An override key is `<topic>.<key>`; topics may hold dots, so match the declared key names at the end.
  const names = mongoSinkConfigDef.names()
  for (const rest of overridden) {
    const key = names.find((n) => rest.endsWith(`.${n}`))
    if (key) topics.add(rest.slice(0, rest.length - key.length - 1))
  }
  if (topics.size === 0) topics.add('topic') // topics.regex: check the connector-wide keys
  return [...topics]
}

/** `com.mongodb.kafka.connect.MongoSinkConnector`: every task writes whatever partitions it is given. */
export class MongoSinkConnector extends SinkConnector {
  #props: Props = {}

  version(): string {
    return MONGODB_CONNECTOR_VERSION
  }
  config(): ConfigDef {
    return mongoSinkConfigDef
  }
  start(props: Props): void {
    for (const topic of knownTopics(props)) readTopicSettings(props, topic)
    this.#props = props
  }
  override validate(props: Props): ConfigValue[] {
    const values = mongoSinkConfigDef.validate(props)
    if (values.some((v) => v.errors.length > 0)) return values
    for (const topic of knownTopics(props)) {
      try {
        readTopicSettings(props, topic)
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error
        const name = error.key?.startsWith(TOPIC_OVERRIDE_PREFIX)
          ? error.key.slice(`${TOPIC_OVERRIDE_PREFIX}${topic}.`.length)
          : error.key
        const value = values.find((v) => v.name === name)
        if (value) value.errors.push(error.message)
        else
          values.push({
            name: error.key ?? 'topics',
            value: null,
            recommendedValues: [],
            errors: [error.message],
            visible: true,
          })
      }
    }
    return values
  }
  taskClass(): TaskClass<MongoSinkTask> {
    return MongoSinkTask
  }
  /** Offsets are only the consumer group's: any change is accepted. */
  override alterOffsets(): boolean {
    return true
  }
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => this.#props)
  }
  stop(): void {}
}
