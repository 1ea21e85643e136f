import { lazyModule, type PluginDescriptor } from '../../api/plugin.ts'
import { MONGODB_CONNECTOR_VERSION } from './version.ts'

const sink = lazyModule<typeof import('./sink/connector.ts')>(import.meta.url, './sink/connector.ts')
const source = lazyModule<typeof import('./source/connector.ts')>(import.meta.url, './source/connector.ts')

/** The official MongoDB Kafka connector's sink and source, under their Java class names. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'com.mongodb.kafka.connect.MongoSinkConnector',
    type: 'sink',
    version: MONGODB_CONNECTOR_VERSION,
    create: () => new (sink().MongoSinkConnector)(),
  },
  {
    className: 'com.mongodb.kafka.connect.MongoSourceConnector',
    type: 'source',
    version: MONGODB_CONNECTOR_VERSION,
    create: () => new (source().MongoSourceConnector)(),
  },
]
