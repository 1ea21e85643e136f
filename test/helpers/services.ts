/**
 * Where the real services of the integration tests are. test/global-setup.ts starts them (or finds
 * them running) and publishes their addresses in the environment of the test processes.
 */

const isCI = process.env.CI === 'true'

const HOW_TO =
  'run the tests with `npm test` (which starts Kafka), or start it with `npx node scripts/kafka.ts start` ' +
  'and export SLUICE_TEST_KAFKA=127.0.0.1:19092'

/**
 * Why tests needing Kafka must skip, or `false` when they can run. Never skips under `CI=true`:
 * there a missing broker makes `kafkaBootstrap()` throw and the tests fail.
 */
export function kafkaSkipReason(): string | false {
  if (isCI || process.env.SLUICE_TEST_KAFKA) return false
  const unavailable = process.env.SLUICE_TEST_KAFKA_UNAVAILABLE
  return unavailable
    ? `Kafka could not start: ${unavailable.split('\n')[0]}`
    : `no Kafka for tests: SLUICE_TEST_KAFKA is not set; ${HOW_TO}`
}

/** `host:port` of the test broker. Throws when there is none (always a failure under CI). */
export function kafkaBootstrap(): string {
  const bootstrap = process.env.SLUICE_TEST_KAFKA
  if (bootstrap) return bootstrap
  const unavailable = process.env.SLUICE_TEST_KAFKA_UNAVAILABLE
  throw new Error(
    unavailable
      ? `Kafka is required${isCI ? ' under CI' : ''} but could not start: ${unavailable}`
      : `Kafka is required${isCI ? ' under CI' : ''} but SLUICE_TEST_KAFKA is not set; ${HOW_TO}`,
  )
}
