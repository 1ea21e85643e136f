import type { PluginDescriptor } from '../../api/plugin.ts'
import { S3SinkConnector } from './connector.ts'
import { S3_SINK_VERSION } from './version.ts'

export { S3SinkConnector } from './connector.ts'

/** Confluent's S3 sink, under its Java class name (also `S3SinkConnector` and `S3Sink`). */
export const plugins: PluginDescriptor[] = [
  {
    className: 'io.confluent.connect.s3.S3SinkConnector',
    type: 'sink',
    version: S3_SINK_VERSION,
    create: () => new S3SinkConnector(),
  },
]
