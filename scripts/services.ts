/**
 * Starts or stops every real service the tests and benchmarks use (`npm run services:start|stop`):
 * the Kafka broker, the PostgreSQL cluster with wal_level=logical and the machine's MariaDB.
 */
import { ensureKafka, stopKafka } from './kafka.ts'
import { ensureMariadb } from './mariadb.ts'
import { ensurePostgres, stopPostgres } from './postgres.ts'

const command = process.argv[2]
if (command === 'start') {
  const [kafka, postgres, mariadb] = await Promise.all([ensureKafka(), ensurePostgres(), ensureMariadb()])
  process.stdout.write(`export SLUICE_TEST_KAFKA=${kafka.bootstrap}\n`)
  process.stdout.write(`export SLUICE_TEST_POSTGRES=${postgres.url}\n`)
  process.stdout.write(`export SLUICE_TEST_MARIADB=${mariadb}\n`)
} else if (command === 'stop') {
  await stopKafka()
  stopPostgres()
} else {
  process.stderr.write('usage: node scripts/services.ts start|stop\n')
  process.exitCode = 2
}
