/**
 * How the console shows a config value: a password-type key (the plugin's ConfigDef says PASSWORD)
 * or a key named like a secret is masked; a value with `${provider:path:key}` references (KIP-297
 * config providers) is shown as those references, which the worker resolves and the page never sees
 * resolved. Pure functions, no DOM.
 */

export type ShownValue =
  | { kind: 'plain'; text: string }
  | { kind: 'masked'; length: number }
  | { kind: 'reference'; text: string; references: string[] }

const REFERENCE = /\$\{([^}:]*):?([^}]*)\}/g
/** Names that hold secrets even when the ConfigDef does not say PASSWORD (transforms, converters, unknown keys). */
const SECRET_NAME =
  /(password|passwd|secret|credential|token|api[._-]?key|private[._-]?key|sasl\.jaas\.config)/i

export function references(value: string): string[] {
  return [...value.matchAll(REFERENCE)].map((match) => match[0])
}

export function isSecretKey(key: string, passwordKeys: ReadonlySet<string>): boolean {
  return passwordKeys.has(key) || SECRET_NAME.test(key)
}

export function shownValue(key: string, value: string, passwordKeys: ReadonlySet<string>): ShownValue {
  const refs = references(value)
  if (refs.length > 0) return { kind: 'reference', text: value, references: refs }
  if (value !== '' && isSecretKey(key, passwordKeys)) return { kind: 'masked', length: value.length }
  return { kind: 'plain', text: value }
}

/**
 * Parses what a person pastes as a connector config: Connect's create body `{"name", "config"}`, a
 * flat JSON object of keys, or a `.properties` file (`key=value` or `key: value`, `#`/`!` comments,
 * backslash continuations). Values become strings, as the REST API stores them.
 */
export function parsePastedConfig(text: string): { name?: string; config: Record<string, string> } {
  const trimmed = text.trim()
  if (trimmed === '') throw new Error('Nothing to read: paste a JSON object or .properties lines')
  if (trimmed.startsWith('[')) throw new Error('The JSON must be an object of config keys, not a list')
  if (trimmed.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch (error) {
      throw new Error(`This is not valid JSON: ${(error as Error).message}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('The JSON must be an object of config keys, or {"name": …, "config": {…}}')
    }
    const object = parsed as Record<string, unknown>
    const nested = object.config
    const body =
      nested !== null && typeof nested === 'object' && !Array.isArray(nested)
        ? (nested as Record<string, unknown>)
        : object
    const config: Record<string, string> = {}
    for (const [key, value] of Object.entries(body)) {
      if (value === null || value === undefined) continue
      if (typeof value === 'object') {
        throw new Error(
          `The value of "${key}" is ${Array.isArray(value) ? 'a list' : 'an object'}: config values are strings (write lists comma-separated)`,
        )
      }
      config[key] = String(value)
    }
    const name = typeof object.name === 'string' && body !== object ? object.name : config.name
    return { name, config }
  }
  const config: Record<string, string> = {}
  const lines = trimmed.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim()
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim()
    const match = /^((?:\\.|[^=:\s])+)\s*[=:\s]\s*(.*)$/.exec(line)
    if (!match) {
      if (/^(?:\\.|[^=:\s])+$/.test(line)) {
        config[unescapeProperty(line)] = ''
        continue
      }
      throw new Error(`Line ${i + 1} is neither JSON nor key=value: ${line}`)
    }
    config[unescapeProperty(match[1]!)] = unescapeProperty(match[2]!)
  }
  return { name: config.name, config }
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, c: string) =>
    c.length === 5
      ? String.fromCharCode(Number.parseInt(c.slice(1), 16))
      : (({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c),
  )
}
