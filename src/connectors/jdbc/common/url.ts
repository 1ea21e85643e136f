/**
 * JDBC connection URLs, as users of Confluent's and Debezium's JDBC connectors write them, turned into
 * what the Node drivers take: `jdbc:postgresql://` → `pg`, `jdbc:mysql://` / `jdbc:mariadb://` →
 * `mysql2`, `jdbc:sqlite:` → `node:sqlite`. Plain driver URLs (`postgres://`, `mysql://`) are accepted
 * too.
 */
import { ConfigError } from '../../../api/errors.ts'

export type DialectName = 'postgresql' | 'mysql' | 'sqlite'

export interface ServerLocation {
  dialect: 'postgresql' | 'mysql'
  host: string
  port: number
  /** Empty when the URL names none (the server's default database). */
  database: string
  user: string | undefined
  password: string | undefined
  /** The URL's query properties other than user/password (e.g. sslmode, currentSchema). */
  properties: Record<string, string>
}

export interface SqliteLocation {
  dialect: 'sqlite'
  /** A file path, or `:memory:`. */
  path: string
  properties: Record<string, string>
}

export type DatabaseLocation = ServerLocation | SqliteLocation

const DEFAULT_PORTS = { postgresql: 5432, mysql: 3306 } as const

const EXAMPLES =
  'jdbc:postgresql://host:5432/database, jdbc:mysql://host:3306/database, ' +
  'jdbc:mariadb://host:3306/database or jdbc:sqlite:/path/to/file.db'

/**
 * Parses `url` (the value of `key`, for errors). `user`/`password` from separate config keys win over
 * the URL's own.
 */
export function parseJdbcUrl(
  url: string,
  options: { key?: string; user?: string | undefined; password?: string | undefined } = {},
): DatabaseLocation {
  const key = options.key ?? 'connection.url'
  const trimmed = url.trim()
  if (trimmed === '') throw new ConfigError(key, `${key} is empty; set it to a JDBC URL such as ${EXAMPLES}`)
  const body = trimmed.startsWith('jdbc:') ? trimmed.slice(5) : trimmed
  const scheme = body.slice(0, body.indexOf(':')).toLowerCase()

  if (scheme === 'sqlite') {
    const rest = body.slice('sqlite:'.length)
    const [pathPart, query] = splitOnce(rest, '?')
    const path = pathPart.startsWith('//') ? pathPart.slice(2) : pathPart
    if (path === '')
      throw new ConfigError(key, `${key} '${url}' names no SQLite file; use jdbc:sqlite:/path/to/file.db`)
    return { dialect: 'sqlite', path, properties: parseQuery(query, ';&') }
  }

  const dialect =
    scheme === 'postgresql' || scheme === 'postgres' || scheme === 'pgsql'
      ? 'postgresql'
      : scheme === 'mysql' || scheme === 'mariadb'
        ? 'mysql'
        : undefined
  if (dialect === undefined) {
    throw new ConfigError(
      key,
      `${key} '${redact(url)}' uses an unsupported database '${scheme || body}'; supported: ${EXAMPLES}`,
    )
  }
  const rest = body.slice(body.indexOf(':') + 1)
  if (!rest.startsWith('//') || rest.startsWith('///')) {
    throw new ConfigError(key, `${key} '${redact(url)}' names no host; expected e.g. ${EXAMPLES}`)
  }
  let parsed: URL
  try {
    // The WHATWG parser needs a special-looking scheme to split host and path; the scheme itself is dropped.
    parsed = new URL(`http:${rest}`)
  } catch {
    throw new ConfigError(key, `${key} '${redact(url)}' is not a valid URL; expected e.g. ${EXAMPLES}`)
  }
  if (parsed.hostname === '') {
    throw new ConfigError(key, `${key} '${redact(url)}' names no host; expected e.g. ${EXAMPLES}`)
  }
  const properties: Record<string, string> = {}
  for (const [name, value] of parsed.searchParams) properties[name] = value
  // The PostgreSQL JDBC driver also takes properties after ';' in some deployments' URLs.
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '').split(';')[0] ?? '')
  const user = options.user || properties.user || decodeURIComponent(parsed.username) || undefined
  const password = options.password || properties.password || decodeURIComponent(parsed.password) || undefined
  delete properties.user
  delete properties.password
  return {
    dialect,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? DEFAULT_PORTS[dialect] : Number(parsed.port),
    database,
    user,
    password,
    properties,
  }
}

/** The URL with any password replaced, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/(password=)[^&;]*/gi, '$1[hidden]').replace(/(\/\/[^:/@]+:)[^@/]*@/, '$1[hidden]@')
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)]
}

function parseQuery(query: string, separators: string): Record<string, string> {
  const properties: Record<string, string> = {}
  for (const part of query.split(new RegExp(`[${separators}]`))) {
    if (part === '') continue
    const [name, value] = splitOnce(part, '=')
    properties[decodeURIComponent(name)] = decodeURIComponent(value)
  }
  return properties
}
