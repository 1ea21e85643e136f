/**
 * Starts or stops every real service the tests and benchmarks use (`npm run services:start|stop`):
 * the Kafka broker, the PostgreSQL cluster with wal_level=logical, the machine's MariaDB and the
 * MongoDB test server (mongo-java-server); and finds the headless Chromium of the console's tests
 * (launched by each test, nothing to stop).
 */
import { ensureChromium } from './chromium.ts'
import { ensureKafka, stopKafka } from './kafka.ts'
import { ensureMariadb } from './mariadb.ts'
import { ensureMongo, stopMongo } from './mongo.ts'
import { ensurePostgres, stopPostgres } from './postgres.ts'

const command = process.argv[2]
if (command === 'start') {
  const [kafka, postgres, mariadb, mongo] = await Promise.all([
    ensureKafka(),
    ensurePostgres(),
    ensureMariadb(),
    ensureMongo(),
  ])
  process.stdout.write(`export SLUICE_TEST_KAFKA=${kafka.bootstrap}\n`)
  process.stdout.write(`export SLUICE_TEST_POSTGRES=${postgres.url}\n`)
  process.stdout.write(`export SLUICE_TEST_MARIADB=${mariadb}\n`)
  process.stdout.write(`export SLUICE_TEST_MONGODB=${mongo.uri}\n`)
  const chromium = await ensureChromium().catch((error: Error) => {
    process.stderr.write(`Chromium unavailable (console tests will skip): ${error.message}\n`)
    return undefined
  })
  if (chromium) process.stdout.write(`export SLUICE_TEST_CHROMIUM=${chromium}\n`)
} else if (command === 'stop') {
  await stopKafka()
  stopPostgres()
  await stopMongo()
} else {
  process.stderr.write('usage: node scripts/services.ts start|stop\n')
  process.exitCode = 2
}
