import { readFileSync } from 'node:fs'
import { ConfigError } from '../api/errors.ts'
import { parseProperties } from './properties.ts'

/**
 * A config file as Kafka Connect's tools take them: Java `.properties`, or JSON — a flat map of
 * keys, or a `{"name": …, "config": {…}}` body as `POST /connectors` takes.
 */
export function readConfigFile(file: string, what: string): Record<string, string> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(undefined, `cannot read ${what} file '${file}': ${(error as Error).message}`)
  }
  if (!file.endsWith('.json')) return parseProperties(text)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(undefined, `${file} is not valid JSON: ${(error as Error).message}`)
  }
  const body = parsed as { name?: unknown; config?: unknown } | null
  if (body && typeof body === 'object' && body.config && typeof body.config === 'object') {
    return { ...stringMap(body.config, file), ...(typeof body.name === 'string' ? { name: body.name } : {}) }
  }
  return stringMap(parsed, file)
}

export function stringMap(value: unknown, source: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(undefined, `${source} must hold a JSON object of config keys`)
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return out
}
