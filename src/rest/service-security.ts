/**
 * TLS and HTTP basic authentication of the schema registry's and REST proxy's listeners, from the
 * keys Confluent's rest-utils gives both services (`RestConfig`), under the worker's prefixes
 * `schema.registry.` and `rest.proxy.`:
 *
 * - `listeners=https://host:port` with `ssl.keystore.location` / `ssl.keystore.password` /
 *   `ssl.key.password` (PKCS12 or PEM, read as the worker's own listener reads them,
 *   rest-security.ts), `ssl.truststore.*` for client certificates, `ssl.client.authentication`
 *   NONE | REQUESTED | REQUIRED (or the deprecated `ssl.client.auth=true`, REQUIRED).
 * - `authentication.method=BASIC`: every request needs credentials of a user in
 *   `authentication.credentials.file` — Jetty's `PropertyUserStore` file that Confluent's JAAS
 *   section (`authentication.realm`) names: `user: password[,role ...]` lines, a password plain or
 *   `MD5:<hex>`. `authentication.roles`: `*` or `**` any authenticated user, else one of the roles
 *   (Jetty's `KNOWN_ROLE`, `ANY_USER` and role constraints, `AuthUtil.configureAuthentication`); an
 *   empty list nobody. `authentication.skip.paths` are served without credentials.
 *
 * Refusals use Confluent's error shape: 401 `{"error_code":401,"message":"Unauthorized"}` with the
 * challenge `WWW-Authenticate: Basic realm="<realm>"`, 403 `{"error_code":403,"message":"Forbidden"}`.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../api/errors.ts'
import { parseProperties } from '../config/properties.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { basicCredentials, listenerTls, sameSecret, type TlsSettings } from './rest-security.ts'

export interface ServiceUser {
  /** Plain text, or the MD5 digest (hex) for an `MD5:` credential. */
  readonly password: string
  readonly md5: boolean
  readonly roles: ReadonlySet<string>
}

export interface ServiceAuth {
  readonly realm: string
  readonly users: ReadonlyMap<string, ServiceUser>
  /** `any`: every authenticated user; otherwise the roles let in (empty: nobody). */
  readonly roles: 'any' | ReadonlySet<string>
  readonly skipPaths: readonly string[]
}

export interface ServiceListener {
  readonly protocol: 'http' | 'https'
  readonly host: string
  readonly port: number
  readonly tls?: TlsSettings
  readonly auth?: ServiceAuth
}

/** `http(s)://host:port` of a `*.listeners` key; an empty host means every interface. */
export function parseServiceListener(
  key: string,
  value: string,
): { protocol: 'http' | 'https'; host: string; port: number } {
  const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*)?:(\d+)\/?$/.exec(value.trim())
  if (!m) {
    throw new ConfigError(
      key,
      `Invalid value ${value} for configuration ${key}: expected http://host:port or https://host:port such as http://0.0.0.0:8081`,
    )
  }
  return { protocol: m[1] as 'http' | 'https', host: m[2] ?? '', port: Number(m[3]) }
}

const SECURITY_KEYS = new Set(
  ['keystore.location', 'keystore.password', 'key.password', 'keystore.type']
    .concat(['truststore.location', 'truststore.password', 'truststore.type'])
    .map((k) => `ssl.${k}`),
)

/**
 * The listener of a service (`prefix` `schema.registry.` or `rest.proxy.`) with its TLS and
 * authentication; undefined when the service's listener is not set. A ConfigError names the key.
 */
export function serviceListener(config: WorkerConfig, prefix: string): ServiceListener | undefined {
  const value = config.getList(`${prefix}listeners`)[0]
  if (!value) return undefined
  const listener = parseServiceListener(`${prefix}listeners`, value)
  // Keys a service does not define (the worker listener's separate PEM files) read as unset.
  const text = (name: string): string | undefined => {
    if (!SECURITY_KEYS.has(name)) return undefined
    const v = config.get(`${prefix}${name}`)
    const s =
      v === null || v === undefined ? '' : String(typeof v === 'object' ? (v as { value: string }).value : v)
    return s === '' ? undefined : s
  }
  let tls: TlsSettings | undefined
  if (listener.protocol === 'https') {
    const clientAuth = config.getBoolean(`${prefix}ssl.client.auth`)
      ? 'required'
      : (config.getString(`${prefix}ssl.client.authentication`).toLowerCase() as
          | 'none'
          | 'requested'
          | 'required')
    tls = listenerTls({ get: text, name: (key) => `${prefix}${key}` }, clientAuth)
  }
  return { ...listener, ...(tls ? { tls } : {}), ...authOf(config, prefix) }
}

function authOf(config: WorkerConfig, prefix: string): { auth?: ServiceAuth } {
  const method = config.getString(`${prefix}authentication.method`).toUpperCase()
  if (method === 'NONE') return {}
  if (method !== 'BASIC') {
    throw new ConfigError(
      `${prefix}authentication.method`,
      `${prefix}authentication.method=${method} is not served: use BASIC (with ${prefix}authentication.credentials.file) or NONE`,
    )
  }
  const fileKey = `${prefix}authentication.credentials.file`
  const file = config.getString(fileKey)
  if (!file) {
    throw new ConfigError(
      fileKey,
      `${prefix}authentication.method=BASIC needs ${fileKey}: a file of 'user: password[,role ...]' lines (the file of Confluent's JAAS PropertyFileLoginModule)`,
    )
  }
  const roles = config.getList(`${prefix}authentication.roles`)
  return {
    auth: {
      realm: config.getString(`${prefix}authentication.realm`),
      users: readUsers(file, fileKey),
      roles: roles.length === 1 && (roles[0] === '*' || roles[0] === '**') ? 'any' : new Set(roles),
      skipPaths: config.getList(`${prefix}authentication.skip.paths`),
    },
  }
}

/** Jetty's `PropertyUserStore` file: `user: password[,role ...]`. */
export function readUsers(file: string, key: string): Map<string, ServiceUser> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(key, `Cannot read ${key} file ${file}: ${(error as Error).message}`)
  }
  const users = new Map<string, ServiceUser>()
  for (const [user, value] of Object.entries(parseProperties(text))) {
    const comma = value.indexOf(',')
    const credential = (comma < 0 ? value : value.slice(0, comma)).trim()
    const roles = comma < 0 ? [] : value.slice(comma + 1).split(',')
    const scheme = /^([A-Z0-9]+):/.exec(credential)?.[1]
    if (scheme === 'OBF' || scheme === 'CRYPT') {
      throw new ConfigError(
        key,
        `${file} (${key}): the password of user '${user}' is ${scheme}:, which Sluice does not read; write it plain or as MD5:<hex digest>`,
      )
    }
    users.set(user, {
      password: scheme === 'MD5' ? credential.slice(4).toLowerCase() : credential,
      md5: scheme === 'MD5',
      roles: new Set(roles.map((r) => r.trim()).filter((r) => r !== '')),
    })
  }
  if (users.size === 0) {
    throw new ConfigError(
      key,
      `${file} (${key}) has no users: write one 'user: password[,role ...]' line per user`,
    )
  }
  return users
}

/** The refusal a request gets, or undefined when it may proceed. */
export function checkServiceAuth(
  auth: ServiceAuth,
  request: { url: string; headers: Record<string, string | string[] | undefined> },
):
  | { status: 401 | 403; headers: Record<string, string>; body: { error_code: number; message: string } }
  | undefined {
  const path = request.url.split('?')[0]!
  if (
    auth.skipPaths.some((p) =>
      p.endsWith('/*') ? path.startsWith(p.slice(0, -1)) || path === p.slice(0, -2) : path === p,
    )
  )
    return undefined
  const header = request.headers.authorization
  const given = basicCredentials(typeof header === 'string' ? header : undefined)
  const user = given === undefined ? undefined : auth.users.get(given.user)
  const valid =
    given !== undefined &&
    user !== undefined &&
    (user.md5
      ? sameSecret(createHash('md5').update(given.password, 'latin1').digest('hex'), user.password)
      : sameSecret(given.password, user.password))
  if (!valid) {
    return {
      status: 401,
      headers: { 'www-authenticate': `Basic realm="${auth.realm}"` },
      body: { error_code: 401, message: 'Unauthorized' },
    }
  }
  if (auth.roles !== 'any' && ![...user!.roles].some((r) => (auth.roles as ReadonlySet<string>).has(r))) {
    return { status: 403, headers: {}, body: { error_code: 403, message: 'Forbidden' } }
  }
  return undefined
}
