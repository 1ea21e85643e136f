import { lazyModule, type PluginDescriptor } from '../../api/plugin.ts'
import { POSTGRES_CDC_VERSION } from './version.ts'

const connector = lazyModule<typeof import('./connector.ts')>(import.meta.url, './connector.ts')

/** Debezium's PostgreSQL connector, under its Java class name. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.debezium.connector.postgresql.PostgresConnector',
    type: 'source',
    version: POSTGRES_CDC_VERSION,
    create: () => new (connector().PostgresCdcConnector)(),
  },
]
