import type { PluginDescriptor } from '../../api/plugin.ts'
import { FileStreamSinkConnector, FileStreamSourceConnector } from './connectors.ts'
import { FILE_CONNECTOR_VERSION } from './version.ts'

export { FileStreamSinkConnector, FileStreamSourceConnector } from './connectors.ts'

/** Kafka's FileStream connectors, under their Java class names. */
export const plugins: PluginDescriptor[] = [
  {
    className: 'org.apache.kafka.connect.file.FileStreamSourceConnector',
    type: 'source',
    version: FILE_CONNECTOR_VERSION,
    create: () => new FileStreamSourceConnector(),
  },
  {
    className: 'org.apache.kafka.connect.file.FileStreamSinkConnector',
    type: 'sink',
    version: FILE_CONNECTOR_VERSION,
    create: () => new FileStreamSinkConnector(),
  },
]
