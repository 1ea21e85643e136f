import type { PluginDescriptor } from '../../../api/plugin.ts'
import { JdbcSourceConnector } from './connector.ts'
import { JDBC_SOURCE_VERSION } from './version.ts'

export { JdbcSourceConnector } from './connector.ts'
export { JdbcSourceTask } from './source-task.ts'

/** Confluent's JDBC source, under its Java class name (also `JdbcSourceConnector`, `JdbcSource`). */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.confluent.connect.jdbc.JdbcSourceConnector',
    type: 'source',
    version: JDBC_SOURCE_VERSION,
    create: () => new JdbcSourceConnector(),
  },
]
