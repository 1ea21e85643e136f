/**
 * Errors a distributed herder answers with when a request must run elsewhere or later; the REST
 * layer forwards the first kind (Kafka Connect's `RequestTargetException`) and maps the others to
 * the 409/500 Kafka Connect gives (`DistributedHerder`, `HerderRequestHandler`).
 */
import { ConnectError } from '../../api/errors.ts'

/** The request must run on another worker: the leader, or the owner of a connector/task. */
export class RequestTargetError extends ConnectError {
  /** The target's advertised URL (with a trailing '/'), or null when no leader is known. */
  readonly forwardUrl: string | null
  constructor(forwardUrl: string | null, what: 'leader' | 'owner') {
    super(
      'CONFLICT',
      forwardUrl === null
        ? 'Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.'
        : `This worker is not the ${what} of this request; it runs on ${forwardUrl}`,
    )
    this.forwardUrl = forwardUrl
  }
}

/** A write while the worker's view of the cluster is stale (`RebalanceNeededException` on a write path). */
export class RebalanceNeededError extends ConnectError {
  constructor() {
    super(
      'CONFLICT',
      'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)',
    )
  }
}

/** A read that needs a settled view during a rebalance: Kafka Connect answers 500. */
export function rebalanceExpected(): ConnectError {
  return new ConnectError('RETRIABLE', 'Request cannot be completed because a rebalance is expected')
}
