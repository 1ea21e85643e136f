/**
 * Kafka's `RegexRouter`: when the whole topic name matches `regex` (Java's `matches()`), the topic
 * becomes `replaceFirst(replacement)` — `$1`, `${name}` refer to groups. Other records pass.
 */
import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { compileJavaRegex, type JavaPattern, replaceIfMatches, replacementFor } from '../api/java-regex.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { validRegex } from './config-validators.ts'

export const REGEX_ROUTER_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'regex',
    type: 'STRING',
    validator: validRegex,
    importance: 'HIGH',
    documentation: 'Regular expression to use for matching.',
  })
  .define({ name: 'replacement', type: 'STRING', importance: 'HIGH', documentation: 'Replacement string.' })

const MAX_REMEMBERED_TOPICS = 1000

export class RegexRouter implements Transformation {
  #regex: JavaPattern = compileJavaRegex('')
  #replacement = ''
  readonly #routes = new Map<string, string | null>()

  configure(props: Props): void {
    const config = REGEX_ROUTER_CONFIG_DEF.parse(props)
    this.#regex = compileJavaRegex(config.regex as string)
    this.#replacement = replacementFor('replacement', config.replacement as string)
    this.#routes.clear()
  }

  config(): ConfigDef {
    return REGEX_ROUTER_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    // A pipeline has few topics and the mapping is pure: remember it rather than run two regexes per record.
    let topic = this.#routes.get(record.topic)
    if (topic === undefined) {
      topic = replaceIfMatches(this.#regex, this.#replacement, record.topic)
      if (this.#routes.size >= MAX_REMEMBERED_TOPICS) this.#routes.clear()
      this.#routes.set(record.topic, topic)
    }
    return topic === null ? record : record.newRecord({ topic })
  }
}
