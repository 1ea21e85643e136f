/** Kafka's `RecordIsTombstone`: true for records whose value is null. */
import { ConfigDef } from '../../api/config-def.ts'
import type { ConnectRecord } from '../../api/records.ts'
import type { Predicate } from '../../api/transformation.ts'

export const RECORD_IS_TOMBSTONE_CONFIG_DEF = new ConfigDef()

export class RecordIsTombstone implements Predicate {
  configure(): void {}

  config(): ConfigDef {
    return RECORD_IS_TOMBSTONE_CONFIG_DEF
  }

  test(record: ConnectRecord): boolean {
    return record.value === null || record.value === undefined
  }

  toString(): string {
    return 'RecordIsTombstone{}'
  }
}
