/**
 * A self-signed certificate for 127.0.0.1 made by openssl, for tests of https listeners: the key
 * and certificate files, and a PEM keystore holding both (what `*.ssl.keystore.location` takes).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface SelfSigned {
  keyFile: string
  certFile: string
  /** Key and certificate in one PEM file. */
  keystore: string
  /** The certificate's PEM text (to trust it). */
  cert: string
}

export function selfSignedCertificate(dir: string, name = 'server'): SelfSigned {
  const keyFile = join(dir, `${name}.key`)
  const certFile = join(dir, `${name}.crt`)
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ...['-keyout', keyFile, '-out', certFile],
    ],
    { stdio: 'ignore' },
  )
  const cert = readFileSync(certFile, 'utf8')
  const keystore = join(dir, `${name}.pem`)
  writeFileSync(keystore, readFileSync(keyFile, 'utf8') + cert)
  return { keyFile, certFile, keystore, cert }
}
