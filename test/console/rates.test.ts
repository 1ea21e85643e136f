/** Records per second from GET /metrics counters: parsing, rates between samples, the window. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatRate, parseCounters, RateHistory, ratesBetween } from '../../src/console/rates.ts'

const text = (written: number, put: number) =>
  [
    '# HELP kafka_connect_task_error_metrics_total_retries Retries of failed operations.',
    'kafka_connect_task_error_metrics_total_retries{connector="src",task="0"} 3',
    '# TYPE kafka_connect_source_task_source_record_poll_total counter',
    `kafka_connect_source_task_source_record_poll_total{connector="src",task="0"} ${written + 5}`,
    `kafka_connect_source_task_source_record_write_total{connector="src",task="0"} ${written}`,
    `kafka_connect_source_task_source_record_write_total{connector="src",task="1"} ${written}`,
    `kafka_connect_sink_task_sink_record_send_total{connector="we \\"quote\\" \\\\ it",task="0"} ${put}`,
  ].join('\n')

describe('console throughput rates', () => {
  it('sums each connector’s task counters and skips other metrics', () => {
    const counters = parseCounters(text(100, 7))
    assert.deepEqual(counters.get('src'), { sourcePolled: 105, sourceWritten: 200, sinkRead: 0, sinkPut: 0 })
    assert.deepEqual(counters.get('we "quote" \\ it'), {
      sourcePolled: 0,
      sourceWritten: 0,
      sinkRead: 0,
      sinkPut: 7,
    })
    assert.equal(counters.size, 2)
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
    history.add(0, parseCounters(text(0, 0)))
    history.add(500, parseCounters(text(999, 0))) // too soon: ignored
    history.add(1000, parseCounters(text(50, 10)))
    assert.equal(history.latest('src')!.sourceWritten, 100)
    for (let t = 2000; t <= 20_000; t += 1000) history.add(t, parseCounters(text(50 + t / 20, 10)))
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
