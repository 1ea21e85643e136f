import { lazyModule, type PluginDescriptor } from '../../../api/plugin.ts'
import { JDBC_SINK_VERSION } from './version.ts'

const connectors = lazyModule<typeof import('./connectors.ts')>(import.meta.url, './connectors.ts')

/** The JDBC sink, under Confluent's and Debezium's class names. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.confluent.connect.jdbc.JdbcSinkConnector',
    type: 'sink',
    version: JDBC_SINK_VERSION,
    create: () => new (connectors().JdbcSinkConnector)(),
  },
  {
    className: 'io.debezium.connector.jdbc.JdbcSinkConnector',
    type: 'sink',
    version: JDBC_SINK_VERSION,
    create: () => new (connectors().DebeziumJdbcSinkConnector)(),
  },
]
