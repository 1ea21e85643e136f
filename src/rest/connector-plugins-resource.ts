import type { ConfigDef } from '../api/config-def.ts'
import { ConnectError } from '../api/errors.ts'
import type { Herder } from '../herder/herder.ts'
import { configKeyInfo } from '../runtime/config-validation.ts'
import type { HttpApp } from './http-router.ts'

export function registerConnectorPluginRoutes(app: HttpApp, herder: Herder): void {
  app.get<{ Querystring: { connectorsOnly?: string } }>('/connector-plugins', async (request) => {
    const connectorsOnly = request.query.connectorsOnly !== 'false'
    return (
      herder
        .plugins()
        // Config providers are plugins of the worker, not of connectors: Kafka Connect lists none.
        .filter((p) => p.type !== 'config_provider')
        .filter((p) => !connectorsOnly || p.type === 'source' || p.type === 'sink')
        .map((p) => ({ class: p.className, type: p.type, version: p.version }))
    )
  })

  app.get<{ Params: { plugin: string } }>('/connector-plugins/:plugin/config', async (request) => {
    const plugin = herder
      .plugins()
      .find((p) => p.type !== 'config_provider' && matches(p.className, request.params.plugin))
    if (!plugin) throw new ConnectError('NOT_FOUND', `Unknown plugin ${request.params.plugin}.`)
    const instance = plugin.create() as { config?: () => ConfigDef }
    if (typeof instance.config !== 'function') {
      throw new ConnectError('BAD_REQUEST', `Plugin ${request.params.plugin} has no configuration`)
    }
    return instance.config().configKeys().map(configKeyInfo)
  })

  app.put<{ Params: { plugin: string }; Body: unknown }>(
    '/connector-plugins/:plugin/config/validate',
    async (request) => {
      const body = request.body
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw new ConnectError('BAD_REQUEST', 'Request body must be a JSON object of config keys')
      }
      const config: Record<string, string> = {}
      for (const [k, v] of Object.entries(body)) if (v !== null && v !== undefined) config[k] = String(v)
      const className = config['connector.class']
      if (!className) throw new ConnectError('BAD_REQUEST', 'Connector config must contain connector.class')
      const strip = (s: string) => s.replace(/Connector$/, '')
      if (
        !strip(className).endsWith(strip(request.params.plugin)) &&
        !strip(request.params.plugin).endsWith(strip(className))
      ) {
        throw new ConnectError(
          'BAD_REQUEST',
          `Included connector type ${className} does not match request type ${request.params.plugin}`,
        )
      }
      return herder.validateConnectorConfig(config)
    },
  )
}

function matches(className: string, requested: string): boolean {
  const simple = className.slice(className.lastIndexOf('.') + 1)
  return [className, simple, simple.replace(/Connector$/, '')].includes(requested)
}
