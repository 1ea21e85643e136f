import { ConfigDef, NonEmptyString, Range } from '../../api/config-def.ts'

export const FILE_CONFIG = 'file'
export const TOPIC_CONFIG = 'topic'
export const BATCH_SIZE_CONFIG = 'batch.size'

/** Keys of Kafka's `FileStreamSourceConnector`, with its defaults. */
export const fileSourceConfigDef = new ConfigDef()
  .define({
    name: FILE_CONFIG,
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Source filename. If not specified, the standard input will be used.',
  })
  .define({
    name: TOPIC_CONFIG,
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The topic to publish data to.',
    validator: NonEmptyString,
  })
  .define({
    name: BATCH_SIZE_CONFIG,
    type: 'INT',
    defaultValue: 2000,
    importance: 'LOW',
    documentation:
      'The maximum number of records the source task can read from the file each time it is polled.',
    validator: Range.atLeast(1),
  })

/** Keys of Kafka's `FileStreamSinkConnector` (`topics`/`topics.regex` are the framework's). */
export const fileSinkConfigDef = new ConfigDef().define({
  name: FILE_CONFIG,
  type: 'STRING',
  defaultValue: null,
  importance: 'HIGH',
  documentation: 'Destination filename. If not specified, the standard output will be used.',
})
