/**
 * Kafka's `Filter`: drops every record. Meant to run under a predicate
 * (`transforms.<alias>.predicate`, optionally `negate`).
 */
import { ConfigDef } from '../api/config-def.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'

export const FILTER_CONFIG_DEF = new ConfigDef()

export class Filter implements Transformation {
  configure(): void {}

  config(): ConfigDef {
    return FILTER_CONFIG_DEF
  }

  apply(_record: ConnectRecord): null {
    return null
  }
}
