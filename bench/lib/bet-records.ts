/**
 * The records of the JDBC sink benchmarks (bench/jdbc-sink.ts end to end, bench/jdbc-sink-task.ts the
 * task alone): a 10-field bet keyed by id, as JsonConverter-with-schemas JSON.
 */
import { bigIntToBytes } from '../../src/api/data/logical-types.ts'

export const KEY_SCHEMA = {
  type: 'struct',
  optional: false,
  name: 'bench.Key',
  fields: [{ field: 'id', type: 'int64', optional: false }],
}
export const VALUE_SCHEMA = {
  type: 'struct',
  optional: false,
  name: 'bench.Bet',
  fields: [
    { field: 'id', type: 'int64', optional: false },
    { field: 'race_id', type: 'int32', optional: false },
    { field: 'runner', type: 'string', optional: false },
    {
      field: 'amount',
      type: 'bytes',
      optional: false,
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '12' },
    },
    {
      field: 'placed_at',
      type: 'int64',
      optional: false,
      name: 'org.apache.kafka.connect.data.Timestamp',
      version: 1,
    },
    { field: 'odds', type: 'double', optional: false },
    { field: 'stake', type: 'int64', optional: false },
    { field: 'is_win', type: 'boolean', optional: false },
    { field: 'status', type: 'string', optional: false },
    { field: 'note', type: 'string', optional: true },
  ],
}
/** The value payload of bet `id` (deterministic, so every run writes the same rows). */
export function betPayload(id: number): Record<string, unknown> {
  return {
    id,
    race_id: id % 997,
    runner: `runner-${id % 12}`,
    amount: Buffer.from(bigIntToBytes(BigInt(100 + (id % 100_000)))).toString('base64'),
    placed_at: 1_714_560_000_000 + id,
    odds: 1.5 + (id % 40) / 4,
    stake: id * 10,
    is_win: id % 3 === 0,
    status: id % 2 === 0 ? 'open' : 'settled',
    note: id % 5 === 0 ? null : `bet number ${id}`,
  }
}
