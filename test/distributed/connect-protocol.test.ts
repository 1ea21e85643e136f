/**
 * Kafka Connect's group protocol bytes: the same layout a Java worker writes (hand-assembled
 * expected bytes from the schemas of ConnectProtocol / IncrementalCooperativeConnectProtocol).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  decodeAssignment,
  decodeMetadata,
  emptyAllocation,
  encodeAssignment,
  encodeMetadata,
  offeredProtocols,
} from '../../src/herder/distributed/connect-protocol.ts'

function str(s: string): Buffer {
  const b = Buffer.alloc(2)
  b.writeInt16BE(s.length)
  return Buffer.concat([b, Buffer.from(s)])
}
function i16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
function i64(n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(BigInt(n))
  return b
}

describe('Connect group protocol', () => {
  it('offers sub-protocols per connect.protocol in preference order', () => {
    assert.deepEqual(offeredProtocols('sessioned'), ['sessioned', 'compatible', 'default'])
    assert.deepEqual(offeredProtocols('compatible'), ['compatible', 'default'])
    assert.deepEqual(offeredProtocols('eager'), ['default'])
  })

  it('writes metadata v0 as version, url, config offset', () => {
    const bytes = encodeMetadata('default', {
      url: 'http://h:8083/',
      configOffset: 42,
      allocation: emptyAllocation(),
    })
    assert.deepEqual(bytes, Buffer.concat([i16(0), str('http://h:8083/'), i64(42)]))
    assert.deepEqual(decodeMetadata(bytes), {
      version: 0,
      url: 'http://h:8083/',
      configOffset: 42,
      allocation: emptyAllocation(),
    })
  })

  it('writes metadata v2 with a null allocation when the worker runs nothing', () => {
    const bytes = encodeMetadata('sessioned', { url: 'u', configOffset: 7, allocation: emptyAllocation() })
    assert.deepEqual(bytes, Buffer.concat([i16(2), str('u'), i64(7), i32(-1)]))
  })

  it('writes an assignment v1 with connector -1 first, revoked list and delay', () => {
    const bytes = encodeAssignment('compatible', {
      error: 0,
      leader: 'm1',
      leaderUrl: 'http://l/',
      configOffset: 9,
      assigned: {
        connectors: ['a'],
        tasks: [
          { connector: 'a', task: 0 },
          { connector: 'b', task: 2 },
        ],
      },
      revoked: { connectors: [], tasks: [{ connector: 'c', task: 1 }] },
      delay: 1500,
    })
    const expected = Buffer.concat([
      i16(1),
      i16(0),
      str('m1'),
      str('http://l/'),
      i64(9),
      i32(2),
      str('a'),
      i32(2),
      i32(-1),
      i32(0),
      str('b'),
      i32(1),
      i32(2),
      i32(1),
      str('c'),
      i32(1),
      i32(1),
      i32(1500),
    ])
    assert.deepEqual(bytes, expected)
    const decoded = decodeAssignment(bytes)
    assert.equal(decoded.delay, 1500)
    assert.equal(decoded.leaderUrl, 'http://l/')
    assert.deepEqual(decoded.assigned.connectors, ['a'])
    assert.deepEqual(decoded.assigned.tasks, [
      { connector: 'a', task: 0 },
      { connector: 'b', task: 2 },
    ])
    assert.deepEqual(decoded.revoked.tasks, [{ connector: 'c', task: 1 }])
  })

  it('reads a v1 assignment without its trailing fields (Java tolerates missing fields)', () => {
    const bytes = Buffer.concat([i16(1), i16(1), str('m'), str('u'), i64(3)])
    const decoded = decodeAssignment(bytes)
    assert.equal(decoded.error, 1)
    assert.equal(decoded.delay, 0)
    assert.deepEqual(decoded.assigned, emptyAllocation())
  })

  it('round-trips the allocation a member reports in its metadata', () => {
    const allocation = { connectors: ['x'], tasks: [{ connector: 'x', task: 0 }] }
    const bytes = encodeMetadata('sessioned', { url: 'u', configOffset: 1, allocation })
    assert.deepEqual(decodeMetadata(bytes).allocation, allocation)
  })
})
