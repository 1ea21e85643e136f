/**
 * `COPY … FROM STDIN` on a `pg` client, as a pg Submittable (the protocol's CopyIn sub-protocol:
 * Query → CopyInResponse → CopyData… → CopyDone → CommandComplete → ReadyForQuery). `pg` has no
 * COPY of its own; this is the small part of it the JDBC sink's bulk path needs, without another
 * dependency.
 */

interface CopyConnection {
  query(text: string): void
  sendCopyFromChunk(chunk: Buffer): void
  endCopyFrom(): void
  sendCopyFail(message: string): void
}

interface QueryableClient {
  query(submittable: unknown): unknown
}

/** Sends `data` (COPY text format) through `sql` (a `COPY … FROM STDIN`); resolves with the row count. */
export function copyFromStdin(client: QueryableClient, sql: string, data: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let rows = 0
    let failure: unknown
    const CHUNK = 1 << 20
    const submittable = {
      submit(connection: CopyConnection): void {
        connection.query(sql)
      },
      handleCopyInResponse(connection: CopyConnection): void {
        for (let at = 0; at < data.length; at += CHUNK)
          connection.sendCopyFromChunk(data.subarray(at, at + CHUNK))
        connection.endCopyFrom()
      },
      handleCommandComplete(message: { text?: string }): void {
        const match = /^COPY (\d+)/.exec(message.text ?? '')
        if (match) rows = Number(match[1])
      },
      // Rejected at once, as pg's own queries are: after a lost connection no ReadyForQuery follows.
      // The client sends nothing else before the server's ReadyForQuery.
      handleError(error: unknown): void {
        failure = error
        reject(error)
      },
      handleReadyForQuery(): void {
        if (failure === undefined) resolve(rows)
      },
      handleRowDescription(): void {},
      handleDataRow(): void {},
      handleEmptyQuery(): void {},
      handlePortalSuspended(): void {},
      handleCopyData(): void {},
    }
    client.query(submittable)
  })
}
