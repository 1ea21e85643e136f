/**
 * Signing of internal requests between workers under the `sessioned` protocol (KIP-507): the
 * leader keeps a random HmacSHA256 key in the config topic (`session-key`), rotated every
 * `inter.worker.key.ttl.ms`; a worker posting task configs to the leader signs the raw body with
 * it in `X-Connect-Authorization` (base64), naming the algorithm in
 * `X-Connect-Request-Signature-Algorithm`. The leader answers 400 for a missing signature or an
 * algorithm it does not accept, 503 when it has no key yet, 403 for a bad signature.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { ConnectError } from '../../api/errors.ts'
import type { SessionKey } from '../../storage/kafka/kafka-config-store.ts'

export const SIGNATURE_HEADER = 'x-connect-authorization'
export const ALGORITHM_HEADER = 'x-connect-request-signature-algorithm'
const ALGORITHM = 'HmacSHA256'

/** A new key: 256 random bits, the default size of Java's HmacSHA256 KeyGenerator. */
export function newSessionKey(now = Date.now()): SessionKey {
  return { key: randomBytes(32).toString('base64'), algorithm: ALGORITHM, creationTimestamp: now }
}

export function sign(body: string | Buffer, key: SessionKey): Record<string, string> {
  const mac = createHmac('sha256', Buffer.from(key.key, 'base64')).update(body).digest('base64')
  return { 'X-Connect-Authorization': mac, 'X-Connect-Request-Signature-Algorithm': ALGORITHM }
}

/** Throws the ConnectError Kafka Connect's `InternalRequestSignature` checks give. */
export function verify(
  body: string,
  headers: Record<string, string | string[] | undefined>,
  key: SessionKey | undefined,
  accepted: readonly string[],
): void {
  const signature = headers[SIGNATURE_HEADER]
  const algorithm = headers[ALGORITHM_HEADER]
  if (typeof signature !== 'string' || typeof algorithm !== 'string') {
    throw new ConnectError('BAD_REQUEST', 'Internal request missing required signature')
  }
  if (!accepted.includes(algorithm)) {
    throw new ConnectError(
      'BAD_REQUEST',
      `This worker does not support the signature algorithm used by other workers in the cluster. Please ensure that all workers are configured to support ${algorithm} in inter.worker.verification.algorithms`,
    )
  }
  if (key === undefined) {
    throw new ConnectError(
      'UNAVAILABLE',
      'This worker is still starting up and has not been able to read a session key from the config topic yet',
    )
  }
  const expected = Buffer.from(sign(body, key)['X-Connect-Authorization'], 'base64')
  const given = Buffer.from(signature, 'base64')
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ConnectError('FORBIDDEN', 'Internal request contained invalid signature.')
  }
}
