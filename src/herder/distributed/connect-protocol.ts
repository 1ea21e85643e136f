/**
 * Kafka Connect's group sub-protocols on the wire (`ConnectProtocol`, `IncrementalCooperativeConnectProtocol`):
 * the member metadata a worker offers at JoinGroup and the assignment the leader hands out at
 * SyncGroup, byte for byte as a Java worker writes them, so Sluice and Kafka Connect workers can
 * read each other's (KIP-415 for the incremental protocols, KIP-507 for `sessioned`).
 *
 *   header             : version INT16 (0 = default/eager, 1 = compatible, 2 = sessioned)
 *   metadata v0        : header, url STRING, config-offset INT64
 *   metadata v1/v2     : v0 + allocation NULLABLE_BYTES (this worker's current assignment, encoded as below)
 *   connector-assignment: connector STRING, tasks ARRAY<INT32> (-1 = the Connector instance itself)
 *   assignment v0      : header, error INT16, leader STRING, leader-url STRING, config-offset INT64,
 *                        assignment ARRAY<connector-assignment>
 *   assignment v1/v2   : v0 + revoked ARRAY<connector-assignment> (nullable) + delay INT32
 * v1/v2 readers tolerate missing trailing fields.
 */
import { ConnectError } from '../../api/errors.ts'

export type ConnectProtocolName = 'default' | 'compatible' | 'sessioned'
export const CONNECT_PROTOCOL_TYPE = 'connect'
export const CONNECTOR_TASK = -1
export const NO_ERROR = 0
export const CONFIG_MISMATCH = 1

/** `connect.protocol` value → the sub-protocols offered, in preference order. */
export function offeredProtocols(config: 'eager' | 'compatible' | 'sessioned'): ConnectProtocolName[] {
  if (config === 'eager') return ['default']
  if (config === 'compatible') return ['compatible', 'default']
  return ['sessioned', 'compatible', 'default']
}

export function protocolVersion(name: string): 0 | 1 | 2 {
  if (name === 'sessioned') return 2
  if (name === 'compatible') return 1
  if (name === 'default') return 0
  throw new ConnectError('CONNECT', `unknown Connect group sub-protocol '${name}'`)
}

export interface ConnectorTaskId {
  connector: string
  task: number
}

/** What a member holds (or is given): connector instances and tasks. */
export interface Allocation {
  connectors: string[]
  tasks: ConnectorTaskId[]
}

export interface WorkerMetadata {
  version: number
  url: string
  configOffset: number
  /** The member's current assignment (v1+), empty when it has none. */
  allocation: Allocation
}

export interface ConnectAssignment {
  version: number
  error: number
  leader: string
  leaderUrl: string
  configOffset: number
  assigned: Allocation
  revoked: Allocation
  /** ms until the scheduled follow-up rebalance (v1+). */
  delay: number
}

export function emptyAllocation(): Allocation {
  return { connectors: [], tasks: [] }
}

// ── encoding ──────────────────────────────────────────────────────────────────────────────────

class Writer {
  readonly #chunks: Buffer[] = []
  int16(v: number): this {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    this.#chunks.push(b)
    return this
  }
  int32(v: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    this.#chunks.push(b)
    return this
  }
  int64(v: number): this {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(BigInt(v))
    this.#chunks.push(b)
    return this
  }
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8')
    this.int16(bytes.length)
    this.#chunks.push(bytes)
    return this
  }
  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1)
    this.int32(b.length)
    this.#chunks.push(b)
    return this
  }
  done(): Buffer {
    return Buffer.concat(this.#chunks)
  }
}

class Reader {
  readonly #b: Buffer
  #pos = 0
  constructor(b: Buffer) {
    this.#b = b
  }
  get remaining(): number {
    return this.#b.length - this.#pos
  }
  #need(n: number): void {
    if (this.remaining < n) throw new ConnectError('CONNECT', 'truncated Connect protocol data')
  }
  int16(): number {
    this.#need(2)
    const v = this.#b.readInt16BE(this.#pos)
    this.#pos += 2
    return v
  }
  int32(): number {
    this.#need(4)
    const v = this.#b.readInt32BE(this.#pos)
    this.#pos += 4
    return v
  }
  int64(): number {
    this.#need(8)
    const v = this.#b.readBigInt64BE(this.#pos)
    this.#pos += 8
    return Number(v)
  }
  string(): string {
    const n = this.int16()
    if (n < 0) throw new ConnectError('CONNECT', 'null string in Connect protocol data')
    this.#need(n)
    const s = this.#b.toString('utf8', this.#pos, this.#pos + n)
    this.#pos += n
    return s
  }
  nullableBytes(): Buffer | null {
    const n = this.int32()
    if (n < 0) return null
    this.#need(n)
    const b = this.#b.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return b
  }
}

/** Groups connectors and tasks by connector, the connector itself as task -1 (Java's `ConnectAssignment.taskAssignments`). */
function writeAllocation(w: Writer, a: Allocation): void {
  const byConnector = new Map<string, number[]>()
  for (const c of a.connectors) byConnector.set(c, [CONNECTOR_TASK])
  for (const t of a.tasks) {
    const list = byConnector.get(t.connector) ?? []
    list.push(t.task)
    byConnector.set(t.connector, list)
  }
  w.int32(byConnector.size)
  for (const [connector, tasks] of byConnector) {
    w.string(connector)
    w.int32(tasks.length)
    for (const t of tasks) w.int32(t)
  }
}

function readAllocation(r: Reader): Allocation {
  const out = emptyAllocation()
  const n = r.int32()
  for (let i = 0; i < n; i++) {
    const connector = r.string()
    const count = r.int32()
    for (let j = 0; j < count; j++) {
      const task = r.int32()
      if (task === CONNECTOR_TASK) out.connectors.push(connector)
      else out.tasks.push({ connector, task })
    }
  }
  return out
}

function isEmpty(a: Allocation): boolean {
  return a.connectors.length === 0 && a.tasks.length === 0
}

export function encodeMetadata(protocol: ConnectProtocolName, m: Omit<WorkerMetadata, 'version'>): Buffer {
  const version = protocolVersion(protocol)
  const w = new Writer().int16(version).string(m.url).int64(m.configOffset)
  if (version === 0) return w.done()
  // Java serializes an empty assignment as null; a member with nothing offers no allocation.
  const allocation = isEmpty(m.allocation)
    ? null
    : encodeAssignment(protocol, {
        error: NO_ERROR,
        leader: '',
        leaderUrl: '',
        configOffset: m.configOffset,
        assigned: m.allocation,
        revoked: emptyAllocation(),
        delay: 0,
      })
  return w.nullableBytes(allocation).done()
}

export function decodeMetadata(buffer: Buffer): WorkerMetadata {
  const r = new Reader(buffer)
  const version = r.int16()
  if (version < 0) throw new ConnectError('CONNECT', `Unsupported subscription version: ${version}`)
  const url = r.string()
  const configOffset = r.int64()
  let allocation = emptyAllocation()
  if (version >= 1 && r.remaining >= 4) {
    const bytes = r.nullableBytes()
    if (bytes !== null) allocation = decodeAssignment(bytes).assigned
  }
  return { version, url, configOffset, allocation }
}

export function encodeAssignment(
  protocol: ConnectProtocolName,
  a: Omit<ConnectAssignment, 'version'>,
): Buffer {
  const version = protocolVersion(protocol)
  const w = new Writer()
    .int16(version)
    .int16(a.error)
    .string(a.leader)
    .string(a.leaderUrl)
    .int64(a.configOffset)
  writeAllocation(w, a.assigned)
  if (version === 0) return w.done()
  writeAllocation(w, a.revoked)
  return w.int32(a.delay).done()
}

export function decodeAssignment(buffer: Buffer): ConnectAssignment {
  const r = new Reader(buffer)
  const version = r.int16()
  if (version < 0) throw new ConnectError('CONNECT', `Unsupported subscription version: ${version}`)
  const error = r.int16()
  const leader = r.string()
  const leaderUrl = r.string()
  const configOffset = r.int64()
  const assigned = r.remaining >= 4 ? readNullableAllocation(r) : emptyAllocation()
  let revoked = emptyAllocation()
  let delay = 0
  if (version >= 1) {
    if (r.remaining >= 4) revoked = readNullableAllocation(r)
    if (r.remaining >= 4) delay = r.int32()
  }
  return { version, error, leader, leaderUrl, configOffset, assigned, revoked, delay }
}

function readNullableAllocation(r: Reader): Allocation {
  // ArrayOf.nullable: a count of -1 is null.
  return readAllocation(r)
}

export function taskKey(id: ConnectorTaskId): string {
  return `${id.connector}-${id.task}`
}
