/** Topics for a benchmark run on the real broker (it has auto-create off), made with the admin client. */
import { Admin } from '@platformatic/kafka'

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
