/**
 * PostgreSQL log sequence numbers. The server writes them as `X/Y` (two hex halves); Debezium's
 * offsets and `source.lsn` carry them as one 64-bit number. JS numbers hold integers exactly up to
 * 2^53, i.e. 8 PiB of WAL, which a cluster does not reach; we keep LSNs as numbers for that reason.
 */
export type Lsn = number

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim())
  if (!m) throw new Error(`'${text}' is not a PostgreSQL LSN (expected X/Y in hex)`)
  return Number.parseInt(m[1], 16) * 2 ** 32 + Number.parseInt(m[2], 16)
}

export function formatLsn(lsn: Lsn): string {
  const high = Math.floor(lsn / 2 ** 32)
  const low = lsn - high * 2 ** 32
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`
}

/** Reads an unsigned 64-bit big-endian LSN from a buffer. */
export function readLsn(buffer: Buffer, offset: number): Lsn {
  return buffer.readUInt32BE(offset) * 2 ** 32 + buffer.readUInt32BE(offset + 4)
}

export function writeLsn(buffer: Buffer, lsn: Lsn, offset: number): void {
  const high = Math.floor(lsn / 2 ** 32)
  buffer.writeUInt32BE(high, offset)
  buffer.writeUInt32BE(lsn - high * 2 ** 32, offset + 4)
}
