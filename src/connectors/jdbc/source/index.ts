import { lazyModule, type PluginDescriptor } from '../../../api/plugin.ts'
import { JDBC_SOURCE_VERSION } from './version.ts'

const connector = lazyModule<typeof import('./connector.ts')>(import.meta.url, './connector.ts')

/** Confluent's JDBC source, under its Java class name (also `JdbcSourceConnector`, `JdbcSource`). */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.confluent.connect.jdbc.JdbcSourceConnector',
    type: 'source',
    version: JDBC_SOURCE_VERSION,
    create: () => new (connector().JdbcSourceConnector)(),
  },
]
