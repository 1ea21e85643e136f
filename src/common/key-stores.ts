/**
 * Keystores and truststores named by Java's `ssl.keystore.*` / `ssl.truststore.*` keys, read into
 * the PEM Node's TLS takes. Two formats, told apart by their content (so a `.jks` file that keytool
 * wrote as PKCS12, its default since Java 9, is read whatever `ssl.*.type` says):
 *
 * - PEM (`type=PEM`, KIP-651): a keystore file holds the private key and the certificate chain, a
 *   truststore file the CA certificates; `ssl.key.password` decrypts an encrypted key.
 * - PKCS12 (RFC 7292), as keytool (Java 17+) and OpenSSL 3 write them: certificate bags, plain or
 *   in PBES2-encrypted safe contents (PBKDF2 with HMAC-SHA1/256/384/512, AES-CBC), and shrouded
 *   key bags, which Node decrypts. The store password (`ssl.keystore.password`,
 *   `ssl.truststore.password`) opens the contents; the key password (`ssl.key.password`, else the
 *   store password) the key. Stores of the legacy RC2/3DES schemes (Java 8, OpenSSL 1.x) and JKS
 *   stores are refused with the command that converts them; the MAC is not checked (a wrong
 *   password shows as a failed decryption).
 *
 * Every failure is a ConfigError naming the key to fix.
 */
import { createDecipheriv, createPrivateKey, pbkdf2Sync, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../api/errors.ts'

/** Where a store is configured: its file and the keys to name in errors. */
export interface StoreKeys {
  /** e.g. `schema.registry.ssl.keystore.location` */
  locationKey: string
  location: string
  /** e.g. `schema.registry.ssl.keystore.password` */
  passwordKey: string
  password?: string
  typeKey: string
  type?: string
}

export interface KeyStore {
  /** PEM private key (still encrypted when it was an encrypted PEM key: see `passphrase`). */
  key: string
  /** PEM certificate chain, the key's certificate first. */
  cert: string
  passphrase?: string
}

const TYPES = ['PEM', 'PKCS12', 'JKS']

function readStore(keys: StoreKeys): Buffer {
  const type = keys.type?.trim().toUpperCase()
  if (type && !TYPES.includes(type)) {
    throw new ConfigError(
      keys.typeKey,
      `Invalid value ${keys.type} for configuration ${keys.typeKey}: Sluice reads PEM and PKCS12 stores (set PEM or PKCS12)`,
    )
  }
  try {
    return readFileSync(keys.location)
  } catch (error) {
    throw new ConfigError(
      keys.locationKey,
      `Cannot read ${keys.locationKey} file ${keys.location}: ${(error as Error).message}`,
    )
  }
}

function isPem(bytes: Buffer): boolean {
  return bytes.includes('-----BEGIN ')
}

function unreadable(keys: StoreKeys, bytes: Buffer): ConfigError {
  const jks =
    bytes.length >= 4 && (bytes.readUInt32BE(0) === 0xfeedfeed || bytes.readUInt32BE(0) === 0xcececece)
  return new ConfigError(
    keys.locationKey,
    jks
      ? `${keys.location} (${keys.locationKey}) is a JKS keystore, which only Java reads: convert it with ` +
          `keytool -importkeystore -srckeystore ${keys.location} -destkeystore store.p12 -deststoretype PKCS12`
      : `${keys.location} (${keys.locationKey}) is neither a PEM file nor a PKCS12 store`,
  )
}

/** The private key and certificate chain of a keystore; `keyPassword` is `ssl.key.password`. */
export function readKeyStore(
  keys: StoreKeys,
  keyPassword: { key: string; value: string | undefined },
): KeyStore {
  const bytes = readStore(keys)
  if (isPem(bytes)) {
    const text = bytes.toString('utf8')
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || !text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        keys.locationKey,
        `${keys.location} (${keys.locationKey}) must hold the private key and the certificate chain (PEM)`,
      )
    }
    return { key: text, cert: text, passphrase: keyPassword.value || keys.password || undefined }
  }
  if (bytes[0] !== 0x30) throw unreadable(keys, bytes)
  const contents = readPkcs12(bytes, keys)
  if (contents.keys.length === 0 || contents.certs.length === 0) {
    throw new ConfigError(
      keys.locationKey,
      `${keys.location} (${keys.locationKey}) has no private key entry: a keystore needs the key and its certificate (keytool -genkeypair, or openssl pkcs12 -export)`,
    )
  }
  let key: string
  try {
    key = createPrivateKey({
      key: contents.keys[0],
      format: 'der',
      type: 'pkcs8',
      passphrase: keyPassword.value || keys.password || '',
    })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
  } catch (error) {
    throw new ConfigError(
      keyPassword.value ? keyPassword.key : keys.passwordKey,
      `Cannot decrypt the private key of ${keys.location}: ${(error as Error).message} (check ${keyPassword.key}, which defaults to ${keys.passwordKey})`,
    )
  }
  return { key, cert: orderChain(contents.certs, key).join('') }
}

/** The CA certificates of a truststore, as one PEM bundle. */
export function readTrustStore(keys: StoreKeys): string {
  const bytes = readStore(keys)
  if (isPem(bytes)) {
    const text = bytes.toString('utf8')
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(keys.locationKey, `${keys.location} (${keys.locationKey}) holds no certificate`)
    }
    return text
  }
  if (bytes[0] !== 0x30) throw unreadable(keys, bytes)
  const { certs } = readPkcs12(bytes, keys)
  if (certs.length === 0)
    throw new ConfigError(keys.locationKey, `${keys.location} (${keys.locationKey}) holds no certificate`)
  return certs.join('')
}

/** The key's certificate first, then the others (the order TLS sends a chain in). */
function orderChain(certs: string[], keyPem: string): string[] {
  const key = createPrivateKey(keyPem)
  const leaf = certs.findIndex((c) => new X509Certificate(c).checkPrivateKey(key))
  return leaf <= 0 ? certs : [certs[leaf], ...certs.filter((_, i) => i !== leaf)]
}

// ---- PKCS12 (RFC 7292) -------------------------------------------------------------------------

interface Der {
  tag: number
  content: Buffer
}

/** The DER elements of `buffer` in sequence (definite lengths only, as DER has). */
function elements(buffer: Buffer): Der[] {
  const out: Der[] = []
  let pos = 0
  while (pos < buffer.length) {
    const tag = buffer[pos++]
    let length = buffer[pos++]
    if (length === 0x80) throw new Error('indefinite-length encoding (BER) is not read')
    if (length > 0x80) {
      const count = length & 0x7f
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + buffer[pos++]
    }
    if (pos + length > buffer.length) throw new Error('truncated DER element')
    out.push({ tag, content: buffer.subarray(pos, pos + length) })
    pos += length
  }
  return out
}

function oid(der: Der): string {
  if (der.tag !== 0x06) throw new Error('expected an object identifier')
  const bytes = der.content
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40]
  let value = 0
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f)
    if ((bytes[i] & 0x80) === 0) {
      parts.push(value)
      value = 0
    }
  }
  return parts.join('.')
}

function integer(der: Der): number {
  let value = 0
  for (const byte of der.content) value = value * 256 + byte
  return value
}

/** The bytes of an OCTET STRING, primitive or (BER) constructed. */
function octets(der: Der): Buffer {
  if (der.tag === 0x04 || der.tag === 0x80) return der.content
  if (der.tag === 0x24 || der.tag === 0xa0) return Buffer.concat(elements(der.content).map(octets))
  throw new Error('expected an octet string')
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
}
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
}
const AES: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
}

interface Pkcs12Contents {
  /** PKCS#8 DER, encrypted (shrouded) or not. */
  keys: Buffer[]
  /** PEM certificates. */
  certs: string[]
}

function readPkcs12(bytes: Buffer, keys: StoreKeys): Pkcs12Contents {
  const out: Pkcs12Contents = { keys: [], certs: [] }
  try {
    const [pfx] = elements(bytes)
    const [, authSafe] = elements(pfx.content)
    for (const info of elements(elements(contentOf(authSafe, OID.data))[0].content)) {
      const [type, explicit] = elements(info.content)
      const kind = oid(type)
      if (kind === OID.data) readBags(octets(elements(explicit.content)[0]), out)
      else if (kind === OID.encryptedData) readBags(decrypt(elements(explicit.content)[0], keys), out)
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(
      keys.locationKey,
      `${keys.location} (${keys.locationKey}) is not a readable PKCS12 store: ${(error as Error).message}`,
    )
  }
  return out
}

/** The octets of a ContentInfo of the given type. */
function contentOf(info: Der, type: string): Buffer {
  const [t, explicit] = elements(info.content)
  if (oid(t) !== type) throw new Error(`unexpected content type ${oid(t)}`)
  return octets(elements(explicit.content)[0])
}

function readBags(safeContents: Buffer, out: Pkcs12Contents): void {
  for (const bag of elements(elements(safeContents)[0].content)) {
    const [id, explicit] = elements(bag.content)
    switch (oid(id)) {
      case OID.keyBag:
      case OID.shroudedKeyBag:
        out.keys.push(Buffer.from(explicit.content))
        break
      case OID.certBag: {
        const [certId, certValue] = elements(elements(explicit.content)[0].content)
        if (oid(certId) === OID.x509Certificate) {
          out.certs.push(new X509Certificate(octets(elements(certValue.content)[0])).toString())
        }
        break
      }
      case OID.safeContentsBag:
        readBags(explicit.content, out)
        break
    }
  }
}

/** Decrypts an EncryptedData (PBES2 only) with the store password. */
function decrypt(encryptedData: Der, keys: StoreKeys): Buffer {
  const [, encryptedContentInfo] = elements(encryptedData.content)
  const [, algorithm, encrypted] = elements(encryptedContentInfo.content)
  const [algorithmId, params] = elements(algorithm.content)
  if (oid(algorithmId) !== OID.pbes2) {
    throw new ConfigError(
      keys.locationKey,
      `${keys.location} (${keys.locationKey}) is encrypted with a legacy PKCS12 scheme (${oid(algorithmId)}, RC2 or 3DES of Java 8 and OpenSSL 1.x): ` +
        're-export it with AES, e.g. keytool -importkeystore (Java 17+) or openssl pkcs12 -export (OpenSSL 3), or use a PEM file',
    )
  }
  const [kdf, scheme] = elements(params.content)
  const [kdfId, kdfParams] = elements(kdf.content)
  if (oid(kdfId) !== OID.pbkdf2) throw new Error(`unsupported key derivation ${oid(kdfId)}`)
  const kdfFields = elements(kdfParams.content)
  const salt = octets(kdfFields[0])
  const iterations = integer(kdfFields[1])
  const prfField = kdfFields.slice(2).find((f) => f.tag === 0x30)
  const hash = prfField ? PRF[oid(elements(prfField.content)[0])] : 'sha1'
  const [cipherId, iv] = elements(scheme.content)
  const cipher = AES[oid(cipherId)]
  if (!hash || !cipher) throw new Error(`unsupported cipher ${oid(cipherId)}`)
  const keyLength = Number(/aes-(\d+)/.exec(cipher)![1]) / 8
  const key = pbkdf2Sync(Buffer.from(keys.password ?? '', 'utf8'), salt, iterations, keyLength, hash)
  try {
    const decipher = createDecipheriv(cipher, key, octets(iv))
    return Buffer.concat([decipher.update(octets(encrypted)), decipher.final()])
  } catch {
    throw new ConfigError(
      keys.passwordKey,
      `Cannot open ${keys.location} (${keys.locationKey}): wrong ${keys.passwordKey}`,
    )
  }
}
