/**
 * Resolves `${provider:path:key}` references (Kafka's `ConfigTransformer` and Connect's
 * `WorkerConfigTransformer`, KIP-297/KIP-421) with the providers the worker config declares:
 *
 * ```
 * config.providers=file,secrets
 * config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
 * config.providers.file.param.allowed.paths=/etc/sluice/secrets
 * config.providers.secrets.class=io.strimzi.kafka.KubernetesSecretConfigProvider
 * ```
 *
 * The pattern is Kafka's `\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`. Unlike Kafka, which leaves a
 * reference it cannot resolve in place, every reference must resolve: an unknown provider, a missing
 * key, an unreadable file or a path outside `allowed.paths` is an error naming the config key and
 * the reference, so `${env:DB_PASSWORD}` never reaches a database as a password.
 *
 * Resolved values are registered with the log/status mask (common/secret-values.ts). Task configs
 * go back to the config store with the references in place (`reverseTransform`), as Connect stores
 * them, and are resolved again on the worker that runs the task.
 */
import type { ConfigProvider } from '../api/config-provider.ts'
import type { Props } from '../api/connector.ts'
import { ConfigError, errorMessage } from '../api/errors.ts'
import { registerSecretValues } from '../common/secret-values.ts'
import type { PluginRegistry } from '../plugins/plugin-registry.ts'

/** Shorter values are put back only where a task key holds exactly its connector key's value. */
const EMBEDDED_MIN_LENGTH = 8

const PATTERN = /\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}/g

/** A reference's parts, and its text as written. */
export interface Reference {
  readonly text: string
  readonly provider: string
  readonly path: string
  readonly key: string
}

export function referencesIn(value: string): Reference[] {
  return [...value.matchAll(PATTERN)].map((m) => ({
    text: m[0],
    provider: m[1]!,
    path: m[2] ?? '',
    key: m[3]!,
  }))
}

export function hasReferences(props: Readonly<Props>): boolean {
  return Object.values(props).some(
    (v) => typeof v === 'string' && v.includes('${') && referencesIn(v).length > 0,
  )
}

/** The outcome of resolving a config. */
export interface Resolution {
  /** The config with every resolvable reference replaced (an unresolvable one is left as written). */
  readonly props: Props
  /** Errors by config key, each naming the key and the reference. Empty when all resolved. */
  readonly errors: Readonly<Record<string, string[]>>
  /** The keys whose values hold references. */
  readonly keys: ReadonlySet<string>
  /** Each resolved reference's text and its value. */
  readonly values: ReadonlyMap<string, string>
  /** The shortest TTL a provider gave, if any: ask again after that long. */
  readonly ttlMs: number | undefined
}

export function resolutionFailed(resolution: Resolution): boolean {
  return Object.keys(resolution.errors).length > 0
}

/** One error for all unresolved references of a config (for a start that cannot proceed). */
export function resolutionError(resolution: Resolution): ConfigError {
  const [key] = Object.keys(resolution.errors)
  return new ConfigError(key, Object.values(resolution.errors).flat().join('; '))
}

/** The worker's config providers, made from its `config.providers*` keys. */
export class ConfigProviders {
  readonly #providers: ReadonlyMap<string, ConfigProvider>

  private constructor(providers: ReadonlyMap<string, ConfigProvider>) {
    this.#providers = providers
  }

  static none(): ConfigProviders {
    return new ConfigProviders(new Map())
  }

  /** Instantiates and configures each provider; a bad class or parameter fails naming its key. */
  static async fromWorkerConfig(
    originals: Readonly<Record<string, string>>,
    plugins: PluginRegistry,
  ): Promise<ConfigProviders> {
    const names = (originals['config.providers'] ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)
    const providers = new Map<string, ConfigProvider>()
    for (const name of names) {
      const classKey = `config.providers.${name}.class`
      const className = originals[classKey]?.trim()
      if (!className) {
        throw new ConfigError(
          classKey,
          `config.providers lists '${name}' but ${classKey} is not set: name its class, e.g. org.apache.kafka.common.config.provider.FileConfigProvider`,
        )
      }
      let provider: ConfigProvider
      try {
        provider = plugins.resolve<ConfigProvider>(className, ['config_provider'], classKey).create()
      } catch (error) {
        throw new ConfigError(
          classKey,
          `Invalid value ${className} for configuration ${classKey}: ${errorMessage(error)}`,
        )
      }
      const prefix = `config.providers.${name}.param.`
      const params: Record<string, string> = {}
      for (const [k, v] of Object.entries(originals))
        if (k.startsWith(prefix)) params[k.slice(prefix.length)] = v
      try {
        await provider.configure(params)
      } catch (error) {
        const key = error instanceof ConfigError && error.key ? `${prefix}${error.key}` : classKey
        throw new ConfigError(key, `config provider '${name}': ${errorMessage(error)}`)
      }
      providers.set(name, provider)
    }
    return new ConfigProviders(providers)
  }

  names(): string[] {
    return [...this.#providers.keys()]
  }

  get(name: string): ConfigProvider | undefined {
    return this.#providers.get(name)
  }

  async close(): Promise<void> {
    for (const provider of this.#providers.values()) await provider.close?.()
  }

  /** Resolves every reference in `props`; never throws (failures are in `errors`). */
  async resolve(props: Readonly<Props>): Promise<Resolution> {
    const keys = new Set<string>()
    const wanted = new Map<string, Map<string, Set<string>>>() // provider → path → keys
    for (const [key, value] of Object.entries(props)) {
      if (typeof value !== 'string' || !value.includes('${')) continue
      for (const ref of referencesIn(value)) {
        keys.add(key)
        const byPath = wanted.get(ref.provider) ?? new Map<string, Set<string>>()
        wanted.set(ref.provider, byPath)
        byPath.set(ref.path, (byPath.get(ref.path) ?? new Set()).add(ref.key))
      }
    }
    if (keys.size === 0) return { props: { ...props }, errors: {}, keys, values: new Map(), ttlMs: undefined }

    const found = new Map<string, Readonly<Record<string, string>>>() // `${provider}\0${path}` → data
    const failed = new Map<string, string>() // same key → why
    let ttlMs: number | undefined
    for (const [providerName, byPath] of wanted) {
      const provider = this.#providers.get(providerName)
      if (!provider) continue
      for (const [path, pathKeys] of byPath) {
        const at = `${providerName}\0${path}`
        try {
          const data = await provider.get(path, pathKeys)
          found.set(at, data.data)
          if (data.ttl !== undefined && data.ttl >= 0) ttlMs = Math.min(ttlMs ?? data.ttl, data.ttl)
        } catch (error) {
          failed.set(at, errorMessage(error))
        }
      }
    }

    const out: Record<string, string> = { ...props }
    const errors: Record<string, string[]> = {}
    const values = new Map<string, string>()
    for (const key of keys) {
      const raw = props[key]!
      out[key] = raw.replace(PATTERN, (text, provider: string, path: string | undefined, refKey: string) => {
        const at = `${provider}\0${path ?? ''}`
        const data = found.get(at)
        const value = data && Object.hasOwn(data, refKey) ? data[refKey] : undefined
        if (value !== undefined) {
          values.set(text, value)
          return value
        }
        const why = !this.#providers.has(provider)
          ? `config provider '${provider}' is not configured on this worker (config.providers=${this.names().join(',') || '(none)'}): add config.providers.${provider}.class to the worker config, or write the value itself`
          : (failed.get(at) ??
            `no key '${refKey}'${path ? ` at ${path}` : ''} in config provider '${provider}': check the key's name`)
        errors[key] = [...(errors[key] ?? []), `Invalid value ${text} for configuration ${key}: ${why}`]
        return text
      })
    }
    registerSecretValues(values.values())
    return { props: out, errors, keys, values, ttlMs }
  }
}

/**
 * Task configs as the config store keeps them (Connect's `AbstractHerder.reverseTransform`): a task
 * key whose value is its connector key's resolved value gets the reference text back. Beyond
 * Connect, a resolved value a connector copied into another key or embedded in a longer one (a URL
 * with the password) is put back as its reference too, so no value reaches the config topic or
 * `GET /connectors/{c}/tasks`; resolving the stored text gives the same config again. (Values of
 * fewer than eight characters are put back only in the first case: `1000` or `true` may well appear
 * in another key by coincidence, and would then follow the provider's value when it changes.)
 */
export function reverseTransform(
  raw: Readonly<Props>,
  resolution: Resolution,
  taskConfigs: Props[],
): Props[] {
  if (resolution.values.size === 0) return taskConfigs
  // Only values long enough not to occur in another key by coincidence: the text put back stands
  // for the provider's value, and follows it when it changes.
  const byLength = [...resolution.values]
    .filter(([, v]) => v.length >= EMBEDDED_MIN_LENGTH)
    .sort((a, b) => b[1].length - a[1].length)
  return taskConfigs.map((config) => {
    const out: Record<string, string> = {}
    for (const [key, value] of Object.entries(config)) {
      if (resolution.keys.has(key) && value === resolution.props[key]) {
        out[key] = raw[key]!
        continue
      }
      let v = value
      for (const [text, secret] of byLength) if (v.includes(secret)) v = v.split(secret).join(text)
      out[key] = v
    }
    return out
  })
}
