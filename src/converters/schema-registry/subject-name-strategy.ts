/**
 * Confluent's subject name strategies (`key.subject.name.strategy`, `value.subject.name.strategy`),
 * by their Java class names (`io.confluent.kafka.serializers.subject.*`) or simple names:
 *
 * - `TopicNameStrategy` (the default here): `<topic>-key` / `<topic>-value`;
 * - `RecordNameStrategy`: the record's full name (for a non-record schema, its type name);
 * - `TopicRecordNameStrategy`: `<topic>-<record full name>`;
 * - `AssociatedNameStrategy` (Confluent's newest default) asks the registry for a subject
 *   associated with the topic and falls back to the topic name; Sluice applies that fallback
 *   directly (registries without associations, such as Apicurio, answer 404 there anyway).
 */
import { ConfigError } from '../../api/errors.ts'

export type SubjectNameStrategy = (topic: string, isKey: boolean, recordName: string) => string

const PACKAGE = 'io.confluent.kafka.serializers.subject.'

const topicName: SubjectNameStrategy = (topic, isKey) => `${topic}-${isKey ? 'key' : 'value'}`
const recordName: SubjectNameStrategy = (_topic, _isKey, record) => record
const topicRecordName: SubjectNameStrategy = (topic, _isKey, record) => `${topic}-${record}`

const STRATEGIES: Record<string, SubjectNameStrategy> = {
  TopicNameStrategy: topicName,
  RecordNameStrategy: recordName,
  TopicRecordNameStrategy: topicRecordName,
  AssociatedNameStrategy: topicName,
}

export const DEFAULT_SUBJECT_NAME_STRATEGY = `${PACKAGE}TopicNameStrategy`

/** The strategy a class name names; a ConfigError naming `key` and the known classes otherwise. */
export function subjectNameStrategy(className: string, key: string): SubjectNameStrategy {
  const name = className.trim()
  const simple = name.startsWith(PACKAGE) ? name.slice(PACKAGE.length) : name.includes('.') ? undefined : name
  const strategy = simple === undefined ? undefined : STRATEGIES[simple]
  if (strategy === undefined) {
    throw new ConfigError(
      key,
      `Invalid value ${className} for configuration ${key}: unknown subject name strategy; use one of ${Object.keys(
        STRATEGIES,
      )
        .map((s) => PACKAGE + s)
        .join(', ')}`,
    )
  }
  return strategy
}
