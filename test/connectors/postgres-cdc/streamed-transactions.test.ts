import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  decodePgOutput,
  PG_EPOCH_OFFSET_US,
  streamedXid,
} from '../../../src/connectors/postgres-cdc/pgoutput-decoder.ts'
import type { XLogData } from '../../../src/connectors/postgres-cdc/replication-connection.ts'
import { StreamedTransactions } from '../../../src/connectors/postgres-cdc/streamed-transactions.ts'

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(n)
  return b
}
const start = (xid: number, first: boolean): Buffer =>
  Buffer.concat([Buffer.from('S'), u32(xid), Buffer.from([first ? 1 : 0])])
const stop = Buffer.from('E')
const abort = (xid: number, sub: number): Buffer => Buffer.concat([Buffer.from('A'), u32(xid), u32(sub)])
const commit = (xid: number): Buffer =>
  Buffer.concat([Buffer.from('c'), u32(xid), Buffer.from([0]), u64(0x100n), u64(0x180n), u64(5n)])
/** An Insert of one text column, sent inside a stream by (sub)transaction `xid`. */
const insert = (xid: number, value: string): Buffer =>
  Buffer.concat([
    Buffer.from('I'),
    u32(xid),
    u32(16384),
    Buffer.from('N'),
    Buffer.from([0, 1]),
    Buffer.from('t'),
    u32(Buffer.byteLength(value)),
    Buffer.from(value),
  ])

describe('pgoutput protocol version 2', () => {
  test('decodes Stream Start/Stop/Commit/Abort and the xid of messages inside a stream', () => {
    assert.deepEqual(decodePgOutput(start(7, true)), { tag: 'stream-start', xid: 7, firstSegment: true })
    assert.deepEqual(decodePgOutput(stop), { tag: 'stream-stop' })
    assert.deepEqual(decodePgOutput(abort(7, 9)), { tag: 'stream-abort', xid: 7, subXid: 9 })
    assert.deepEqual(decodePgOutput(commit(7)), {
      tag: 'stream-commit',
      xid: 7,
      flags: 0,
      commitLsn: 0x100,
      endLsn: 0x180,
      commitTimeUs: 5n + PG_EPOCH_OFFSET_US,
    })
    const message = insert(9, 'héllo')
    assert.equal(streamedXid(message), 9)
    assert.equal(streamedXid(stop), null)
    const decoded = decodePgOutput(message, 0, true)
    assert.equal(decoded.tag, 'insert')
    assert.equal(decoded.tag === 'insert' && decoded.relationId, 16384)
    assert.deepEqual(decoded.tag === 'insert' && decoded.newTuple.texts(), ['héllo'])
  })
})

describe('streamed transactions buffer', () => {
  const data = (payload: Buffer, lsn = 1): XLogData => ({ lsn, payload })
  const replay = (streams: StreamedTransactions, xid: number): string[] => {
    streams.commit(decodePgOutput(commit(xid)) as never, 0x180)
    const out: string[] = []
    for (let m = streams.next(); m; m = streams.next()) {
      const decoded = m.decoded ?? decodePgOutput(m.payload, 0, m.streamed)
      out.push(decoded.tag === 'insert' ? `${decoded.newTuple.text(0)}@${m.lsn}` : decoded.tag)
    }
    return out
  }

  for (const limit of [1 << 20, 0, 300]) {
    test(`interleaved transactions replay whole, in order, without aborted subtransactions (memory limit ${limit})`, () => {
      const streams = new StreamedTransactions(limit)
      const feed = (...messages: Buffer[]): void => {
        for (const [i, m] of messages.entries()) assert.equal(streams.route(data(m, 10 + i)), true)
      }
      feed(start(100, true), insert(100, 'a1'), insert(101, 'a2-sub'), stop)
      feed(start(200, true), insert(200, 'b1'), stop)
      feed(start(100, false), insert(100, 'a3'), insert(102, 'a4-sub'), stop)
      feed(abort(100, 101))
      feed(start(200, false), insert(200, 'b2'), stop)
      feed(abort(300, 300)) // unknown: ignored
      assert.equal(streams.route(data(commit(200))), false, 'Stream Commit is left to the caller')
      assert.deepEqual(replay(streams, 200), ['begin', 'b1@11', 'b2@11', 'commit'])
      assert.equal(streams.replaying, false)
      assert.deepEqual(replay(streams, 100), ['begin', 'a1@11', 'a3@11', 'a4-sub@12', 'commit'])
      if (limit === 0) assert.ok(streams.stats.spilledBytes > 0)
      if (limit === 1 << 20) assert.equal(streams.stats.spilledBytes, 0)
      assert.equal(streams.stats.segments, 4)
    })
  }

  test('an aborted top-level transaction and a reset leave nothing to replay; a first segment starts over', () => {
    const streams = new StreamedTransactions(0)
    streams.route(data(start(1, true)))
    streams.route(data(insert(1, 'x')))
    streams.route(data(stop))
    streams.route(data(abort(1, 1)))
    assert.deepEqual(replay(streams, 1), ['begin', 'commit'])
    streams.route(data(start(2, true)))
    streams.route(data(insert(2, 'y')))
    streams.reset()
    streams.route(data(start(2, true)))
    streams.route(data(insert(2, 'z')))
    streams.route(data(stop))
    streams.route(data(start(2, true))) // sent again from its start
    streams.route(data(insert(2, 'w')))
    streams.route(data(stop))
    assert.deepEqual(replay(streams, 2), ['begin', 'w@1', 'commit'])
  })
})
