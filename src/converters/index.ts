/**
 * The converters Sluice ships, under the Java class names Kafka Connect configs use
 * (`value.converter=org.apache.kafka.connect.json.JsonConverter`) and their short names. A class
 * that is both a Converter and a HeaderConverter in Kafka is listed once per role, as
 * `GET /connector-plugins?connectorsOnly=false` lists it. The plugin registry consumes this list.
 */
import type { Converter, HeaderConverter } from '../api/converter.ts'
import { lazyModule, type PluginDescriptor } from '../api/plugin.ts'
import { ByteArrayConverter } from './byte-array-converter.ts'
import { JsonConverter } from './json-converter.ts'
import {
  BooleanConverter,
  DoubleConverter,
  FloatConverter,
  IntegerConverter,
  LongConverter,
  ShortConverter,
} from './number-converters.ts'
import { SimpleHeaderConverter } from './simple-header-converter.ts'
import { StringConverter } from './string-converter.ts'

// The schema registry's converters (with Avro, JSON Schema and the registry client) load when first used.
const avro = lazyModule<typeof import('./avro-converter.ts')>(import.meta.url, './avro-converter.ts')
const jsonSchema = lazyModule<typeof import('./json-schema-converter.ts')>(
  import.meta.url,
  './json-schema-converter.ts',
)

export const CONVERTERS_VERSION = '0.1.0'

export type ConverterKind = 'converter' | 'header_converter'

export interface BuiltInConverter extends PluginDescriptor<Converter | HeaderConverter> {
  readonly kind: ConverterKind
  readonly type: ConverterKind
}

type Factory = () => Converter | HeaderConverter

function entries(className: string, kinds: readonly ConverterKind[], create: Factory): BuiltInConverter[] {
  const simpleName = className.slice(className.lastIndexOf('.') + 1)
  return kinds.map((kind) =>
    Object.freeze({
      className,
      kind,
      type: kind,
      version: CONVERTERS_VERSION,
      aliases: [simpleName],
      create,
    }),
  )
}

const BOTH: readonly ConverterKind[] = ['converter', 'header_converter']

export const builtInConverters: readonly BuiltInConverter[] = Object.freeze([
  ...entries('org.apache.kafka.connect.json.JsonConverter', BOTH, () => new JsonConverter()),
  ...entries('org.apache.kafka.connect.storage.StringConverter', BOTH, () => new StringConverter()),
  ...entries('org.apache.kafka.connect.converters.ByteArrayConverter', BOTH, () => new ByteArrayConverter()),
  ...entries(
    'org.apache.kafka.connect.storage.SimpleHeaderConverter',
    ['header_converter'],
    () => new SimpleHeaderConverter(),
  ),
  ...entries('org.apache.kafka.connect.converters.BooleanConverter', BOTH, () => new BooleanConverter()),
  ...entries('org.apache.kafka.connect.converters.ShortConverter', BOTH, () => new ShortConverter()),
  ...entries('org.apache.kafka.connect.converters.IntegerConverter', BOTH, () => new IntegerConverter()),
  ...entries('org.apache.kafka.connect.converters.LongConverter', BOTH, () => new LongConverter()),
  ...entries('org.apache.kafka.connect.converters.FloatConverter', BOTH, () => new FloatConverter()),
  ...entries('org.apache.kafka.connect.converters.DoubleConverter', BOTH, () => new DoubleConverter()),
  ...entries('io.confluent.connect.avro.AvroConverter', BOTH, () => new (avro().AvroConverter)()),
  ...entries(
    'io.confluent.connect.json.JsonSchemaConverter',
    BOTH,
    () => new (jsonSchema().JsonSchemaConverter)(),
  ),
])

/** The built-in converter of this kind known by a class name or short alias. */
export function findBuiltInConverter(name: string, kind: ConverterKind): BuiltInConverter | undefined {
  const wanted = name.trim()
  return builtInConverters.find(
    (c) => c.kind === kind && (c.className === wanted || c.aliases?.includes(wanted)),
  )
}
