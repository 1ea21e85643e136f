import { ConfigDef, NonEmptyString, Range, validator } from '../../api/config-def.ts'
import { workerPathProblem } from '../../api/worker-files.ts'

export const FILE_CONFIG = 'file'
export const TOPIC_CONFIG = 'topic'
export const BATCH_SIZE_CONFIG = 'batch.size'

/** Not the worker's own state (its data dir, offsets file): reading or appending to it breaks the worker. */
const outsideWorkerState = validator("a file outside the worker's data dir", (value) =>
  typeof value === 'string' && value !== '' ? workerPathProblem(value) : undefined,
)

/** Keys of Kafka's `FileStreamSourceConnector`, with its defaults. */
export const fileSourceConfigDef = new ConfigDef()
  .define({
    name: FILE_CONFIG,
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Source filename. If not specified, the standard input will be used.',
    validator: outsideWorkerState,
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
  validator: outsideWorkerState,
})
