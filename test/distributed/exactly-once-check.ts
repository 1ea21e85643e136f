/**
 * What a `read_committed` consumer sees of a topic, and which numbers of 1…n it saw not exactly once:
 * the check of the exactly-once tests.
 */
import type { Log } from '../../src/log/log.ts'

/** Every value of the topic's partitions 0…partitions-1 read `read_committed`, once `expected` arrived (or the time is up). */
export async function readCommitted(
  log: Log,
  topic: string,
  expected: number,
  timeoutMs: number,
  partitions = 1,
): Promise<string[]> {
  const consumer = log.createConsumer({
    groupId: `eos-check-${topic}`,
    clientId: 'eos-check',
    isolationLevel: 'read_committed',
  })
  const assigned = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  try {
    await consumer.assign(assigned)
    for (const tp of assigned) consumer.seek(tp, 0)
    const values: string[] = []
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && values.length < expected) {
      for (const r of await consumer.poll(500)) values.push(Buffer.from(r.value ?? []).toString())
    }
    // Duplicates may trail: keep reading a little after the count is reached.
    const settle = Date.now() + 3000
    while (Date.now() < settle) {
      for (const r of await consumer.poll(300)) values.push(Buffer.from(r.value ?? []).toString())
    }
    return values
  } finally {
    await consumer.close()
  }
}

/** What is missing and what is duplicated among 1…n (the values are `key(value)` numbers). */
export function tally(
  values: string[],
  n: number,
  key: (value: string) => number = Number,
): { missing: number[]; duplicated: number[] } {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(key(v), (counts.get(key(v)) ?? 0) + 1)
  const missing: number[] = []
  const duplicated: number[] = []
  for (let i = 1; i <= n; i++) {
    const c = counts.get(i) ?? 0
    if (c === 0) missing.push(i)
    if (c > 1) duplicated.push(i)
  }
  return { missing, duplicated }
}

/** The last value of each key of a config topic, read `read_committed` to its end. */
export async function configRecords(log: Log, topic: string): Promise<Map<string, string>> {
  const consumer = log.createConsumer({
    groupId: `eos-configs-${topic}`,
    clientId: 'eos-configs',
    isolationLevel: 'read_committed',
  })
  try {
    await consumer.assign([{ topic, partition: 0 }])
    consumer.seek({ topic, partition: 0 }, 0)
    const records = new Map<string, string>()
    for (let idle = 0; idle < 5; ) {
      const batch = await consumer.poll(300)
      idle = batch.length === 0 ? idle + 1 : 0
      for (const r of batch)
        records.set(Buffer.from(r.key ?? []).toString(), Buffer.from(r.value ?? []).toString())
    }
    return records
  } finally {
    await consumer.close()
  }
}
