/** Kafka's `TopicNameMatches`: true for records whose whole topic name matches `pattern`. */
import { allOf, ConfigDef, NonEmptyString } from '../../api/config-def.ts'
import type { Props } from '../../api/connector.ts'
import { compileJavaRegex, type JavaPattern } from '../../api/java-regex.ts'
import type { ConnectRecord } from '../../api/records.ts'
import type { Predicate } from '../../api/transformation.ts'
import { validRegex } from '../config-validators.ts'

export const TOPIC_NAME_MATCHES_CONFIG_DEF = new ConfigDef().define({
  name: 'pattern',
  type: 'STRING',
  validator: allOf(NonEmptyString, validRegex),
  importance: 'MEDIUM',
  documentation: "A Java regular expression for matching against the name of a record's topic.",
})

export class TopicNameMatches implements Predicate {
  #pattern: JavaPattern | undefined

  configure(props: Props): void {
    this.#pattern = compileJavaRegex(TOPIC_NAME_MATCHES_CONFIG_DEF.parse(props).pattern as string)
  }

  config(): ConfigDef {
    return TOPIC_NAME_MATCHES_CONFIG_DEF
  }

  test(record: ConnectRecord): boolean {
    return record.topic !== null && this.#pattern!.whole.test(record.topic)
  }

  toString(): string {
    return `TopicNameMatches{pattern=${this.#pattern?.source}}`
  }
}
