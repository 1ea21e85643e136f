/**
 * Kafka's `org.apache.kafka.common.config.provider.EnvVarConfigProvider`: `${env:NAME}` is the
 * worker's environment variable NAME. Parameter `allowlist.pattern` (a Java regex the whole name
 * must match, default `.*`) limits which variables connectors may read. A path is not allowed.
 */
import type { ConfigData, ConfigProvider } from '../api/config-provider.ts'
import { ConfigError } from '../api/errors.ts'
import { javaRegexFor } from '../api/java-regex.ts'
import { ttlParam } from './provider-params.ts'

export class EnvVarConfigProvider implements ConfigProvider {
  readonly #env: Readonly<Record<string, string | undefined>>
  #allowlist: RegExp | undefined
  #pattern = '.*'
  #ttl: number | undefined

  /** `env`: the variables to serve; the process's environment by default. */
  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    this.#env = env
  }

  configure(params: Readonly<Record<string, string>>): void {
    this.#pattern = params['allowlist.pattern'] ?? '.*'
    this.#allowlist = javaRegexFor('allowlist.pattern', this.#pattern).whole
    this.#ttl = ttlParam(params)
  }

  get(path: string, keys: ReadonlySet<string>): ConfigData {
    if (!this.#allowlist) throw new Error('The provider has not been configured yet.')
    if (path !== '') {
      throw new ConfigError(
        undefined,
        `Path is not supported for EnvVarConfigProvider, invalid value '${path}': write \${env:NAME}`,
      )
    }
    const data: Record<string, string> = {}
    for (const key of keys) {
      const value = this.#env[key]
      if (value === undefined) continue
      if (!this.#allowlist.test(key)) {
        throw new ConfigError(
          undefined,
          `environment variable ${key} does not match allowlist.pattern ${this.#pattern}: widen the pattern or use another variable`,
        )
      }
      data[key] = value
    }
    return this.#ttl === undefined ? { data } : { data, ttl: this.#ttl }
  }
}
