import type { PluginDescriptor } from '../../api/plugin.ts'
import { MongoSinkConnector } from './sink/connector.ts'
import { MongoSourceConnector } from './source/connector.ts'
import { MONGODB_CONNECTOR_VERSION } from './version.ts'

export { MongoSinkConnector } from './sink/connector.ts'
export { MongoSourceConnector } from './source/connector.ts'

/** The official MongoDB Kafka connector's sink and source, under their Java class names. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'com.mongodb.kafka.connect.MongoSinkConnector',
    type: 'sink',
    version: MONGODB_CONNECTOR_VERSION,
    create: () => new MongoSinkConnector(),
  },
  {
    className: 'com.mongodb.kafka.connect.MongoSourceConnector',
    type: 'source',
    version: MONGODB_CONNECTOR_VERSION,
    create: () => new MongoSourceConnector(),
  },
]
