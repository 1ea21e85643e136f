/**
 * Sluice's read-only topic endpoints (`GET /sluice/topics`, `GET /sluice/topics/{t}/records`) on
 * the embedded log and on Kafka: offset ranges, the latest records bounded by `limit`, previews of
 * text and binary bytes, a dead-letter topic's `__connect.errors.*` headers, and refusals of bad
 * parameters in Connect's error shape.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PREVIEW_BYTES, preview } from '../../src/runtime/topic-browser.ts'
import { eventually, request } from '../helpers/rest.ts'
import { kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'
import { startTestWorker, type TestWorker } from '../helpers/worker.ts'

interface Summary {
  name: string
  partitions: { partition: number; beginning: number; end: number }[]
}
interface Preview {
  encoding: string
  text: string
  size: number
  truncated: boolean
}
interface Browsed {
  topic: string
  complete: boolean
  records: {
    partition: number
    offset: number
    timestamp: number
    key: Preview | null
    value: Preview | null
    headers: { key: string; value: Preview | null }[]
  }[]
}

const backends = [
  { name: 'the embedded log', skip: false as string | false, props: (): Record<string, string> => ({}) },
  {
    name: 'Kafka',
    skip: kafkaSkipReason(),
    props: (): Record<string, string> => ({ 'bootstrap.servers': kafkaBootstrap() }),
  },
]

for (const backend of backends) {
  describe(`topic browsing on ${backend.name}`, { skip: backend.skip }, () => {
    let w: TestWorker
    const suffix = Math.random().toString(36).slice(2, 8)
    const topic = `browse-${suffix}`
    const dlq = `browse-dlq-${suffix}`
    const LINES = 30

    before(async () => {
      w = await startTestWorker(backend.props())
      const input = join(w.dir, 'in.txt')
      const lines = Array.from({ length: LINES }, (_, i) =>
        i % 10 === 3 ? `poison ${i} {` : JSON.stringify({ n: i }),
      )
      writeFileSync(input, `${lines.join('\n')}\n`)
      const create = async (name: string, config: Record<string, string>) => {
        const res = await request(w.base, 'POST', '/connectors', { name, config })
        assert.equal(res.status, 201, JSON.stringify(res.body))
      }
      await create('browse-src', {
        'connector.class': 'FileStreamSource',
        file: input,
        topic,
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'topic.creation.default.partitions': '2',
        'topic.creation.default.replication.factor': '1',
      })
      await create('browse-sink', {
        'connector.class': 'FileStreamSink',
        file: join(w.dir, 'out.txt'),
        topics: topic,
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      })
      await eventually(
        async () => {
          const res = await request<Summary[]>(w.base, 'GET', '/sluice/topics')
          const total = (name: string) =>
            res.body.find((t) => t.name === name)?.partitions.reduce((n, p) => n + p.end - p.beginning, 0) ??
            0
          return total(topic) === LINES && total(dlq) === 3 ? true : undefined
        },
        60_000,
        'every line in the topic and the 3 poison lines in the dead-letter topic',
      )
    })
    after(async () => {
      await w?.close()
    })

    it('lists topics with their partitions’ offset ranges', async () => {
      const res = await request<Summary[]>(w.base, 'GET', '/sluice/topics')
      assert.equal(res.status, 200)
      const summary = res.body.find((t) => t.name === topic)!
      assert.deepEqual(
        summary.partitions.map((p) => p.partition),
        [0, 1],
      )
      assert.deepEqual(
        res.body.map((t) => t.name),
        [...res.body.map((t) => t.name)].sort(),
      )
    })

    it('returns the latest records, bounded by limit, oldest first', async () => {
      const res = await request<Browsed>(w.base, 'GET', `/sluice/topics/${topic}/records?limit=5`)
      assert.equal(res.status, 200)
      assert.equal(res.body.complete, true)
      assert.equal(res.body.records.length, 5)
      const times = res.body.records.map((r) => r.timestamp)
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      )
      for (const record of res.body.records) {
        assert.equal(record.value?.encoding, 'utf8')
        assert.match(record.value!.text, /^(\{"n":\d+\}|poison \d+ \{)$/)
      }
      const all = await request<Browsed>(w.base, 'GET', `/sluice/topics/${topic}/records?limit=100`)
      assert.equal(all.body.records.length, LINES, 'a limit above the count returns everything')
      const one = await request<Browsed>(
        w.base,
        'GET',
        `/sluice/topics/${topic}/records?limit=100&partition=1`,
      )
      assert.ok(one.body.records.every((r) => r.partition === 1))
      const summary = (await request<Summary[]>(w.base, 'GET', '/sluice/topics')).body.find(
        (t) => t.name === topic,
      )!
      assert.equal(one.body.records.length, summary.partitions[1]!.end - summary.partitions[1]!.beginning)
    })

    it('shows a dead letter with its error headers', async () => {
      const res = await request<Browsed>(w.base, 'GET', `/sluice/topics/${dlq}/records?limit=10`)
      assert.equal(res.body.records.length, 3)
      for (const record of res.body.records) {
        assert.match(record.value!.text, /^poison \d+ \{$/)
        const header = (key: string) => record.headers.find((h) => h.key === key)?.value?.text
        assert.equal(header('__connect.errors.stage'), 'VALUE_CONVERTER')
        assert.equal(header('__connect.errors.topic'), topic)
        assert.equal(header('__connect.errors.connector.name'), 'browse-sink')
        assert.match(header('__connect.errors.exception.class.name') ?? '', /\w/)
      }
    })

    it('refuses bad parameters and unknown topics in Connect’s error shape', async () => {
      for (const [path, status, message] of [
        [`/sluice/topics/${topic}/records?limit=0`, 400, /limit must be from 1 to 100/],
        [`/sluice/topics/${topic}/records?limit=101`, 400, /limit must be from 1 to 100/],
        [`/sluice/topics/${topic}/records?limit=x`, 400, /limit must be a non-negative integer/],
        [`/sluice/topics/${topic}/records?partition=7`, 404, /has no partition 7 \(it has 2: 0…1\)/],
        [`/sluice/topics/no-such-topic-${suffix}/records`, 404, /Topic no-such-topic-\w+ not found/],
      ] as const) {
        const res = await request<{ error_code: number; message: string }>(w.base, 'GET', path)
        assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`)
        assert.equal(res.body.error_code, status)
        assert.match(res.body.message, message)
      }
      // Browsing created nothing.
      const names = (await request<Summary[]>(w.base, 'GET', '/sluice/topics')).body.map((t) => t.name)
      assert.ok(!names.some((n) => n.startsWith('no-such-topic')))
    })
  })
}

describe('byte previews', () => {
  it('shows UTF-8 as text, other bytes as base64, and cuts long values without splitting a character', () => {
    assert.deepEqual(preview(Buffer.from('héllo')), {
      encoding: 'utf8',
      text: 'héllo',
      size: 6,
      truncated: false,
    })
    assert.deepEqual(preview(Uint8Array.of(0xff, 0x00)), {
      encoding: 'base64',
      text: '/wA=',
      size: 2,
      truncated: false,
    })
    assert.equal(preview(null), null)
    const long = Buffer.from(`${'a'.repeat(PREVIEW_BYTES - 1)}é and more`)
    const cut = preview(long)!
    assert.equal(cut.encoding, 'utf8')
    assert.equal(cut.truncated, true)
    assert.equal(cut.text, 'a'.repeat(PREVIEW_BYTES - 1))
    assert.equal(cut.size, long.length)
  })
})
