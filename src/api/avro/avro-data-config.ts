/**
 * The options of the Connect ↔ Avro mapping (Confluent's `AvroDataConfig`) and the names and
 * properties it writes into Avro schemas (the constants of Confluent's `AvroData`).
 */
import { ConfigDef } from '../config-def.ts'

export const NAMESPACE = 'io.confluent.connect.avro'
export const DEFAULT_SCHEMA_NAME = 'ConnectDefault'
export const DEFAULT_SCHEMA_FULL_NAME = `${NAMESPACE}.${DEFAULT_SCHEMA_NAME}`
export const MAP_ENTRY_TYPE_NAME = 'MapEntry'
export const KEY_FIELD = 'key'
export const VALUE_FIELD = 'value'

export const CONNECT_NAME_PROP = 'connect.name'
export const CONNECT_DOC_PROP = 'connect.doc'
export const CONNECT_RECORD_DOC_PROP = `${NAMESPACE}.record.doc`
export const AVRO_FIELD_DOC_PREFIX_PROP = `${NAMESPACE}.field.doc.`
/** Marks a Connect default that came from an Avro field default (not from `connect.default`). */
export const AVRO_FIELD_DEFAULT_FLAG_PROP = `${NAMESPACE}.field.default`
export const CONNECT_ENUM_DOC_PROP = `${NAMESPACE}.enum.doc`
export const AVRO_ENUM_DOC_PREFIX_PROP = `${NAMESPACE}.enum.doc.`
export const AVRO_ENUM_DEFAULT_PREFIX_PROP = `${NAMESPACE}.enum.default.`
export const CONNECT_VERSION_PROP = 'connect.version'
export const CONNECT_DEFAULT_VALUE_PROP = 'connect.default'
export const CONNECT_PARAMETERS_PROP = 'connect.parameters'
export const CONNECT_INTERNAL_TYPE_NAME = 'connect.internal.type'
export const CONNECT_TYPE_PROP = 'connect.type'
export const CONNECT_TYPE_INT8 = 'int8'
export const CONNECT_TYPE_INT16 = 'int16'
export const AVRO_TYPE_UNION = `${NAMESPACE}.Union`
export const AVRO_TYPE_ENUM = `${NAMESPACE}.Enum`
export const GENERALIZED_TYPE_UNION = 'org.apache.kafka.connect.data.Union'
export const GENERALIZED_TYPE_UNION_PREFIX = 'connect_union_'
export const GENERALIZED_TYPE_UNION_FIELD_PREFIX = `${GENERALIZED_TYPE_UNION}.field.`
export const GENERALIZED_TYPE_ENUM = 'org.apache.kafka.connect.data.Enum'
export const CONNECT_AVRO_FIXED_SIZE_PROP = 'connect.fixed.size'
export const CONNECT_AVRO_DECIMAL_PRECISION_PROP = 'connect.decimal.precision'
export const CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT = 64
export const AVRO_LOGICAL_TYPE_PROP = 'logicalType'
export const AVRO_LOGICAL_TIMESTAMP_MILLIS = 'timestamp-millis'
export const AVRO_LOGICAL_TIME_MILLIS = 'time-millis'
export const AVRO_LOGICAL_DATE = 'date'
export const AVRO_LOGICAL_DECIMAL = 'decimal'
export const AVRO_LOGICAL_DECIMAL_SCALE_PROP = 'scale'
export const AVRO_LOGICAL_DECIMAL_PRECISION_PROP = 'precision'
/** Connect parameters whose key starts with this are copied as raw Avro properties, and back. */
export const AVRO_PROP = 'avro'

export const ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG = 'enhanced.avro.schema.support'
export const CONNECT_META_DATA_CONFIG = 'connect.meta.data'
export const SCHEMAS_CACHE_SIZE_CONFIG = 'schemas.cache.config'
export const GENERALIZED_SUM_TYPE_SUPPORT_CONFIG = 'generalized.sum.type.support'
export const ALLOW_OPTIONAL_MAP_KEYS_CONFIG = 'allow.optional.map.keys'
export const IGNORE_DEFAULT_FOR_NULLABLES_CONFIG = 'ignore.default.for.nullables'

export interface AvroDataOptions {
  /** Avro enums ↔ Connect strings with enum parameters, package names kept. @default false */
  enhancedAvroSchemaSupport?: boolean
  /** Write and read the `connect.*` properties. @default true */
  connectMetaData?: boolean
  /** Size of each schema cache. @default 1000 */
  schemasCacheSize?: number
  /** Enums and unions as `org.apache.kafka.connect.data.Enum`/`Union` parameters. @default false */
  generalizedSumTypeSupport?: boolean
  /** Optional string map keys still map to an Avro map. @default false */
  allowOptionalMapKeys?: boolean
  /** A null optional field stays null instead of taking its schema's default. @default false */
  ignoreDefaultForNullables?: boolean
}

export type ResolvedAvroDataOptions = Required<AvroDataOptions>

export function resolveAvroDataOptions(options: AvroDataOptions = {}): ResolvedAvroDataOptions {
  return {
    enhancedAvroSchemaSupport: options.enhancedAvroSchemaSupport ?? false,
    connectMetaData: options.connectMetaData ?? true,
    schemasCacheSize: options.schemasCacheSize ?? 1000,
    generalizedSumTypeSupport: options.generalizedSumTypeSupport ?? false,
    allowOptionalMapKeys: options.allowOptionalMapKeys ?? false,
    ignoreDefaultForNullables: options.ignoreDefaultForNullables ?? false,
  }
}

/** `AvroDataConfig`'s keys, for converters and connectors that expose them. */
export function defineAvroDataConfig(def: ConfigDef = new ConfigDef()): ConfigDef {
  return def
    .define({
      name: ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      documentation:
        'Enable enhanced schema support to preserve package information and Enums. Introduced in Confluent Platform 5.5.',
    })
    .define({
      name: CONNECT_META_DATA_CONFIG,
      type: 'BOOLEAN',
      defaultValue: true,
      importance: 'LOW',
      documentation: 'Allow the Connect converter to add its metadata to the output schema.',
    })
    .define({
      name: SCHEMAS_CACHE_SIZE_CONFIG,
      type: 'INT',
      defaultValue: 1000,
      importance: 'LOW',
      documentation: 'Size of the converted schemas cache',
    })
    .define({
      name: GENERALIZED_SUM_TYPE_SUPPORT_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      documentation:
        'Whether to use the generalized sum type support: Avro enums and unions as Connect schemas with the org.apache.kafka.connect.data.Enum and org.apache.kafka.connect.data.Union parameters.',
    })
    .define({
      name: ALLOW_OPTIONAL_MAP_KEYS_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      documentation: 'Allow optional string map key when converting from Connect Schema to Avro Schema.',
    })
    .define({
      name: IGNORE_DEFAULT_FOR_NULLABLES_CONFIG,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'LOW',
      documentation: 'Whether to ignore the default for nullable fields when the value is null',
    })
}

/** The options from parsed `defineAvroDataConfig` keys. */
export function avroDataOptionsFrom(parsed: Readonly<Record<string, unknown>>): AvroDataOptions {
  return {
    enhancedAvroSchemaSupport: parsed[ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG] as boolean,
    connectMetaData: parsed[CONNECT_META_DATA_CONFIG] as boolean,
    schemasCacheSize: parsed[SCHEMAS_CACHE_SIZE_CONFIG] as number,
    generalizedSumTypeSupport: parsed[GENERALIZED_SUM_TYPE_SUPPORT_CONFIG] as boolean,
    allowOptionalMapKeys: parsed[ALLOW_OPTIONAL_MAP_KEYS_CONFIG] as boolean,
    ignoreDefaultForNullables: parsed[IGNORE_DEFAULT_FOR_NULLABLES_CONFIG] as boolean,
  }
}
