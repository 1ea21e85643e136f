/**
 * Kafka's `org.apache.kafka.common.config.provider.FileConfigProvider`: `${file:/path/to/file.properties:key}`
 * reads `key` from a Java `.properties` file (parsed as `java.util.Properties.load` does). Parameter
 * `allowed.paths` (KIP-993) limits the files it may read.
 */
import { readFileSync } from 'node:fs'
import type { ConfigData, ConfigProvider } from '../api/config-provider.ts'
import { ConfigError } from '../api/errors.ts'
import { parseProperties } from '../config/properties.ts'
import { AllowedPaths, ttlParam } from './provider-params.ts'

export class FileConfigProvider implements ConfigProvider {
  #allowed: AllowedPaths | undefined
  #ttl: number | undefined

  configure(params: Readonly<Record<string, string>>): void {
    this.#allowed = new AllowedPaths(params['allowed.paths'])
    this.#ttl = ttlParam(params)
  }

  get(path: string, keys: ReadonlySet<string>): ConfigData {
    if (!this.#allowed) throw new Error('The provider has not been configured yet.')
    if (path === '') {
      throw new ConfigError(
        undefined,
        `FileConfigProvider needs a file: write \${file:/path/to/file.properties:key}`,
      )
    }
    const file = this.#allowed.check(path)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
      throw new ConfigError(undefined, `Could not read properties from file ${path} (${code})`)
    }
    const properties = parseProperties(text)
    const data: Record<string, string> = {}
    for (const key of keys) if (Object.hasOwn(properties, key)) data[key] = properties[key]!
    return this.#ttl === undefined ? { data } : { data, ttl: this.#ttl }
  }
}
