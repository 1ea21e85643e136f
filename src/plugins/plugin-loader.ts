/**
 * Plugins from `plugin.path`: each directory listed may hold JavaScript or TypeScript modules
 * (`.js`, `.mjs`, `.ts` — Node runs TypeScript directly) and package directories (with a
 * `package.json`). A module contributes plugins by exporting `plugins: PluginDescriptor[]`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError, errorMessage } from '../api/errors.ts'
import type { PluginDescriptor, PluginType } from '../api/plugin.ts'
import type { PluginRegistry } from './plugin-registry.ts'

const TYPES: readonly PluginType[] = [
  'source',
  'sink',
  'converter',
  'header_converter',
  'transformation',
  'predicate',
  'config_provider',
]
const MODULE = /\.(m?js|ts)$/

/** Loads every plugin module under the given directories into the registry; returns what it added. */
export async function loadPluginPath(
  dirs: readonly string[],
  registry: PluginRegistry,
): Promise<PluginDescriptor[]> {
  const added: PluginDescriptor[] = []
  for (const dir of dirs.map((d) => resolve(d))) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ConfigError(
        'plugin.path',
        `plugin.path entry '${dir}' is not a directory: create it or remove it from plugin.path`,
      )
    }
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry)
      const isPackage = statSync(path).isDirectory() && existsSync(join(path, 'package.json'))
      if (!isPackage && !(MODULE.test(entry) && !entry.endsWith('.d.ts'))) continue
      let module: { plugins?: unknown }
      try {
        module = (await import(
          isPackage
            ? pathToFileURL(join(path, 'package.json')).href.replace(/package\.json$/, '')
            : pathToFileURL(path).href
        )) as { plugins?: unknown }
      } catch (error) {
        throw new ConfigError('plugin.path', `cannot load plugin module ${path}: ${errorMessage(error)}`, {
          cause: error,
        })
      }
      for (const descriptor of checkDescriptors(module.plugins, path)) {
        registry.register(descriptor)
        added.push(descriptor)
      }
    }
  }
  return added
}

function checkDescriptors(value: unknown, path: string): PluginDescriptor[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(
      'plugin.path',
      `plugin module ${path} must export 'plugins', an array of plugin descriptors`,
    )
  }
  return value.map((d: Partial<PluginDescriptor>, i) => {
    if (typeof d?.className !== 'string' || !d.className) {
      throw new ConfigError('plugin.path', `${path}: plugins[${i}] has no className`)
    }
    if (!TYPES.includes(d.type as PluginType)) {
      throw new ConfigError(
        'plugin.path',
        `${path}: plugin ${d.className} has type '${String(d.type)}'; use one of ${TYPES.join(', ')}`,
      )
    }
    if (typeof d.create !== 'function')
      throw new ConfigError('plugin.path', `${path}: plugin ${d.className} has no create()`)
    return { version: '0.0.0', ...d } as PluginDescriptor
  })
}
