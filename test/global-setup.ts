/**
 * Global setup of `npm test` (`node --test --test-global-setup=test/global-setup.ts`): brings up the
 * real services the integration tests talk to, or reuses the ones already running, and tears down
 * only what it started. The test processes inherit `process.env` as it is after `globalSetup`
 * (checked on Node 24), so this is how they learn where the services are.
 *
 * Under `CI=true` a service that cannot start fails the run. Elsewhere the reason is passed on and
 * the tests that need the service skip with it (see test/helpers/services.ts).
 */
import { ensureKafka, stopKafka } from '../scripts/kafka.ts'

let kafkaStartedHere = false

export async function globalSetup(): Promise<void> {
  // A bootstrap given from outside (another cluster) is used as is.
  if (process.env.SLUICE_TEST_KAFKA) return
  try {
    const kafka = await ensureKafka()
    kafkaStartedHere = kafka.startedHere
    process.env.SLUICE_TEST_KAFKA = kafka.bootstrap
  } catch (error) {
    if (process.env.CI === 'true') throw error
    const reason = error instanceof Error ? error.message : String(error)
    process.env.SLUICE_TEST_KAFKA_UNAVAILABLE = reason
    process.stderr.write(`[global-setup] Kafka unavailable, tests that need it will skip: ${reason}\n`)
  }
}

export async function globalTeardown(): Promise<void> {
  if (kafkaStartedHere) await stopKafka()
}
