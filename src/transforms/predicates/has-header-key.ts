/** Kafka's `HasHeaderKey`: true for records with at least one header named `name`. */
import { ConfigDef, NonEmptyString } from '../../api/config-def.ts'
import type { Props } from '../../api/connector.ts'
import type { ConnectRecord } from '../../api/records.ts'
import type { Predicate } from '../../api/transformation.ts'

export const HAS_HEADER_KEY_CONFIG_DEF = new ConfigDef().define({
  name: 'name',
  type: 'STRING',
  validator: NonEmptyString,
  importance: 'MEDIUM',
  documentation: 'The header name.',
})

export class HasHeaderKey implements Predicate {
  #name = ''

  configure(props: Props): void {
    this.#name = HAS_HEADER_KEY_CONFIG_DEF.parse(props).name as string
  }

  config(): ConfigDef {
    return HAS_HEADER_KEY_CONFIG_DEF
  }

  test(record: ConnectRecord): boolean {
    return record.headers.lastWithName(this.#name) !== undefined
  }

  toString(): string {
    return `HasHeaderKey{name='${this.#name}'}`
  }
}
