/**
 * Kafka's `TimestampRouter`: the topic becomes `topic.format` with `${topic}` and `${timestamp}`
 * (the record timestamp formatted with `timestamp.format`, SimpleDateFormat in UTC) filled in.
 * A record without a timestamp is an error.
 */
import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { ConfigError } from '../api/errors.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { SimpleDateFormat } from './simple-date-format.ts'
import { TransformDataError } from './transform-support.ts'

export const TIMESTAMP_ROUTER_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'topic.format',
    type: 'STRING',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka/Debezium placeholder syntax, not a template
    defaultValue: '${topic}-${timestamp}',
    importance: 'HIGH',
    documentation:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka/Debezium placeholder syntax, not a template
      'Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively.',
  })
  .define({
    name: 'timestamp.format',
    type: 'STRING',
    defaultValue: 'yyyyMMdd',
    importance: 'HIGH',
    documentation:
      'Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.',
  })

export class TimestampRouter implements Transformation {
  #topicFormat = ''
  #format = new SimpleDateFormat('yyyyMMdd')

  configure(props: Props): void {
    const config = TIMESTAMP_ROUTER_CONFIG_DEF.parse(props)
    this.#topicFormat = config['topic.format'] as string
    try {
      this.#format = new SimpleDateFormat(config['timestamp.format'] as string)
    } catch (error) {
      throw new ConfigError(
        'timestamp.format',
        `Invalid value ${String(config['timestamp.format'])} for configuration timestamp.format: ${(error as Error).message}`,
      )
    }
  }

  config(): ConfigDef {
    return TIMESTAMP_ROUTER_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    if (record.timestamp === null) {
      throw new TransformDataError('TimestampRouter', record, 'Timestamp missing on record')
    }
    const timestamp = this.#format.format(new Date(record.timestamp))
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka/Debezium placeholder syntax, not a template
    const topic = this.#topicFormat.replaceAll('${topic}', record.topic).replaceAll('${timestamp}', timestamp)
    return record.newRecord({ topic })
  }
}
