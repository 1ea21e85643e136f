/**
 * The REST listener's TLS and HTTP basic authentication, from worker keys.
 *
 * TLS (`listeners=https://host:port`) takes Kafka's `listeners.https.`-prefixed SSL keys (or the
 * unprefixed `ssl.*` ones, as Kafka Connect falls back to them). `ssl.keystore.location` is a PEM
 * file holding the private key and the certificate chain (Kafka's `ssl.keystore.type=PEM`, KIP-651;
 * `ssl.key.password` decrypts an encrypted key) or a PKCS12 keystore (`ssl.keystore.password`);
 * `ssl.truststore.location` holds the CA certificates for client certificates (PEM or PKCS12), which
 * `ssl.client.auth` (`none` | `requested` | `required`) asks for. Sluice-specific alternative for
 * files kept apart: `ssl.keystore.certificate.location` + `ssl.keystore.key.location`. The same
 * reading serves the schema registry's and REST proxy's listeners (service-security.ts).
 *
 * Basic auth: Kafka Connect's `BasicAuthSecurityRestExtension` checks credentials against a JAAS
 * `PropertyFileLoginModule` file of `user=password` lines. Sluice reads the same file, named by
 * `rest.basic.auth.credentials.file`; without it, no authentication. Failures answer 401
 * "User cannot access the resource." as the extension does.
 *
 * Internal requests between workers carry no user credentials: like Kafka Connect's
 * `JaasBasicAuthFilter`, which lets `POST /connectors/{c}/tasks` and `PUT /connectors/{c}/fence`
 * through, basic auth skips them; they are authenticated instead by their KIP-507 signature
 * (HmacSHA256 with the session key), which the herder checks. Sluice skips basic auth only for such a
 * request that carries a signature (Connect also lets unsigned ones through, which under the
 * unsessioned protocols leaves the endpoint open); an unsigned one needs credentials like any other.
 */
import { timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../api/errors.ts'
import { readKeyStore, readTrustStore } from '../common/key-stores.ts'
import { parseProperties } from '../config/properties.ts'

export interface TlsSettings {
  key: string
  cert: string
  passphrase?: string
  ca?: string
  requestCert: boolean
  rejectUnauthorized: boolean
}

/** Where a listener's `ssl.*` keys come from: their values and the full names to put in errors. */
export interface SslKeys {
  get(key: string): string | undefined
  name(key: string): string
}

/**
 * TLS options of a listener from its `ssl.*` keys: the keystore (PEM or PKCS12, common/key-stores.ts;
 * or PEM `ssl.keystore.certificate.location` + `ssl.keystore.key.location`), the truststore that
 * verifies client certificates, and whether they are asked for. A ConfigError names the key to fix.
 */
export function listenerTls(ssl: SslKeys, clientAuth: 'none' | 'requested' | 'required'): TlsSettings {
  const certFile = ssl.get('ssl.keystore.certificate.location')
  const keyFile = ssl.get('ssl.keystore.key.location')
  const storeFile = ssl.get('ssl.keystore.location')
  const keyPassword = { key: ssl.name('ssl.key.password'), value: ssl.get('ssl.key.password') }
  let store: { key: string; cert: string; passphrase?: string }
  if (certFile && keyFile) {
    store = {
      cert: readPem(certFile, ssl.name('ssl.keystore.certificate.location')),
      key: readPem(keyFile, ssl.name('ssl.keystore.key.location')),
      passphrase: keyPassword.value,
    }
  } else if (storeFile) {
    store = readKeyStore(
      {
        location: storeFile,
        locationKey: ssl.name('ssl.keystore.location'),
        password: ssl.get('ssl.keystore.password'),
        passwordKey: ssl.name('ssl.keystore.password'),
        type: ssl.get('ssl.keystore.type'),
        typeKey: ssl.name('ssl.keystore.type'),
      },
      keyPassword,
    )
  } else {
    throw new ConfigError(
      ssl.name('ssl.keystore.location'),
      `An https listener needs a certificate: set ${ssl.name('ssl.keystore.location')} to a PEM file (private key and certificate chain) or a PKCS12 keystore`,
    )
  }
  const truststore = ssl.get('ssl.truststore.location')
  if (clientAuth !== 'none' && !truststore) {
    throw new ConfigError(
      ssl.name('ssl.truststore.location'),
      `Client certificates are ${clientAuth} but no truststore verifies them: set ${ssl.name('ssl.truststore.location')} to the CA certificates (PEM or PKCS12)`,
    )
  }
  return {
    ...store,
    ca: truststore
      ? readTrustStore({
          location: truststore,
          locationKey: ssl.name('ssl.truststore.location'),
          password: ssl.get('ssl.truststore.password'),
          passwordKey: ssl.name('ssl.truststore.password'),
          type: ssl.get('ssl.truststore.type'),
          typeKey: ssl.name('ssl.truststore.type'),
        })
      : undefined,
    requestCert: clientAuth !== 'none',
    rejectUnauthorized: clientAuth === 'required',
  }
}

function readPem(file: string, key: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(key, `Cannot read ${key} file ${file}: ${(error as Error).message}`)
  }
  if (!text.includes('-----BEGIN ')) throw new ConfigError(key, `${file} (${key}) is not a PEM file`)
  return text
}

/** The worker's REST listener: `listeners.https.ssl.*`, falling back to `ssl.*` as Kafka Connect does. */
export function tlsSettings(originals: Readonly<Record<string, string>>): TlsSettings {
  const ssl: SslKeys = {
    get: (key) => {
      const value = originals[`listeners.https.${key}`] ?? originals[key]
      return value === undefined || value === '' ? undefined : value
    },
    name: (key) => `listeners.https.${key}`,
  }
  const clientAuth = (ssl.get('ssl.client.auth') ?? 'none').toLowerCase()
  if (clientAuth !== 'none' && clientAuth !== 'requested' && clientAuth !== 'required') {
    throw new ConfigError(
      'listeners.https.ssl.client.auth',
      `Invalid value ${clientAuth} for configuration listeners.https.ssl.client.auth: use none, requested or required`,
    )
  }
  return listenerTls(ssl, clientAuth)
}

/** `JaasBasicAuthFilter.INTERNAL_REQUEST_MATCHERS`: method and path of the internal endpoints. */
const INTERNAL_REQUESTS: { method: string; path: RegExp }[] = [
  { method: 'POST', path: /^\/?connectors\/[^/]+\/tasks\/?$/ },
  { method: 'PUT', path: /^\/?connectors\/[^/]+\/fence\/?$/ },
  // The leader's read of a member's task counters (rest/cluster-metrics-resource.ts).
  { method: 'GET', path: /^\/?sluice\/internal\/metrics\/?$/ },
]

/** Whether basic auth applies: not to a signed internal request (see above). */
export function requiresCredentials(request: {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
}): boolean {
  if (typeof request.headers['x-connect-authorization'] !== 'string') return true
  const path = request.url.split('?')[0]
  return !INTERNAL_REQUESTS.some((r) => r.method === request.method && r.path.test(path))
}

/** `user=password` lines (Kafka's PropertyFileLoginModule file). */
export function readCredentials(file: string): Map<string, string> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(
      'rest.basic.auth.credentials.file',
      `Cannot read the REST credentials file ${file}: ${(error as Error).message}`,
    )
  }
  const credentials = new Map(Object.entries(parseProperties(text)))
  if (credentials.size === 0) {
    throw new ConfigError(
      'rest.basic.auth.credentials.file',
      `${file} has no credentials: write one user=password line per user`,
    )
  }
  return credentials
}

/** The user and password of an `Authorization: Basic …` header; undefined when there is none. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'basic') return undefined
  const decoded = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Whether two secrets are equal, in time independent of where they differ. */
export function sameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Checks an `Authorization: Basic …` header; compares in constant time. */
export function authorized(header: string | undefined, credentials: ReadonlyMap<string, string>): boolean {
  const given = basicCredentials(header)
  if (given === undefined) return false
  const expected = credentials.get(given.user)
  return expected !== undefined && sameSecret(given.password, expected)
}
