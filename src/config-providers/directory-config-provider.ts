/**
 * Kafka's `org.apache.kafka.common.config.provider.DirectoryConfigProvider`: `${dir:/path/to/dir:key}`
 * is the UTF-8 content of the regular file `key` in that directory — the layout Kubernetes mounts a
 * Secret or ConfigMap volume in (one file per key; symbolic links to the current version are
 * followed). Parameter `allowed.paths` (KIP-993) limits the directories it may read.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { ConfigData, ConfigProvider } from '../api/config-provider.ts'
import { ConfigError } from '../api/errors.ts'
import { AllowedPaths, ttlParam } from './provider-params.ts'

export class DirectoryConfigProvider implements ConfigProvider {
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
        `DirectoryConfigProvider needs a directory: write \${dir:/path/to/dir:key}`,
      )
    }
    const dir = this.#allowed.check(path)
    let isDirectory = false
    try {
      isDirectory = statSync(dir).isDirectory()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
      throw new ConfigError(undefined, `Could not list directory ${path} (${code})`)
    }
    if (!isDirectory) throw new ConfigError(undefined, `The path ${path} is not a directory`)
    const data: Record<string, string> = {}
    for (const key of keys) {
      // A key is a file name in the directory, never a path out of it.
      if (key === '' || key === '.' || key === '..' || key.includes('/')) continue
      const file = join(dir, key)
      try {
        if (!statSync(file).isFile()) continue
      } catch {
        continue
      }
      try {
        data[key] = readFileSync(file, 'utf8')
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
        throw new ConfigError(undefined, `Could not read file ${file} for property ${key} (${code})`)
      }
    }
    return this.#ttl === undefined ? { data } : { data, ttl: this.#ttl }
  }
}
