/**
 * Warnings of the JDBC source (no index on a polled column, rows that may commit out of order, lost
 * connections). Connectors depend on the API only, which has no logger: like the file connector's,
 * they go through `process.emitWarning`, which the worker's logs capture.
 */
export function warn(message: string): void {
  process.emitWarning(message, { code: 'SLUICE_JDBC_SOURCE' })
}
