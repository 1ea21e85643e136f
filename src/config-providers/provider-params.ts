/**
 * Parameters every built-in provider shares: `allowed.paths` (KIP-993: File and Directory) and
 * Sluice's `ttl.ms`, which makes the worker ask again after that long and restart what uses a
 * value that changed (Kafka's providers return no TTL; Java workers ignore the extra parameter).
 */

import { existsSync } from 'node:fs'
import { isAbsolute, normalize, sep } from 'node:path'
import { ConfigError } from '../api/errors.ts'

/** `ttl.ms`: undefined when unset. */
export function ttlParam(params: Readonly<Record<string, string>>): number | undefined {
  const raw = params['ttl.ms']?.trim()
  if (raw === undefined || raw === '') return undefined
  const ttl = Number(raw)
  if (!Number.isSafeInteger(ttl) || ttl < 1)
    throw new ConfigError('ttl.ms', `Invalid value ${raw} for parameter ttl.ms: a number of milliseconds ≥ 1`)
  return ttl
}

/**
 * Kafka's `AllowedPaths`: a comma-separated list of absolute, existing paths; a path is allowed when,
 * normalized (`..` and `.` removed, as Java's `Path.normalize`), it is one of them or lies below one.
 * Unset: every path is allowed.
 */
export class AllowedPaths {
  readonly #paths: string[] | undefined

  constructor(value: string | undefined) {
    if (value === undefined || value === '') {
      this.#paths = undefined
      return
    }
    this.#paths = value.split(',').map((entry) => {
      const path = normalize(entry.trim())
      if (!isAbsolute(path))
        throw new ConfigError('allowed.paths', `Path ${path} in allowed.paths is not absolute`)
      if (!existsSync(path))
        throw new ConfigError('allowed.paths', `Path ${path} in allowed.paths does not exist`)
      return path.length > 1 && path.endsWith(sep) ? path.slice(0, -1) : path
    })
  }

  /** The normalized path to read; throws naming `allowed.paths` when it lies outside them. */
  check(path: string): string {
    if (this.#paths === undefined) return path
    const normalized = normalize(path)
    const inside = this.#paths.some(
      (allowed) =>
        normalized === allowed || normalized.startsWith(allowed === sep ? sep : `${allowed}${sep}`),
    )
    if (!inside) {
      throw new ConfigError(
        'allowed.paths',
        `path ${path} is outside allowed.paths (${this.#paths.join(',')}): move the file there or add its directory to allowed.paths`,
      )
    }
    return normalized
  }
}
