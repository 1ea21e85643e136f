/**
 * The framework's connector keys (Kafka Connect's `ConnectorConfig`, `SourceConnectorConfig`,
 * `SinkConnectorConfig`), shared by every connector and validated before a connector starts.
 */
import { ConfigDef, NonEmptyString, Range, ValidString, validator } from '../api/config-def.ts'
import { regexProblem } from '../api/java-regex.ts'

export const COMMON_GROUP = 'Common'
export const TRANSFORMS_GROUP = 'Transforms'
export const PREDICATES_GROUP = 'Predicates'
export const ERROR_GROUP = 'Error Handling'
export const TOPIC_CREATION_GROUP = 'Topic Creation'

function common(): ConfigDef {
  let order = 0
  return new ConfigDef()
    .define({
      name: 'name',
      type: 'STRING',
      importance: 'HIGH',
      documentation: 'Globally unique name to use for this connector.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'MEDIUM',
      displayName: 'Connector name',
      validator: validator('non-empty string without ISO control characters', (v) => {
        if (typeof v !== 'string' || v.trim() === '') return 'String may not be empty'
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the check is for control characters
        if (/[\u0000-\u001f\u007f-\u009f]/.test(v)) return 'String may not contain control sequences'
        return undefined
      }),
    })
    .define({
      name: 'connector.class',
      type: 'STRING',
      importance: 'HIGH',
      documentation:
        'Name or alias of the class for this connector, e.g. org.apache.kafka.connect.file.FileStreamSinkConnector, FileStreamSink or FileStreamSinkConnector.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'LONG',
      displayName: 'Connector class',
      validator: NonEmptyString,
    })
    .define({
      name: 'tasks.max',
      type: 'INT',
      defaultValue: 1,
      importance: 'HIGH',
      documentation: 'Maximum number of tasks to use for this connector.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'SHORT',
      displayName: 'Tasks max',
      validator: Range.atLeast(1),
    })
    .define({
      name: 'key.converter',
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      documentation:
        'Converter for record keys; overrides the worker setting. Its own keys take the key.converter. prefix.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'SHORT',
      displayName: 'Key converter class',
    })
    .define({
      name: 'value.converter',
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      documentation:
        'Converter for record values; overrides the worker setting. Its own keys take the value.converter. prefix.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'SHORT',
      displayName: 'Value converter class',
    })
    .define({
      name: 'header.converter',
      type: 'CLASS',
      defaultValue: null,
      importance: 'LOW',
      documentation: 'Converter for record headers; overrides the worker setting.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'SHORT',
      displayName: 'Header converter class',
    })
    .define({
      name: 'config.action.reload',
      type: 'STRING',
      defaultValue: 'restart',
      importance: 'LOW',
      documentation: 'What to do when a config provider reports a changed value: none or restart.',
      group: COMMON_GROUP,
      orderInGroup: ++order,
      width: 'MEDIUM',
      displayName: 'Reload Action',
      validator: ValidString.inIgnoringCase('none', 'restart'),
    })
    .define({
      name: 'transforms',
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'Aliases for the transformations to apply to records, in order.',
      group: TRANSFORMS_GROUP,
      orderInGroup: 1,
      width: 'LONG',
      displayName: 'Transforms',
    })
    .define({
      name: 'predicates',
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'Aliases for the predicates used by transformations.',
      group: PREDICATES_GROUP,
      orderInGroup: 1,
      width: 'LONG',
      displayName: 'Predicates',
    })
    .define({
      name: 'errors.retry.timeout',
      type: 'LONG',
      defaultValue: 0,
      importance: 'MEDIUM',
      documentation: 'Total time in ms a failed operation is retried; 0 = no retries, -1 = forever.',
      group: ERROR_GROUP,
      orderInGroup: 1,
      width: 'MEDIUM',
      displayName: 'Retry Timeout for Errors',
      validator: Range.atLeast(-1),
    })
    .define({
      name: 'errors.retry.delay.max.ms',
      type: 'LONG',
      defaultValue: 60000,
      importance: 'MEDIUM',
      documentation: 'The longest wait between retries of a failed operation.',
      group: ERROR_GROUP,
      orderInGroup: 2,
      width: 'MEDIUM',
      displayName: 'Maximum Delay Between Retries for Errors',
      validator: Range.atLeast(1),
    })
    .define({
      name: 'errors.tolerance',
      type: 'STRING',
      defaultValue: 'none',
      importance: 'MEDIUM',
      documentation:
        "'none' fails the task at the first error; 'all' skips problem records (and reports them).",
      group: ERROR_GROUP,
      orderInGroup: 3,
      width: 'SHORT',
      displayName: 'Error Tolerance',
      validator: ValidString.inIgnoringCase('none', 'all'),
    })
    .define({
      name: 'errors.log.enable',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation: 'Log each error with its context.',
      group: ERROR_GROUP,
      orderInGroup: 4,
      width: 'SHORT',
      displayName: 'Log Errors',
    })
    .define({
      name: 'errors.log.include.messages',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation: 'Include the failed record in the error log.',
      group: ERROR_GROUP,
      orderInGroup: 5,
      width: 'SHORT',
      displayName: 'Log Error Details',
    })
    .define({
      name: 'errors.deadletterqueue.topic.name',
      type: 'STRING',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation:
        'Topic for records that failed and were tolerated (errors.tolerance=all). Empty: no dead-letter queue.',
      group: ERROR_GROUP,
      orderInGroup: 6,
      width: 'MEDIUM',
      displayName: 'Dead Letter Queue Topic Name',
    })
    .define({
      name: 'errors.deadletterqueue.topic.replication.factor',
      type: 'SHORT',
      defaultValue: 3,
      importance: 'MEDIUM',
      documentation: 'Replication factor of the dead-letter topic when it is created.',
      group: ERROR_GROUP,
      orderInGroup: 7,
      width: 'MEDIUM',
      displayName: 'Dead Letter Queue Topic Replication Factor',
    })
    .define({
      name: 'errors.deadletterqueue.context.headers.enable',
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation: 'Add __connect.errors.* headers with the failure context to dead-letter records.',
      group: ERROR_GROUP,
      orderInGroup: 8,
      width: 'MEDIUM',
      displayName: 'Enable Error Context Headers',
    })
}

export const EXACTLY_ONCE_GROUP = 'Exactly Once Support'
export const OFFSETS_TOPIC_GROUP = 'offsets.topic'

/** The `transaction.boundary` values (Java's `TransactionBoundary`). */
export type TransactionBoundary = 'poll' | 'interval' | 'connector'

function exactlyOnceKeys(def: ConfigDef): ConfigDef {
  return def
    .define({
      name: 'exactly.once.support',
      type: 'STRING',
      defaultValue: 'requested',
      importance: 'MEDIUM',
      documentation:
        'Permitted values are requested, required. If set to "required", forces a preflight check for the connector ' +
        'to ensure that it can provide exactly-once semantics with the given configuration. Some connectors may be ' +
        'capable of providing exactly-once semantics but not signal to Connect that they support this; in that case, ' +
        'documentation for the connector should be consulted carefully before creating it, and the value for this ' +
        'property should be set to "requested". Additionally, if the value is set to "required" but the worker that ' +
        'performs preflight validation does not have exactly-once support enabled for source connectors, requests to ' +
        'create or validate the connector will fail.',
      validator: ValidString.in('requested', 'required'),
      group: EXACTLY_ONCE_GROUP,
      orderInGroup: 1,
      width: 'SHORT',
      displayName: 'Exactly once support',
    })
    .define({
      name: 'transaction.boundary',
      type: 'STRING',
      defaultValue: 'poll',
      importance: 'MEDIUM',
      documentation:
        "Permitted values are: poll, interval, connector. If set to 'poll', a new producer transaction will be " +
        'started and committed for every batch of records that each task from this connector provides to Connect. ' +
        "If set to 'connector', relies on connector-defined transaction boundaries; note that not all connectors are " +
        'capable of defining their own transaction boundaries, and in that case, attempts to instantiate a connector ' +
        "with this value will fail. Finally, if set to 'interval', commits transactions only after a user-defined time " +
        'interval has passed.',
      validator: ValidString.in('poll', 'interval', 'connector'),
      group: EXACTLY_ONCE_GROUP,
      orderInGroup: 2,
      width: 'SHORT',
      displayName: 'Transaction Boundary',
    })
    .define({
      name: 'transaction.boundary.interval.ms',
      type: 'LONG',
      defaultValue: null,
      importance: 'LOW',
      documentation:
        "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by " +
        "connector tasks. If unset, defaults to the value of the worker-level 'offset.flush.interval.ms' property. It " +
        'has no effect if a different transaction.boundary is specified.',
      validator: Range.atLeast(0),
      group: EXACTLY_ONCE_GROUP,
      orderInGroup: 3,
      width: 'SHORT',
      displayName: 'Transaction boundary interval',
    })
    .define({
      name: 'offsets.storage.topic',
      type: 'STRING',
      defaultValue: null,
      importance: 'LOW',
      documentation:
        "The name of a separate offsets topic to use for this connector. If empty or not specified, the worker's " +
        'global offsets topic name will be used. Only applicable in distributed mode; in standalone mode, setting ' +
        'this property will have no effect.',
      group: OFFSETS_TOPIC_GROUP,
      orderInGroup: 1,
      width: 'LONG',
      displayName: 'Offsets topic',
    })
}

const sourceBaseConfigDef: ConfigDef = common()
  .define({
    name: 'topic.creation.groups',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation: 'Groups of topic-creation settings beyond the default group (KIP-158).',
    group: TOPIC_CREATION_GROUP,
    orderInGroup: 1,
    width: 'LONG',
    displayName: 'Topic Creation Groups',
  })
  .define({
    name: 'topic.creation.default.replication.factor',
    type: 'SHORT',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'Replication factor of topics this connector creates; -1 for the broker default. Setting it (with partitions) turns topic creation on.',
    group: TOPIC_CREATION_GROUP,
    orderInGroup: 2,
    width: 'SHORT',
    displayName: 'Default replication factor',
  })
  .define({
    name: 'topic.creation.default.partitions',
    type: 'INT',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Partition count of topics this connector creates; -1 for the broker default.',
    group: TOPIC_CREATION_GROUP,
    orderInGroup: 3,
    width: 'SHORT',
    displayName: 'Default partitions',
  })

/** Source keys in Java's group order: topic creation, then exactly-once, then the offsets topic. */
export const sourceConnectorConfigDef: ConfigDef = exactlyOnceKeys(sourceBaseConfigDef)

export const sinkConnectorConfigDef: ConfigDef = common()
  .define({
    name: 'topics',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    documentation: 'Topics to consume. Set exactly one of topics and topics.regex.',
    group: COMMON_GROUP,
    orderInGroup: 4,
    width: 'LONG',
    displayName: 'Topics',
  })
  .define({
    name: 'topics.regex',
    type: 'STRING',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'A regular expression of the topics to consume. Set exactly one of topics and topics.regex.',
    group: COMMON_GROUP,
    orderInGroup: 4,
    width: 'LONG',
    displayName: 'Topics regex',
    // A Java regex (Pattern.compile in Kafka Connect's SinkConnectorConfig), translated.
    validator: validator('valid regex', (v) => (v ? regexProblem(v) : undefined)),
  })

/**
 * Sink topic selection: exactly one of `topics` and `topics.regex`, as Kafka Connect requires.
 * Returns the error messages by key.
 */
export function sinkTopicErrors(props: Readonly<Record<string, string>>): Record<string, string> {
  const topics = (props.topics ?? '').trim()
  const regex = (props['topics.regex'] ?? '').trim()
  if (topics && regex) {
    const why = 'topics and topics.regex are mutually exclusive options, but both are set: keep one of them.'
    return { topics: why, 'topics.regex': why }
  }
  if (!topics && !regex) {
    const why = 'Must configure one of topics or topics.regex'
    return { topics: why, 'topics.regex': why }
  }
  return {}
}
