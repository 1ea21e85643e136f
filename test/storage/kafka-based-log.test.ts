/**
 * An internal topic's reader while the broker is away: `readToEnd` retries the end offsets within its time
 * budget (a task reading its offsets during a broker restart failed). On the embedded log (a real Log),
 * with its end offsets failing on cue.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { RetriableError } from '../../src/api/errors.ts'
import { createLogger } from '../../src/common/logger.ts'
import { createEmbeddedLog } from '../../src/log/embedded/embedded-log.ts'
import type { Log } from '../../src/log/log.ts'
import { KafkaBasedLog } from '../../src/storage/kafka/kafka-based-log.ts'

describe('internal topic reader while the broker is away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-based-log-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('reads to the end once the end offsets answer again, and still fails past its time budget', async () => {
    const embedded = await createEmbeddedLog({ dir: join(dir, 'log') })
    await embedded.createTopics([{ name: 'offsets', partitions: 1, replicationFactor: 1, configs: {} }])
    const outage = { failures: 0 }
    const log = new Proxy(embedded, {
      get(target, property) {
        const value = Reflect.get(target, property)
        if (property === 'endOffsets') {
          return (...args: Parameters<Log['endOffsets']>) => {
            if (outage.failures > 0) {
              outage.failures--
              return Promise.reject(
                new RetriableError('cannot reach Kafka at 127.0.0.1:1 while reading end offsets'),
              )
            }
            return embedded.endOffsets(...args)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as Log
    const seen: string[] = []
    const reader = new KafkaBasedLog({
      log,
      topic: 'offsets',
      clientId: 'test',
      logger: createLogger({ level: 'silent' }),
      onRecord: (r) => seen.push(new TextDecoder().decode(r.value ?? new Uint8Array())),
    })
    await reader.start()
    try {
      await reader.send([{ key: null, value: new TextEncoder().encode('a') }])
      outage.failures = 3
      await reader.readToEnd(10_000)
      assert.deepEqual(seen, ['a'])
      outage.failures = 1000
      await assert.rejects(reader.readToEnd(500), /cannot reach Kafka/)
    } finally {
      outage.failures = 0
      await reader.stop()
      await embedded.close()
    }
  })
})
