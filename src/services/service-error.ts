/**
 * The errors of the worker's Confluent-compatible services (the schema registry and the REST
 * proxy). Confluent's servers answer `{"error_code": <code>, "message": …}` where the code is a
 * five-digit refinement of the HTTP status (40401 = 404, subject not found); these errors carry
 * both, and the HTTP layer sends them as they are. The codes are Confluent's
 * (`io.confluent.kafka.schemaregistry.rest.exceptions.Errors`, kafka-rest's `Errors` and rest-utils'
 * `KafkaExceptionMapper`), so clients that branch on them keep working.
 */

export class ServiceError extends Error {
  /** The HTTP status. */
  readonly status: number
  /** Confluent's error code (the HTTP status, or a five-digit refinement of it). */
  readonly errorCode: number

  constructor(errorCode: number, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ServiceError'
    this.errorCode = errorCode
    this.status = options.status ?? (errorCode >= 10_000 ? Math.floor(errorCode / 100) : errorCode)
  }
}

/** Schema registry error codes (Confluent's `Errors`). */
export const RegistryErrors = {
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  VERSION_SOFT_DELETED: 40406,
  VERSION_NOT_SOFT_DELETED: 40407,
  SUBJECT_COMPATIBILITY_NOT_CONFIGURED: 40408,
  SUBJECT_MODE_NOT_CONFIGURED: 40409,
  INCOMPATIBLE_SCHEMA: 40901,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  OPERATION_NOT_PERMITTED: 42205,
  REFERENCE_EXISTS: 42206,
  ID_DOES_NOT_MATCH: 42207,
  INVALID_SUBJECT: 42208,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
  REQUEST_FORWARDING_FAILED: 50003,
  UNKNOWN_LEADER: 50004,
} as const

export const subjectNotFound = (subject: string): ServiceError =>
  new ServiceError(RegistryErrors.SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`)

export const versionNotFound = (version: number | string): ServiceError =>
  new ServiceError(RegistryErrors.VERSION_NOT_FOUND, `Version ${version} not found.`)

export const schemaNotFound = (id?: number | string): ServiceError =>
  new ServiceError(
    RegistryErrors.SCHEMA_NOT_FOUND,
    id === undefined ? 'Schema not found' : `Schema ${id} not found`,
  )

export const invalidSchema = (message: string): ServiceError =>
  new ServiceError(RegistryErrors.INVALID_SCHEMA, message)

export const invalidVersion = (version: string): ServiceError =>
  new ServiceError(
    RegistryErrors.INVALID_VERSION,
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  )

export const operationNotPermitted = (message: string): ServiceError =>
  new ServiceError(RegistryErrors.OPERATION_NOT_PERMITTED, message)
