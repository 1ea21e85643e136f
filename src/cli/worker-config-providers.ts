/**
 * `${provider:path:key}` in the worker config itself (KIP-421, as Kafka's `AbstractConfig` resolves
 * it): `sasl.jaas.config=${file:/etc/sluice/kafka.properties:jaas}` or
 * `ssl.key.password=${secrets:kafka/client:password}`, resolved with the providers the same worker
 * config declares (built-in or from `plugin.path`) before any key is parsed. The `config.providers*`
 * and `plugin.path` keys are taken as written.
 */
import { ConfigError } from '../api/errors.ts'
import { builtInPlugins } from '../plugins/built-ins.ts'
import { loadPluginPath } from '../plugins/plugin-loader.ts'
import {
  ConfigProviders,
  hasReferences,
  resolutionError,
  resolutionFailed,
} from '../runtime/config-transformer.ts'

export async function resolveWorkerProps(props: Record<string, string>): Promise<Record<string, string>> {
  const toResolve = Object.fromEntries(
    Object.entries(props).filter(([k]) => !k.startsWith('config.providers') && k !== 'plugin.path'),
  )
  if (!hasReferences(toResolve)) return props
  const plugins = builtInPlugins()
  const pluginPath = (props['plugin.path'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  await loadPluginPath(pluginPath, plugins)
  const providers = await ConfigProviders.fromWorkerConfig(props, plugins)
  try {
    const resolution = await providers.resolve(toResolve)
    if (resolutionFailed(resolution)) {
      const error = resolutionError(resolution)
      throw new ConfigError(error.key, `worker config: ${error.message}`)
    }
    return { ...props, ...resolution.props }
  } finally {
    await providers.close()
  }
}
