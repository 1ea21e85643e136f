/**
 * The REST listener's TLS and HTTP basic authentication, from worker keys.
 *
 * TLS (`listeners=https://host:port`) takes Kafka's `listeners.https.`-prefixed SSL keys (or the
 * unprefixed `ssl.*` ones, as Kafka Connect falls back to them). Sluice reads PEM only, Kafka's
 * `ssl.keystore.type=PEM` form (KIP-651): `ssl.keystore.location` is one PEM file holding the
 * private key and the certificate chain; `ssl.key.password` decrypts an encrypted key;
 * `ssl.truststore.location` is a PEM bundle of CA certificates for client certificates, which
 * `ssl.client.auth` (`none` | `requested` | `required`) asks for. Sluice-specific alternative for
 * files kept apart: `ssl.keystore.certificate.location` + `ssl.keystore.key.location`.
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
import { parseProperties } from '../config/properties.ts'

export interface TlsSettings {
  key: string
  cert: string
  passphrase?: string
  ca?: string
  requestCert: boolean
  rejectUnauthorized: boolean
}

function sslKey(originals: Readonly<Record<string, string>>, key: string): string | undefined {
  const value = originals[`listeners.https.${key}`] ?? originals[key]
  return value === undefined || value === '' ? undefined : value
}

function readPem(file: string, key: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(key, `Cannot read ${key} file ${file}: ${(error as Error).message}`)
  }
  if (!text.includes('-----BEGIN ')) {
    throw new ConfigError(
      key,
      `${file} (${key}) is not a PEM file: Sluice reads PEM only; convert a JKS/PKCS12 keystore with openssl or keytool -importkeystore`,
    )
  }
  return text
}

/** The listener's TLS options, or a ConfigError naming the missing or unreadable key. */
export function tlsSettings(originals: Readonly<Record<string, string>>): TlsSettings {
  const type = sslKey(originals, 'ssl.keystore.type')
  if (type !== undefined && type.toUpperCase() !== 'PEM') {
    throw new ConfigError(
      'listeners.https.ssl.keystore.type',
      `Invalid value ${type} for configuration listeners.https.ssl.keystore.type: Sluice reads PEM keystores only (set PEM)`,
    )
  }
  const certFile = sslKey(originals, 'ssl.keystore.certificate.location')
  const keyFile = sslKey(originals, 'ssl.keystore.key.location')
  const storeFile = sslKey(originals, 'ssl.keystore.location')
  let cert: string
  let key: string
  if (certFile && keyFile) {
    cert = readPem(certFile, 'listeners.https.ssl.keystore.certificate.location')
    key = readPem(keyFile, 'listeners.https.ssl.keystore.key.location')
  } else if (storeFile) {
    cert = readPem(storeFile, 'listeners.https.ssl.keystore.location')
    key = cert
  } else {
    throw new ConfigError(
      'listeners.https.ssl.keystore.location',
      'An https listener needs a certificate: set listeners.https.ssl.keystore.location to a PEM file with the private key and certificate chain',
    )
  }
  const truststore = sslKey(originals, 'ssl.truststore.location')
  const clientAuth = (sslKey(originals, 'ssl.client.auth') ?? 'none').toLowerCase()
  if (!['none', 'requested', 'required'].includes(clientAuth)) {
    throw new ConfigError(
      'listeners.https.ssl.client.auth',
      `Invalid value ${clientAuth} for configuration listeners.https.ssl.client.auth: use none, requested or required`,
    )
  }
  return {
    key,
    cert,
    passphrase: sslKey(originals, 'ssl.key.password'),
    ca: truststore ? readPem(truststore, 'listeners.https.ssl.truststore.location') : undefined,
    requestCert: clientAuth !== 'none',
    rejectUnauthorized: clientAuth === 'required',
  }
}

/** `JaasBasicAuthFilter.INTERNAL_REQUEST_MATCHERS`: method and path of the internal endpoints. */
const INTERNAL_REQUESTS: { method: string; path: RegExp }[] = [
  { method: 'POST', path: /^\/?connectors\/[^/]+\/tasks\/?$/ },
  { method: 'PUT', path: /^\/?connectors\/[^/]+\/fence\/?$/ },
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

/** Checks an `Authorization: Basic …` header; compares in constant time. */
export function authorized(header: string | undefined, credentials: ReadonlyMap<string, string>): boolean {
  if (!header) return false
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'basic') return false
  const decoded = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  const expected = credentials.get(decoded.slice(0, colon))
  if (expected === undefined) return false
  const given = Buffer.from(decoded.slice(colon + 1))
  const wanted = Buffer.from(expected)
  return given.length === wanted.length && timingSafeEqual(given, wanted)
}
