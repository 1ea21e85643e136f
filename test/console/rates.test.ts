/** Records per second from GET /sluice/metrics task counters: sums, rates between samples, the window. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  connectorCounters,
  formatRate,
  RateHistory,
  ratesBetween,
  type TaskCounters,
  taskCounters,
  taskKey,
} from '../../src/console/rates.ts'

const task = (connector: string, id: number, written: number, put: number): TaskCounters => ({
  connector,
  task: id,
  type: put > 0 ? 'sink' : 'source',
  sourceRecordPollTotal: written + 5,
  sourceRecordWriteTotal: written,
  sinkRecordReadTotal: 0,
  sinkRecordSendTotal: put,
})
const text = (written: number, put: number) =>
  connectorCounters([
    task('src', 0, written, 0),
    task('src', 1, written, 0),
    task('we "quote" \\ it', 0, 0, put),
  ])

describe('console throughput rates', () => {
  it('sums each connector’s task counters, wherever the tasks run', () => {
    const counters = text(100, 7)
    assert.deepEqual(counters.get('src'), { sourcePolled: 210, sourceWritten: 200, sinkRead: 0, sinkPut: 0 })
    assert.deepEqual(counters.get('we "quote" \\ it'), {
      sourcePolled: 5,
      sourceWritten: 0,
      sinkRead: 0,
      sinkPut: 7,
    })
    assert.equal(counters.size, 2)
  })

  it('keeps each task’s counters apart, keyed by connector and task', () => {
    const counters = taskCounters([task('a/b', 1, 10, 0), task('a', 1, 20, 0)])
    assert.equal(counters.get(taskKey('a/b', 1))!.sourceWritten, 10)
    assert.equal(counters.get(taskKey('a', 1))!.sourceWritten, 20)
  })

  it('divides by the time between samples, and restarts from zero when a counter goes down', () => {
    const zero = { sourcePolled: 0, sourceWritten: 0, sinkRead: 0, sinkPut: 0 }
    const rates = ratesBetween(
      { at: 0, counters: { ...zero, sourceWritten: 100, sinkPut: 500 } },
      { at: 2000, counters: { ...zero, sourceWritten: 300, sinkPut: 40 } },
    )
    assert.equal(rates.sourceWritten, 100)
    assert.equal(rates.sinkPut, 20, 'a restarted task counts from 0')
    assert.equal(ratesBetween({ at: 5, counters: zero }, { at: 5, counters: zero }).sourceWritten, 0)
  })

  it('keeps samples over its window, at most one per spacing, and forgets deleted connectors', () => {
    const history = new RateHistory(10_000, 900)
    assert.equal(history.latest('src'), undefined)
    history.add(0, text(0, 0))
    history.add(500, text(999, 0)) // too soon: ignored
    history.add(1000, text(50, 10))
    assert.equal(history.latest('src')!.sourceWritten, 100)
    for (let t = 2000; t <= 20_000; t += 1000) history.add(t, text(50 + t / 20, 10))
    const series = history.series('src')
    assert.ok(series.length <= 10, `${series.length} rates kept for a 10 s window`)
    assert.equal(series[series.length - 1]!.rates.sourceWritten, 100)
    history.add(21_000, new Map())
    assert.equal(history.latest('src'), undefined)
  })

  it('formats rates compactly', () => {
    assert.deepEqual([0, 2.345, 42.4, 1234, 56_789, 2_500_000].map(formatRate), [
      '0.0',
      '2.3',
      '42',
      '1.2k',
      '57k',
      '2.5M',
    ])
  })
})
