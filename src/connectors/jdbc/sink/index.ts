import type { PluginDescriptor } from '../../../api/plugin.ts'
import { DebeziumJdbcSinkConnector, JdbcSinkConnector } from './connectors.ts'
import { JDBC_SINK_VERSION } from './version.ts'

export { DebeziumJdbcSinkConnector, JdbcSinkConnector } from './connectors.ts'

/** The JDBC sink, under Confluent's and Debezium's class names. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.confluent.connect.jdbc.JdbcSinkConnector',
    type: 'sink',
    version: JDBC_SINK_VERSION,
    create: () => new JdbcSinkConnector(),
  },
  {
    className: 'io.debezium.connector.jdbc.JdbcSinkConnector',
    type: 'sink',
    version: JDBC_SINK_VERSION,
    create: () => new DebeziumJdbcSinkConnector(),
  },
]
