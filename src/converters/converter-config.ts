/**
 * The config every converter shares (Kafka's `ConverterConfig`): `converter.type`, which the worker
 * sets to `key`, `value` or `header` depending on where the converter is used.
 */
import { ConfigDef, ValidString } from '../api/config-def.ts'

export const CONVERTER_TYPE_CONFIG = 'converter.type'

export type ConverterType = 'key' | 'value' | 'header'

/** A fresh ConfigDef holding only `converter.type`, for a converter to add its own keys to. */
export function newConverterConfigDef(): ConfigDef {
  return new ConfigDef().define({
    name: CONVERTER_TYPE_CONFIG,
    type: 'STRING',
    importance: 'LOW',
    documentation: 'How this converter will be used.',
    validator: ValidString.in('key', 'value', 'header'),
  })
}

/**
 * The configs a converter's `configure(configs, isKey)` parses: as Kafka's converters do, a
 * key/value converter gets `converter.type` from `isKey`; a header converter must be given it.
 */
export function withConverterType(
  configs: Readonly<Record<string, string>>,
  isKey: boolean | undefined,
): Readonly<Record<string, string>> {
  return isKey === undefined ? configs : { ...configs, [CONVERTER_TYPE_CONFIG]: isKey ? 'key' : 'value' }
}
