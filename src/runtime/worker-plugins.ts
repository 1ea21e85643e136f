/**
 * The classes a worker config names must exist before the worker says it is ready: a misspelt
 * `value.converter` would otherwise fail every task it starts (Kafka Connect fails at startup, when
 * WorkerConfig instantiates its converters). REST extensions are not available in Sluice: a worker
 * config that asks for them is refused too. Config providers are checked when the worker makes them
 * (runtime/config-transformer.ts).
 */
import { ConfigError } from '../api/errors.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'

const CONVERTER_KEYS = [
  ['key.converter', 'converter'],
  ['value.converter', 'converter'],
  ['header.converter', 'header_converter'],
] as const

/** Throws a ConfigError naming the key, and what is installed, for a class the worker cannot load. */
export function checkWorkerPlugins(config: WorkerConfig, plugins: PluginRegistry): void {
  for (const [key, type] of CONVERTER_KEYS) {
    const className = config.getString(key)
    try {
      plugins.resolve(className, [type], key)
    } catch (error) {
      throw new ConfigError(
        key,
        `Invalid value ${className} for configuration ${key}: ${(error as Error).message} (or their simple names)`,
      )
    }
  }
  const originals = config.originals()
  const extensions = (originals['rest.extension.classes'] ?? '').trim()
  if (extensions !== '') {
    throw new ConfigError(
      'rest.extension.classes',
      `Invalid value ${extensions} for configuration rest.extension.classes: REST extensions are not supported by Sluice, and none is installed; remove rest.extension.classes`,
    )
  }
}
