import type { Props } from '../api/connector.ts'
import type { Converter, HeaderConverter } from '../api/converter.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'

export interface ConnectorConverters {
  key: Converter
  value: Converter
  header: HeaderConverter
}

/**
 * The key, value and header converters of one connector: the connector's `*.converter` keys win
 * over the worker's; each converter is configured with the `<role>.converter.` keys of the worker
 * and then of the connector, prefix stripped.
 */
export function createConverters(
  worker: WorkerConfig,
  props: Props,
  plugins: PluginRegistry,
): ConnectorConverters {
  const make = <T>(role: 'key' | 'value' | 'header', types: ['converter'] | ['header_converter']) => {
    const key = `${role}.converter`
    const fromConnector = props[key]?.trim()
    const className = fromConnector || worker.getString(key)
    const converter = plugins.resolve<T>(className, types, key).create()
    const prefix = `${key}.`
    const settings = {
      ...worker.originalsWithPrefix(prefix),
      ...Object.fromEntries(
        Object.entries(props)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      ),
    }
    return { converter, settings }
  }
  const key = make<Converter>('key', ['converter'])
  key.converter.configure(key.settings, true)
  const value = make<Converter>('value', ['converter'])
  value.converter.configure(value.settings, false)
  const header = make<HeaderConverter>('header', ['header_converter'])
  header.converter.configure(header.settings)
  return { key: key.converter, value: value.converter, header: header.converter }
}
