/**
 * Global setup of `npm test` (`node --test --test-global-setup=test/global-setup.ts`): brings up the
 * real services the integration tests talk to, or reuses the ones already running, and tears down
 * only what it started. The test processes inherit `process.env` as it is after `globalSetup`
 * (checked on Node 24), so this is how they learn where the services are.
 *
 * Under `CI=true` a service that cannot start fails the run. Elsewhere the reason is passed on and
 * the tests that need the service skip with it (see test/helpers/services.ts).
 */
import { ensureApicurio, stopApicurio } from '../scripts/apicurio.ts'
import { ensureChromium } from '../scripts/chromium.ts'
import { ensureKafka, stopKafka } from '../scripts/kafka.ts'
import { ensureMariadb } from '../scripts/mariadb.ts'
import { ensureMongo, stopMongo } from '../scripts/mongo.ts'
import { ensurePostgres, stopPostgres } from '../scripts/postgres.ts'
import { ensureS3proxy, stopS3proxy } from '../scripts/s3proxy.ts'

let kafkaStartedHere = false
let postgresStartedHere = false
let mongoStartedHere = false
let s3proxyStartedHere = false
let apicurioStartedHere = false

/** Runs `start` unless `variable` is already set; publishes the address or why it is missing. */
async function provide(variable: string, name: string, start: () => Promise<string>): Promise<void> {
  if (process.env[variable]) return
  try {
    process.env[variable] = await start()
  } catch (error) {
    if (process.env.CI === 'true') throw error
    const reason = error instanceof Error ? error.message : String(error)
    process.env[`${variable}_UNAVAILABLE`] = reason
    process.stderr.write(`[global-setup] ${name} unavailable, tests that need it will skip: ${reason}\n`)
  }
}

export async function globalSetup(): Promise<void> {
  // allSettled, then stop what did start: when setup throws, the runner never calls the teardown.
  const results = await Promise.allSettled([
    provide('SLUICE_TEST_KAFKA', 'Kafka', async () => {
      const kafka = await ensureKafka()
      kafkaStartedHere = kafka.startedHere
      return kafka.bootstrap
    }),
    provide('SLUICE_TEST_POSTGRES', 'PostgreSQL', async () => {
      const postgres = await ensurePostgres()
      postgresStartedHere = postgres.startedHere
      return postgres.url
    }),
    provide('SLUICE_TEST_MARIADB', 'MariaDB', () => ensureMariadb()),
    provide('SLUICE_TEST_MONGODB', 'MongoDB', async () => {
      const mongo = await ensureMongo()
      mongoStartedHere = mongo.startedHere
      return mongo.uri
    }),
    provide('SLUICE_TEST_S3', 's3proxy', async () => {
      const s3 = await ensureS3proxy()
      s3proxyStartedHere = s3.startedHere
      return s3.url
    }),
    provide('SLUICE_TEST_APICURIO', 'Apicurio Registry', async () => {
      const apicurio = await ensureApicurio()
      apicurioStartedHere = apicurio.startedHere
      return apicurio.url
    }),
    provide('SLUICE_TEST_CHROMIUM', 'Chromium', () => ensureChromium()),
  ])
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) {
    await globalTeardown()
    throw failed.reason
  }
}

export async function globalTeardown(): Promise<void> {
  if (kafkaStartedHere) await stopKafka()
  if (postgresStartedHere) stopPostgres()
  if (mongoStartedHere) await stopMongo()
  if (s3proxyStartedHere) await stopS3proxy()
  if (apicurioStartedHere) await stopApicurio()
}
