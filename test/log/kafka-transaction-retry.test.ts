/**
 * The transactional producer's retry delay: only the first retry of an AddPartitionsToTxn refused with
 * CONCURRENT_TRANSACTIONS is short (20 ms, Java's `ADD_PARTITIONS_RETRY_BACKOFF_MS`); every other retry
 * keeps the configured delay.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { transactionRetryDelay } from '../../src/log/kafka/kafka-log.ts'

/** The shape @platformatic/kafka gives a refused request: errors nested, each with its `apiId`. */
function refused(apiId: string): Error {
  return Object.assign(new Error('Received response with error while executing API'), {
    errors: [Object.assign(new Error(apiId), { apiId })],
  })
}

describe('transactional producer retry delay', () => {
  const delay = transactionRetryDelay(250)

  it('retries the first AddPartitionsToTxn refused with CONCURRENT_TRANSACTIONS after 20 ms', () => {
    assert.equal(delay({}, 'addPartitionsToTransaction', 1, 3, refused('CONCURRENT_TRANSACTIONS')), 20)
  })

  it('keeps the configured delay for later attempts, other errors and other requests', () => {
    assert.equal(delay({}, 'addPartitionsToTransaction', 2, 3, refused('CONCURRENT_TRANSACTIONS')), 250)
    assert.equal(delay({}, 'addPartitionsToTransaction', 1, 3, refused('COORDINATOR_NOT_AVAILABLE')), 250)
    assert.equal(delay({}, 'endTransaction', 1, 3, refused('CONCURRENT_TRANSACTIONS')), 250)
    assert.equal(delay({}, 'produce', 1, 3, new Error('socket hang up')), 250)
  })

  it('never waits longer than the configured delay', () => {
    assert.equal(
      transactionRetryDelay(5)({}, 'addPartitionsToTransaction', 1, 3, refused('CONCURRENT_TRANSACTIONS')),
      5,
    )
  })
})
