/**
 * Warnings of the JDBC source (no index on a polled column, rows that may commit out of order, lost
 * connections), in the worker's log under the connector's or task's name.
 */
import { connectLogger } from '../../../api/log.ts'

export function warn(message: string): void {
  connectLogger().warn(message)
}
