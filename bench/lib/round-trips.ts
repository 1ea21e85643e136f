/**
 * Two converters' round trips over the same records, measured side by side: each round runs both,
 * one after the other (alternating which goes first) so both see the same machine load; the result
 * is the median records/s of `rounds` rounds after a warm-up round, and the bytes per record.
 */
import { median } from './stats.ts'

/** One record's round trip; returns the bytes it was written as. */
export type RoundTrip<T> = (record: T) => Uint8Array

export interface RoundTripResult {
  perSecond: number
  bytes: number
}

function pass<T>(records: readonly T[], roundTrip: RoundTrip<T>): { seconds: number; bytes: number } {
  let bytes = 0
  const started = performance.now()
  for (let i = 0; i < records.length; i++) bytes += roundTrip(records[i]!).length
  return { seconds: (performance.now() - started) / 1000, bytes }
}

export function compareRoundTrips<T>(
  records: readonly T[],
  rounds: number,
  a: RoundTrip<T>,
  b: RoundTrip<T>,
): [RoundTripResult, RoundTripResult] {
  const n = records.length
  const rates: [number[], number[]] = [[], []]
  const bytes = [0, 0]
  for (let round = 0; round <= rounds; round++) {
    for (const which of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const result = pass(records, which === 0 ? a : b)
      bytes[which] = result.bytes
      if (round > 0) rates[which as 0 | 1].push(n / result.seconds)
    }
  }
  return [
    { perSecond: median(rates[0]), bytes: bytes[0]! / n },
    { perSecond: median(rates[1]), bytes: bytes[1]! / n },
  ]
}
