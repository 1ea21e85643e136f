/**
 * Where the real services of the integration tests are. test/global-setup.ts starts them (or finds
 * them running) and publishes their addresses in the environment of the test processes.
 *
 * Each service has `<name>SkipReason()` (for `test(..., { skip })`; never skips under `CI=true`,
 * where a missing service makes the address function throw and the tests fail) and an address
 * function.
 */

const isCI = process.env.CI === 'true'

interface Service {
  variable: string
  name: string
  howTo: string
}

const KAFKA: Service = {
  variable: 'SLUICE_TEST_KAFKA',
  name: 'Kafka',
  howTo:
    'run the tests with `npm test` (which starts Kafka), or start it with `npx node scripts/kafka.ts start` ' +
    'and export SLUICE_TEST_KAFKA=127.0.0.1:19092',
}
const POSTGRES: Service = {
  variable: 'SLUICE_TEST_POSTGRES',
  name: 'PostgreSQL',
  howTo:
    'run the tests with `npm test` (which starts a cluster with wal_level=logical), or start it with ' +
    '`npx node scripts/postgres.ts start` and export SLUICE_TEST_POSTGRES=postgres://postgres@127.0.0.1:15432/postgres',
}
const MARIADB: Service = {
  variable: 'SLUICE_TEST_MARIADB',
  name: 'MariaDB',
  howTo:
    'start the machine MariaDB (root, empty password) and export SLUICE_TEST_MARIADB=mysql://root@127.0.0.1:3306',
}

const MONGODB: Service = {
  variable: 'SLUICE_TEST_MONGODB',
  name: 'MongoDB',
  howTo:
    'run the tests with `npm test` (which starts mongo-java-server), or start it with ' +
    '`npx node scripts/mongo.ts start` and export SLUICE_TEST_MONGODB=mongodb://127.0.0.1:27117/?directConnection=true',
}

const S3: Service = {
  variable: 'SLUICE_TEST_S3',
  name: 's3proxy',
  howTo:
    'run the tests with `npm test` (which starts s3proxy), or start it with `npx node scripts/s3proxy.ts start` ' +
    'and export SLUICE_TEST_S3=http://127.0.0.1:19380',
}

const APICURIO: Service = {
  variable: 'SLUICE_TEST_APICURIO',
  name: 'Apicurio Registry',
  howTo:
    'run the tests with `npm test` (which starts it), or start it with `npx node scripts/apicurio.ts start` ' +
    'and export SLUICE_TEST_APICURIO=http://127.0.0.1:18381/apis/ccompat/v7',
}

const CHROMIUM: Service = {
  variable: 'SLUICE_TEST_CHROMIUM',
  name: 'Chromium',
  howTo:
    "install Debian's package (apt-get install -y chromium) and export SLUICE_TEST_CHROMIUM=/usr/bin/chromium",
}

function skipReason(service: Service): string | false {
  if (isCI || process.env[service.variable]) return false
  const unavailable = process.env[`${service.variable}_UNAVAILABLE`]
  return unavailable
    ? `${service.name} could not start: ${unavailable.split('\n')[0]}`
    : `no ${service.name} for tests: ${service.variable} is not set; ${service.howTo}`
}

function address(service: Service): string {
  const value = process.env[service.variable]
  if (value) return value
  const unavailable = process.env[`${service.variable}_UNAVAILABLE`]
  const required = `${service.name} is required${isCI ? ' under CI' : ''}`
  throw new Error(
    unavailable
      ? `${required} but could not start: ${unavailable}`
      : `${required} but ${service.variable} is not set; ${service.howTo}`,
  )
}

/** Why tests needing Kafka must skip, or `false` when they can run. */
export const kafkaSkipReason = (): string | false => skipReason(KAFKA)
/** `host:port` of the test broker. Throws when there is none (always a failure under CI). */
export const kafkaBootstrap = (): string => address(KAFKA)

/** Why tests needing PostgreSQL (wal_level=logical) must skip, or `false`. */
export const postgresSkipReason = (): string | false => skipReason(POSTGRES)
/** libpq URL (`postgres://postgres@127.0.0.1:15432/postgres`) of the test cluster's superuser. */
export const postgresUrl = (): string => address(POSTGRES)

/** Why tests needing MariaDB must skip, or `false`. */
export const mariadbSkipReason = (): string | false => skipReason(MARIADB)
/** `mysql://root@127.0.0.1:3306` (no database) of the test server. */
export const mariadbUrl = (): string => address(MARIADB)

/** Why tests needing the MongoDB test server must skip, or `false`. */
export const mongoSkipReason = (): string | false => skipReason(MONGODB)
/** `mongodb://127.0.0.1:27117/?directConnection=true` of the test server (mongo-java-server). */
export const mongoUrl = (): string => address(MONGODB)
/** Why tests needing an S3-compatible store must skip, or `false`. */
export const s3SkipReason = (): string | false => skipReason(S3)
/** `http://127.0.0.1:19380` of the test store (s3proxy, no authorization). */
export const s3Url = (): string => address(S3)

/** Why tests needing a Confluent-compatible registry (Apicurio) must skip, or `false`. */
export const apicurioSkipReason = (): string | false => skipReason(APICURIO)
/** The Confluent-compatible base URL of the test Apicurio Registry (`…/apis/ccompat/v7`). */
export const apicurioUrl = (): string => address(APICURIO)

/** Why the console's browser tests must skip, or `false`. */
export const chromiumSkipReason = (): string | false => skipReason(CHROMIUM)
/** Path of the headless Chromium binary (`/usr/bin/chromium`). */
export const chromiumExecutable = (): string => address(CHROMIUM)
