/**
 * Starts or stops every real service the tests and benchmarks use (`npm run services:start|stop`):
 * the Kafka broker, the PostgreSQL cluster with wal_level=logical, the machine's MariaDB, the
 * MongoDB test server (mongo-java-server), s3proxy (an S3-compatible store) and Apicurio Registry
 * (a Confluent-compatible schema registry for the converter tests); and finds the headless Chromium
 * of the console's tests (launched by each test, nothing to stop).
 */
import { ensureApicurio, stopApicurio } from './apicurio.ts'
import { ensureChromium } from './chromium.ts'
import { ensureKafka, stopKafka } from './kafka.ts'
import { ensureMariadb } from './mariadb.ts'
import { ensureMongo, stopMongo } from './mongo.ts'
import { ensurePostgres, stopPostgres } from './postgres.ts'
import { ensureS3proxy, stopS3proxy } from './s3proxy.ts'

const command = process.argv[2]
if (command === 'start') {
  const [kafka, postgres, mariadb, mongo, s3, apicurio] = await Promise.all([
    ensureKafka(),
    ensurePostgres(),
    ensureMariadb(),
    ensureMongo(),
    ensureS3proxy(),
    ensureApicurio(),
  ])
  process.stdout.write(`export SLUICE_TEST_KAFKA=${kafka.bootstrap}\n`)
  process.stdout.write(`export SLUICE_TEST_POSTGRES=${postgres.url}\n`)
  process.stdout.write(`export SLUICE_TEST_MARIADB=${mariadb}\n`)
  process.stdout.write(`export SLUICE_TEST_MONGODB=${mongo.uri}\n`)
  process.stdout.write(`export SLUICE_TEST_S3=${s3.url}\n`)
  process.stdout.write(`export SLUICE_TEST_APICURIO=${apicurio.url}\n`)
  const chromium = await ensureChromium().catch((error: Error) => {
    process.stderr.write(`Chromium unavailable (console tests will skip): ${error.message}\n`)
    return undefined
  })
  if (chromium) process.stdout.write(`export SLUICE_TEST_CHROMIUM=${chromium}\n`)
} else if (command === 'stop') {
  await stopKafka()
  stopPostgres()
  await stopMongo()
  await stopS3proxy()
  await stopApicurio()
} else {
  process.stderr.write('usage: node scripts/services.ts start|stop\n')
  process.exitCode = 2
}
