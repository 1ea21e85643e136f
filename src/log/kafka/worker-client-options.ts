/**
 * What a worker's configuration says about its Kafka clients, as options of the Kafka log:
 * - security: `security.protocol`, `sasl.*`, `ssl.*` (the same mapping and limits as the topic reader
 *   offers connectors, decision 0011). Kafka Connect lets `producer.*`/`consumer.*`/`admin.*` differ
 *   from the worker's own; here the worker's apply to every client of the log, and a `producer.`,
 *   `consumer.` or `admin.` security key that says something else is refused rather than ignored.
 * - `producer.compression.type`: the default compression of every source task's producer (per
 *   connector: `producer.override.compression.type`).
 */
import { ConfigError } from '../../api/errors.ts'
import type { WorkerConfig } from '../../config/worker-config.ts'
import { parseCompressionType, sinkConsumerSettings } from '../log.ts'
import type { KafkaLogOptions } from './kafka-log.ts'
import { securityOptions } from './topic-reader.ts'

const SECURITY_KEY = /^(?:security\.protocol$|sasl\.|ssl\.)/

export function workerKafkaOptions(config: WorkerConfig): Pick<KafkaLogOptions, 'tls' | 'sasl' | 'producer'> {
  const originals = config.originals()
  const security: Record<string, string> = {}
  for (const [key, value] of Object.entries(originals)) if (SECURITY_KEY.test(key)) security[key] = value
  for (const client of ['producer.', 'consumer.', 'admin.']) {
    for (const [key, value] of Object.entries(originals)) {
      if (!key.startsWith(client) || !SECURITY_KEY.test(key.slice(client.length))) continue
      if (security[key.slice(client.length)] !== value) {
        throw new ConfigError(
          key,
          `${key} differs from the worker's ${key.slice(client.length)}: Sluice's clients share the worker's ` +
            `Kafka security settings; set ${key.slice(client.length)} alone (or to the same value)`,
        )
      }
    }
  }
  // The sink consumers' worker-wide settings: a bad value fails the start, naming the key.
  sinkConsumerSettings(originals, {})
  const compression = parseCompressionType(
    originals['producer.compression.type'],
    'producer.compression.type',
  )
  return { ...securityOptions(security), ...(compression ? { producer: { compression } } : {}) }
}
