import type { PluginDescriptor } from '../../api/plugin.ts'
import { PostgresCdcConnector } from './connector.ts'
import { POSTGRES_CDC_VERSION } from './version.ts'

export { PostgresCdcConnector } from './connector.ts'

/** Debezium's PostgreSQL connector, under its Java class name. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.debezium.connector.postgresql.PostgresConnector',
    type: 'source',
    version: POSTGRES_CDC_VERSION,
    create: () => new PostgresCdcConnector(),
  },
]
