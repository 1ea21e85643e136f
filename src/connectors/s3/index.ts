import { lazyModule, type PluginDescriptor } from '../../api/plugin.ts'
import { S3_SINK_VERSION } from './version.ts'

const connector = lazyModule<typeof import('./connector.ts')>(import.meta.url, './connector.ts')

/** Confluent's S3 sink, under its Java class name (also `S3SinkConnector` and `S3Sink`). */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.confluent.connect.s3.S3SinkConnector',
    type: 'sink',
    version: S3_SINK_VERSION,
    create: () => new (connector().S3SinkConnector)(),
  },
]
