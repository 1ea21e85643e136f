/**
 * A logical replication connection (`replication=database`) on the `pg` driver's socket: replication
 * commands as simple queries, then `START_REPLICATION` switches the connection to CopyBoth and the
 * server streams CopyData messages. The streaming replication sub-protocol
 * (https://www.postgresql.org/docs/current/protocol-replication.html):
 *
 *   XLogData          'w' Int64 data_start  Int64 wal_end  Int64 send_time  Byte* pgoutput message
 *   Keepalive         'k' Int64 wal_end  Int64 send_time  Byte1 reply_requested
 *   Standby status    'r' Int64 written  Int64 flushed  Int64 applied  Int64 client_time  Byte1 reply
 *
 * The slot's `confirmed_flush_lsn` moves to the `flushed` position we report; we report only what
 * the caller said is durable (`confirm`), never what we merely received.
 */
import type pg from 'pg'
import { type Lsn, parseLsn, readLsn, writeLsn } from './lsn.ts'
import { PG_EPOCH_OFFSET_US, type PgOutputMessage } from './pgoutput-decoder.ts'
import { SESSION_OPTIONS } from './value-converters.ts'

export interface ConnectionOptions {
  host: string
  port: number
  user: string
  password: string | undefined
  database: string
  ssl: boolean
}

export interface XLogData {
  /** LSN of the WAL record this message comes from (for COMMIT: the end of the transaction). */
  lsn: Lsn
  payload: Buffer
  /** Replayed from a streamed transaction: decode with the version 2 in-stream grammar. */
  streamed?: boolean
  /** Already decoded (the Begin and Commit made from a Stream Commit). */
  decoded?: PgOutputMessage
}

export interface StreamHandlers {
  onData(message: XLogData): void
  /** The server's position when it has nothing to send; safe to confirm only when idle. */
  onKeepalive(walEnd: Lsn): void
  onError(error: Error): void
  /** The stream ended (server closed it, or `close()`). */
  onEnd(): void
}

/** A `pg` client; the driver is imported on first use so a worker without this connector never loads it. */
export async function newPgClient(config: pg.ClientConfig): Promise<pg.Client> {
  const { default: driver } = await import('pg')
  return new driver.Client(config)
}

/**
 * A query sent with the extended protocol (Parse/Bind/Execute), which takes exactly one statement:
 * text that came from outside can never add a second one. (`queryMode` is the driver's; its types lag.)
 */
export function oneStatement(
  text: string,
  values: unknown[] = [],
  rowMode?: 'array',
): pg.QueryConfig & { rowMode?: 'array' } {
  return { text, values, queryMode: 'extended', ...(rowMode ? { rowMode } : {}) } as pg.QueryConfig
}

/** Runs one statement in a READ ONLY transaction of its own: whatever it calls cannot write. */
export async function readOnly(client: pg.Client, query: pg.QueryConfig): Promise<pg.QueryResult> {
  await client.query('BEGIN READ ONLY')
  try {
    const result = await client.query(query)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** The `application_name` of every connection of this connector (validation recognises its own slot holder). */
export const APPLICATION_NAME = 'sluice-postgres-cdc'

/** Keeps values as the server's text: the value converters parse text the same way in both paths. */
export const TEXT_TYPES = { getTypeParser: () => (value: string) => value }

export function clientConfig(
  options: ConnectionOptions,
  extra: Partial<pg.ClientConfig> = {},
): pg.ClientConfig {
  return {
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    database: options.database,
    ssl: options.ssl ? { rejectUnauthorized: false } : undefined,
    types: TEXT_TYPES,
    application_name: APPLICATION_NAME,
    ...extra,
  }
}

/** Size of the blocks XLogData payloads are copied into (a larger payload gets a block of its own). */
const PAYLOAD_BLOCK = 256 * 1024

export class ReplicationConnection {
  readonly #client: pg.Client
  #handlers: StreamHandlers | null = null
  #received: Lsn = 0
  #flushed: Lsn = 0
  #timer: NodeJS.Timeout | null = null
  #closed = false
  #paused = false
  #serverVersion = 0
  /**
   * Where XLogData payloads are copied (the driver reuses its read buffer, and messages wait in a queue
   * before decoding): one large block at a time rather than a Buffer each; a full block stays alive as
   * long as messages in it do.
   */
  #block = Buffer.allocUnsafe(0)
  #used = 0

  private constructor(client: pg.Client) {
    this.#client = client
  }

  static async open(options: ConnectionOptions): Promise<ReplicationConnection> {
    const client = await newPgClient(
      clientConfig(options, {
        replication: 'database',
        options: SESSION_OPTIONS,
      } as Partial<pg.ClientConfig>),
    )
    const connection = new ReplicationConnection(client)
    client.on('error', (error) => connection.#fail(error))
    await client.connect()
    const { rows } = await client.query('SHOW server_version_num')
    connection.#serverVersion = Number((rows[0] as Record<string, string>).server_version_num)
    return connection
  }

  /** `server_version_num`, e.g. 150004. */
  get serverVersion(): number {
    return this.#serverVersion
  }

  /** Whether `startStreaming` with `streaming` asks for protocol version 2 (PostgreSQL 14 and later). */
  streamsInProgress(streaming: boolean): boolean {
    return streaming && this.#serverVersion >= 140000
  }

  async identifySystem(): Promise<{ systemId: string; timeline: number; xlogpos: Lsn; dbname: string }> {
    const { rows } = await this.#client.query('IDENTIFY_SYSTEM')
    const row = rows[0] as Record<string, string>
    return {
      systemId: row.systemid,
      timeline: Number(row.timeline),
      xlogpos: parseLsn(row.xlogpos),
      dbname: row.dbname,
    }
  }

  /**
   * Creates a logical slot for pgoutput and exports its snapshot: until this connection runs its
   * next command, another session can `SET TRANSACTION SNAPSHOT` to see the database exactly at the
   * slot's consistent point.
   */
  async createSlot(slot: string): Promise<{ consistentPoint: Lsn; snapshotName: string | null }> {
    const { rows } = await this.#client.query(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`,
    )
    const row = rows[0] as Record<string, string>
    return { consistentPoint: parseLsn(row.consistent_point), snapshotName: row.snapshot_name ?? null }
  }

  /**
   * Switches the connection to streaming. With `streaming` on PostgreSQL 14+ we ask for protocol
   * version 2 with `streaming 'on'`: transactions larger than the server's `logical_decoding_work_mem`
   * arrive while they run, as Stream Start/Stop segments ended by Stream Commit or Abort.
   */
  startStreaming(
    slot: string,
    publication: string,
    startLsn: Lsn,
    statusIntervalMs: number,
    handlers: StreamHandlers,
    streaming = false,
  ): void {
    this.#handlers = handlers
    const connection = (this.#client as unknown as { connection: NodeJS.EventEmitter }).connection
    connection.on('copyData', (message: { chunk: Buffer }) => this.#onCopyData(message.chunk))
    const protocol = this.streamsInProgress(streaming)
      ? `proto_version '2', streaming 'on'`
      : `proto_version '1'`
    const options = `${protocol}, publication_names '${quoteIdent(publication).replaceAll("'", "''")}', messages 'true'`
    const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsnForCommand(startLsn)} (${options})`
    this.#client.query(sql).then(
      () => {
        this.#stopTimer()
        if (!this.#closed) handlers.onEnd()
      },
      (error: Error) => this.#fail(error),
    )
    this.#timer = setInterval(() => this.#sendStatus(false), statusIntervalMs)
    this.#timer.unref()
  }

  /** Reports `lsn` as flushed: the server may then discard WAL before it. */
  confirm(lsn: Lsn): void {
    if (lsn > this.#flushed) {
      this.#flushed = lsn
      this.#sendStatus(false)
    }
  }

  get confirmed(): Lsn {
    return this.#flushed
  }

  /** Stops reading the socket (backpressure); the server blocks once the TCP window is full. */
  pause(): void {
    if (this.#paused) return
    this.#paused = true
    this.#stream().pause()
  }

  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#stream().resume()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopTimer()
    try {
      if (this.#handlers) this.#sendStatus(false)
    } catch {
      // the socket may be gone already
    }
    await this.#client.end().catch(() => {})
  }

  #stream(): NodeJS.ReadableStream {
    return (this.#client as unknown as { connection: { stream: NodeJS.ReadableStream } }).connection.stream
  }

  #onCopyData(chunk: Buffer): void {
    const kind = chunk[0]
    if (kind === 0x77 /* w */) {
      const lsn = readLsn(chunk, 1)
      const walEnd = readLsn(chunk, 9)
      if (walEnd > this.#received) this.#received = walEnd
      const length = chunk.length - 25
      if (this.#block.length - this.#used < length) {
        this.#block = Buffer.allocUnsafe(Math.max(PAYLOAD_BLOCK, length))
        this.#used = 0
      }
      const at = this.#used
      chunk.copy(this.#block, at, 25)
      this.#used += length
      this.#handlers?.onData({ lsn, payload: this.#block.subarray(at, at + length) })
    } else if (kind === 0x6b /* k */) {
      const walEnd = readLsn(chunk, 1)
      if (walEnd > this.#received) this.#received = walEnd
      this.#handlers?.onKeepalive(walEnd)
      if (chunk[17] === 1) this.#sendStatus(false)
    }
  }

  #sendStatus(replyRequested: boolean): void {
    if (this.#closed && !this.#handlers) return
    const buffer = Buffer.alloc(34)
    buffer[0] = 0x72 // r
    writeLsn(buffer, this.#received, 1)
    writeLsn(buffer, this.#flushed, 9)
    writeLsn(buffer, this.#flushed, 17)
    const nowUs = BigInt(Date.now()) * 1000n - PG_EPOCH_OFFSET_US
    buffer.writeBigInt64BE(nowUs, 25)
    buffer[33] = replyRequested ? 1 : 0
    ;(
      this.#client as unknown as { connection: { sendCopyFromChunk(b: Buffer): void } }
    ).connection.sendCopyFromChunk(buffer)
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  #fail(error: Error): void {
    this.#stopTimer()
    if (this.#closed) return
    this.#closed = true
    this.#client.end().catch(() => {})
    if (this.#handlers) this.#handlers.onError(error)
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function formatLsnForCommand(lsn: Lsn): string {
  const high = Math.floor(lsn / 2 ** 32)
  return `${high.toString(16).toUpperCase()}/${(lsn - high * 2 ** 32).toString(16).toUpperCase()}`
}
