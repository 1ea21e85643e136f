/**
 * A `GroupMembership` on a Kafka cluster for callers outside the Log (the distributed herder's
 * `connect` group): its own metadata client and a connection pool for group requests only, whose
 * request timeout covers a whole rebalance (JoinGroup is answered when the rebalance completes).
 */
import { Admin, type BaseOptions, ConnectionPool } from '@platformatic/kafka'
import { GroupMembership, type GroupMembershipOptions } from './group-membership.ts'
import './pool-close-sweep.ts'

export interface KafkaGroupClientOptions extends Omit<GroupMembershipOptions, 'pool' | 'metadata'> {
  bootstrapServers: readonly string[]
  clientId: string
  tls?: BaseOptions['tls']
  sasl?: BaseOptions['sasl']
}

export interface KafkaGroupClient {
  readonly membership: GroupMembership
  close(): Promise<void>
}

export function createKafkaGroupClient(options: KafkaGroupClientOptions): KafkaGroupClient {
  const { bootstrapServers, clientId, tls, sasl, ...membershipOptions } = options
  const security = { ...(tls ? { tls } : {}), ...(sasl ? { sasl } : {}) }
  const admin = new Admin({
    clientId: `${clientId}-group-metadata`,
    bootstrapBrokers: [...bootstrapServers],
    connectTimeout: 5000,
    requestTimeout: 30_000,
    retries: 3,
    retryDelay: 250,
    metadataMaxAge: 5000,
    ...security,
  })
  const pool = new ConnectionPool(`${clientId}-group`, {
    connectTimeout: 5000,
    requestTimeout: (options.rebalanceTimeoutMs ?? 300_000) + 5000,
    ...security,
  })
  const membership = new GroupMembership({
    ...membershipOptions,
    pool,
    metadata: () => admin.metadata({ topics: [] }),
  })
  return {
    membership,
    async close() {
      await Promise.allSettled([pool.close(), admin.close()])
    },
  }
}
