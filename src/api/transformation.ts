/**
 * Single message transforms and predicates (Java's `Transformation` and `Predicate`). A transform
 * gets each record after the source task (or before the sink task) and returns the changed record,
 * or null to drop it. Configured from `transforms.<alias>.*` keys with the prefix stripped.
 */
import type { ConfigDef } from './config-def.ts'
import type { Props } from './connector.ts'
import type { ConnectRecord } from './records.ts'

export interface Transformation<R extends ConnectRecord = ConnectRecord> {
  configure(props: Props): void
  apply(record: R): R | null
  config(): ConfigDef
  close?(): void
}

export interface Predicate<R extends ConnectRecord = ConnectRecord> {
  configure(props: Props): void
  test(record: R): boolean
  config(): ConfigDef
  close?(): void
}
