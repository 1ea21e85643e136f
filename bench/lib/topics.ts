/**
 * Topics for a benchmark run on the real broker (it has auto-create off), made with the admin client,
 * and the records a run drains, produced through Sluice's own log client.
 */
import { Admin } from '@platformatic/kafka'
import { WorkerConfig } from '../../src/config/worker-config.ts'
import { createLog } from '../../src/log/create-log.ts'
import type { ProduceRecord } from '../../src/log/log.ts'

export async function createTopics(bootstrap: string, topics: string[], partitions = 1): Promise<void> {
  const admin = new Admin({ clientId: 'sluice-bench-admin', bootstrapBrokers: [bootstrap], timeout: 30_000 })
  try {
    await admin.createTopics({ topics, partitions, replicas: 1 })
  } finally {
    await admin.close()
  }
}

/** Best effort: a benchmark's topics hold hundreds of MB on the shared test broker. */
export async function deleteTopics(bootstrap: string, topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: 'sluice-bench-admin', bootstrapBrokers: [bootstrap], timeout: 30_000 })
  try {
    await admin.deleteTopics({ topics })
  } catch {
    // leave them: the broker's data dir is wiped at its next start
  } finally {
    await admin.close().catch(() => {})
  }
}

/**
 * Produces `records` records, `record(0)` to `record(records - 1)` (each may be made asynchronously,
 * e.g. through a converter), 5,000 a batch with up to 8 batches in flight. Returns how long it took
 * in milliseconds.
 */
export async function produceRecords(
  bootstrap: string,
  clientId: string,
  records: number,
  record: (seq: number) => ProduceRecord | Promise<ProduceRecord>,
): Promise<number> {
  const started = Date.now()
  const log = await createLog(new WorkerConfig({ 'bootstrap.servers': bootstrap }), clientId)
  const producer = log.createProducer({ clientId })
  try {
    const CHUNK = 5000
    const inFlight: Promise<unknown>[] = []
    for (let at = 0; at < records; at += CHUNK) {
      const batch: ProduceRecord[] = []
      for (let seq = at; seq < Math.min(records, at + CHUNK); seq++) batch.push(await record(seq))
      inFlight.push(producer.send(batch))
      if (inFlight.length >= 8) await inFlight.shift()
    }
    await Promise.all(inFlight)
  } finally {
    await producer.close()
    await log.close()
  }
  return Date.now() - started
}
