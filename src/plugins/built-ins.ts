import { plugins as configProviders } from '../config-providers/index.ts'
import { plugins as fileConnectors } from '../connectors/file/index.ts'
import { plugins as jdbcSinkConnectors } from '../connectors/jdbc/sink/index.ts'
import { plugins as jdbcSourceConnectors } from '../connectors/jdbc/source/index.ts'
import { plugins as mongodbConnectors } from '../connectors/mongodb/index.ts'
import { plugins as postgresCdcConnectors } from '../connectors/postgres-cdc/index.ts'
import { builtInConverters } from '../converters/index.ts'
import { plugins as transforms } from '../transforms/index.ts'
import { PluginRegistry } from './plugin-registry.ts'

/** Every plugin that ships with Sluice. */
export function builtInPlugins(): PluginRegistry {
  const registry = new PluginRegistry()
  for (const plugin of [
    ...fileConnectors,
    ...jdbcSourceConnectors,
    ...jdbcSinkConnectors,
    ...postgresCdcConnectors,
    ...mongodbConnectors,
    ...builtInConverters,
    ...transforms,
    ...configProviders,
  ])
    registry.register(plugin)
  return registry
}
