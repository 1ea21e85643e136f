/**
 * Every plugin a worker can run — connectors, converters, transforms, predicates — by class name.
 * Kafka Connect's Java class names are accepted as they are, so existing connector JSON works:
 * a plugin answers to its full class name, its simple name, and (connectors) its simple name
 * without the `Connector` suffix, as Kafka Connect's `connector.class` does.
 */
import { ConfigError } from '../api/errors.ts'
import type { PluginDescriptor, PluginType } from '../api/plugin.ts'

export type { PluginDescriptor, PluginType } from '../api/plugin.ts'

export class PluginRegistry {
  /** A name may stand for one class in several roles (StringConverter is a converter and a header converter). */
  readonly #byName = new Map<string, PluginDescriptor[]>()
  readonly #all: PluginDescriptor[] = []

  register(descriptor: PluginDescriptor): this {
    this.#all.push(descriptor)
    for (const name of new Set(namesOf(descriptor))) {
      const known = this.#byName.get(name) ?? []
      // First registration wins for a name and role, so a plugin cannot shadow a built-in's short name.
      if (!known.some((d) => d.type === descriptor.type)) this.#byName.set(name, [...known, descriptor])
    }
    return this
  }

  /**
   * The plugin of one of the given types known by this name. Fails with a `ConfigError` for `key`
   * that lists what is installed.
   */
  resolve<T>(name: string, types: readonly PluginType[], key: string): PluginDescriptor<T> {
    const candidates = this.#byName.get(name.trim()) ?? []
    const match = candidates.find((d) => types.includes(d.type))
    if (match) return match as PluginDescriptor<T>
    const found = candidates[0]
    const installed = this.list(types).map((p) => p.className)
    const what = types.includes('source') || types.includes('sink') ? 'connector' : types.join(' or ')
    const why = found
      ? `${name} is a ${found.type}, not a ${what}`
      : `Failed to find any class that implements ${what} and which name matches ${name}`
    throw new ConfigError(key, `${why}. Installed: ${installed.join(', ') || '(none)'}`)
  }

  find(name: string): PluginDescriptor | undefined {
    return this.#byName.get(name.trim())?.[0]
  }

  list(types?: readonly PluginType[]): PluginDescriptor[] {
    return this.#all
      .filter((p) => !types || types.includes(p.type))
      .sort((a, b) => a.className.localeCompare(b.className))
  }
}

function namesOf(d: PluginDescriptor): string[] {
  const simple = d.className.slice(d.className.lastIndexOf('.') + 1)
  const names = [d.className, simple, ...(d.aliases ?? [])]
  if ((d.type === 'source' || d.type === 'sink') && simple.endsWith('Connector')) {
    names.push(simple.slice(0, -'Connector'.length))
  }
  return names
}
