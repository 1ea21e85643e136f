/**
 * How a plugin presents itself to the worker. A plugin package (built-in or on `plugin.path`)
 * exports `plugins: PluginDescriptor[]`.
 */
import { createRequire } from 'node:module'

export type PluginType =
  | 'source'
  | 'sink'
  | 'converter'
  | 'header_converter'
  | 'transformation'
  | 'predicate'
  | 'config_provider'

export interface PluginDescriptor<T = unknown> {
  /** The canonical class name, as `GET /connector-plugins` lists it (the Java one for drop-ins). */
  readonly className: string
  readonly type: PluginType
  readonly version: string
  /** Extra names it answers to besides the derived ones (simple name, name without `Connector`). */
  readonly aliases?: readonly string[]
  create(): T
}

/**
 * A plugin's module, `require`d the first time `create()` needs it rather than with the plugin
 * list, so a worker holds only the plugins it uses (and their drivers) in memory:
 * `const connector = lazyModule<typeof import('./connector.ts')>(import.meta.url, './connector.ts')`,
 * then `create: () => new (connector().MyConnector)()`. Works from the sources (.ts) and from the
 * compiled package (.js); the module must not use top-level await.
 */
export function lazyModule<T>(from: string, path: string): () => T {
  let loaded: T | undefined
  return () => {
    loaded ??= createRequire(from)(from.endsWith('.ts') ? path : path.replace(/\.ts$/, '.js')) as T
    return loaded
  }
}
