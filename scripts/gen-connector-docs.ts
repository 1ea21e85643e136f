/**
 * Writes one reference page per connector, docs/reference/<page>.md, from the connector's ConfigDef
 * (keys grouped by their ConfigDef group, in declaration order) and the prose the connector keeps
 * next to its code, so the reference never drifts from the code.
 *
 *   node scripts/gen-connector-docs.ts            # write every page
 *   node scripts/gen-connector-docs.ts --check    # fail when a committed page is out of date
 *
 * To document another connector, add an entry to `pages` (its plugin descriptor, the page name, and
 * its Markdown prose with a `{{config}}` marker where the keys table goes). test/docs/connector-docs.test.ts
 * checks every page against the code and that every built-in connector has one.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConfigDef } from '../src/api/config-def.ts'
import type { Connector } from '../src/api/connector.ts'
import type { PluginDescriptor } from '../src/api/plugin.ts'
import { FILE_SINK_DOC, FILE_SOURCE_DOC } from '../src/connectors/file/doc.ts'
import { plugins as fileConnectors } from '../src/connectors/file/index.ts'
import { JDBC_SINK_DOC } from '../src/connectors/jdbc/sink/doc.ts'
import { plugins as jdbcSink } from '../src/connectors/jdbc/sink/index.ts'
import { JDBC_SOURCE_DOC } from '../src/connectors/jdbc/source/doc.ts'
import { plugins as jdbcSource } from '../src/connectors/jdbc/source/index.ts'
import { MONGODB_SINK_DOC, MONGODB_SOURCE_DOC } from '../src/connectors/mongodb/doc.ts'
import { plugins as mongodb } from '../src/connectors/mongodb/index.ts'
import { POSTGRES_CDC_DOC } from '../src/connectors/postgres-cdc/doc.ts'
import { plugins as postgresCdc } from '../src/connectors/postgres-cdc/index.ts'
import { S3_SINK_DOC } from '../src/connectors/s3/doc.ts'
import { plugins as s3Sink } from '../src/connectors/s3/index.ts'
import { AVRO_CONVERTER_DOC } from '../src/converters/avro-converter-doc.ts'
import { findBuiltInConverter } from '../src/converters/index.ts'
import { JSON_SCHEMA_CONVERTER_DOC } from '../src/converters/json-schema-converter-doc.ts'

export interface ConnectorPage {
  /** File name under docs/reference, without `.md`. */
  page: string
  plugin: PluginDescriptor
  /** Other connectors documented on the same page (e.g. two flavours of one implementation). */
  also?: PluginDescriptor[]
  /**
   * The page's Markdown: `{{className}}` becomes the plugin's class, `{{config}}` its generated keys,
   * `{{config:<class name>}}` the keys of that plugin (`plugin` or one of `also`).
   */
  prose: string
}

function plugin(list: PluginDescriptor[], className: string): PluginDescriptor {
  const found = list.find((p) => p.className === className)
  if (!found) throw new Error(`no plugin ${className}`)
  return found
}

export const pages: ConnectorPage[] = [
  {
    page: 'filestream-source',
    plugin: plugin(fileConnectors, 'org.apache.kafka.connect.file.FileStreamSourceConnector'),
    prose: FILE_SOURCE_DOC,
  },
  {
    page: 'filestream-sink',
    plugin: plugin(fileConnectors, 'org.apache.kafka.connect.file.FileStreamSinkConnector'),
    prose: FILE_SINK_DOC,
  },
  {
    page: 'jdbc-source',
    plugin: plugin(jdbcSource, 'io.confluent.connect.jdbc.JdbcSourceConnector'),
    prose: JDBC_SOURCE_DOC,
  },
  {
    page: 'jdbc-sink',
    plugin: plugin(jdbcSink, 'io.confluent.connect.jdbc.JdbcSinkConnector'),
    also: [plugin(jdbcSink, 'io.debezium.connector.jdbc.JdbcSinkConnector')],
    prose: JDBC_SINK_DOC,
  },
  {
    page: 'postgres-cdc',
    plugin: plugin(postgresCdc, 'io.debezium.connector.postgresql.PostgresConnector'),
    prose: POSTGRES_CDC_DOC,
  },
  {
    page: 'mongodb-sink',
    plugin: plugin(mongodb, 'com.mongodb.kafka.connect.MongoSinkConnector'),
    prose: MONGODB_SINK_DOC,
  },
  {
    page: 'mongodb-source',
    plugin: plugin(mongodb, 'com.mongodb.kafka.connect.MongoSourceConnector'),
    prose: MONGODB_SOURCE_DOC,
  },
  {
    page: 's3-sink',
    plugin: plugin(s3Sink, 'io.confluent.connect.s3.S3SinkConnector'),
    prose: S3_SINK_DOC,
  },
  {
    page: 'avro-converter',
    plugin: findBuiltInConverter('io.confluent.connect.avro.AvroConverter', 'converter')!,
    prose: AVRO_CONVERTER_DOC,
  },
  {
    page: 'json-schema-converter',
    plugin: findBuiltInConverter('io.confluent.connect.json.JsonSchemaConverter', 'converter')!,
    prose: JSON_SCHEMA_CONVERTER_DOC,
  },
]

const referenceDir = join(import.meta.dirname, '..', 'docs', 'reference')

/** The keys of a ConfigDef as Markdown tables, one per group (ungrouped keys first). */
export function configTables(def: ConfigDef): string {
  const keys = def.configKeys().filter((k) => !k.internal)
  const groups = [...new Set(keys.map((k) => k.group ?? ''))]
  const parts: string[] = []
  for (const group of groups) {
    const members = keys.filter((k) => (k.group ?? '') === group).map((k) => k.name)
    const subset = def.without(...def.names().filter((n) => !members.includes(n)))
    if (group) parts.push(`### ${group}`, '')
    parts.push(subset.toMarkdown(), '')
  }
  return parts.join('\n').trimEnd()
}

export function connectorPage(page: ConnectorPage): string {
  const connector = page.plugin.create() as Connector
  const header = [
    `<!-- Generated by scripts/gen-connector-docs.ts from the connector's ConfigDef and ${page.page} prose; do not edit by hand. -->`,
    '',
  ].join('\n')
  const plugins = [page.plugin, ...(page.also ?? [])]
  const body = page.prose
    .replace('{{className}}', `\`${page.plugin.className}\``)
    .replace('{{config}}', configTables(connector.config()))
    .replace(/\{\{config:([^}]+)\}\}/g, (_, className: string) => {
      const other = plugins.find((p) => p.className === className)
      if (!other) throw new Error(`${page.page}: {{config:${className}}} names no plugin of the page`)
      return configTables((other.create() as Connector).config())
    })
  return `${header}\n${body.trim()}\n`
}

if (import.meta.main) {
  const check = process.argv.includes('--check')
  let stale = false
  for (const page of pages) {
    const target = join(referenceDir, `${page.page}.md`)
    const text = connectorPage(page)
    if (check) {
      let current = ''
      try {
        current = readFileSync(target, 'utf8')
      } catch {}
      if (current !== text) {
        console.error(`${target} is out of date: run node scripts/gen-connector-docs.ts`)
        stale = true
      }
    } else {
      writeFileSync(target, text)
      console.log(`wrote ${target}`)
    }
  }
  if (stale) process.exit(1)
}
