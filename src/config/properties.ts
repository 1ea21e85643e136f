/**
 * Java `.properties` files, as `java.util.Properties.load` reads them: `key=value`, `key:value` or
 * `key value`; `#`/`!` comments; a trailing backslash continues the line; `\t \n \r \f \uXXXX`
 * escapes; leading whitespace of values is dropped. Connect's worker and connector files use it.
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^[ \t\f]+/, '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (endsWithContinuation(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^[ \t\f]+/, '')
    }
    if (endsWithContinuation(line)) line = line.slice(0, -1)
    let keyEnd = 0
    while (keyEnd < line.length) {
      const c = line[keyEnd]
      if (c === '\\') keyEnd += 2
      else if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break
      else keyEnd++
    }
    const key = unescapeJava(line.slice(0, keyEnd))
    let rest = line.slice(keyEnd).replace(/^[ \t\f]+/, '')
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '')
    out[key] = unescapeJava(rest)
  }
  return out
}

function endsWithContinuation(line: string): boolean {
  let n = 0
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++
  return n % 2 === 1
}

function unescapeJava(text: string): string {
  if (!text.includes('\\')) return text
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(Number.parseInt(e.slice(1), 16))
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[e] ?? e
  })
}

/**
 * Worker settings from the environment, as the Confluent and Strimzi images do:
 * `CONNECT_BOOTSTRAP_SERVERS` → `bootstrap.servers`. `SLUICE_` works the same way. In the name,
 * `___` stands for `-`, `__` for `_` and `_` for `.`.
 */
export function propertiesFromEnv(
  env: NodeJS.ProcessEnv,
  prefixes = ['CONNECT_', 'SLUICE_'],
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const prefix of prefixes) {
    for (const [name, value] of Object.entries(env)) {
      if (!name.startsWith(prefix) || value === undefined) continue
      const key = name
        .slice(prefix.length)
        .toLowerCase()
        .replaceAll('___', '\u0001')
        .replaceAll('__', '\u0002')
        .replaceAll('_', '.')
        .replaceAll('\u0001', '-')
        .replaceAll('\u0002', '_')
      if (key) out[key] = value
    }
  }
  return out
}
