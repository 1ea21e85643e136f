/**
 * One statement without parameters (the source's `FETCH FORWARD n FROM cursor`) on a `pg` client, as
 * a pg Submittable whose rows are the protocol parser's own field arrays: text for every column,
 * `bool` → boolean and `bytea` → Buffer, null for NULL — what `rowMode: 'array'` with the
 * connection's type parsers gives, without pg's second array and parser call per value.
 */

export interface FetchedField {
  name: string
  dataTypeID: number
  dataTypeModifier: number
}

export interface FetchedRows {
  fields: FetchedField[]
  rows: unknown[][]
}

interface QueryConnection {
  query(text: string): void
}

interface QueryableClient {
  query(submittable: unknown): unknown
}

/** `parse(oid)`: the parser for a column type, or undefined to keep the text. */
export function fetchRows(
  client: QueryableClient,
  sql: string,
  parse: (oid: number) => ((text: string) => unknown) | undefined,
): Promise<FetchedRows> {
  return new Promise<FetchedRows>((resolve, reject) => {
    let fields: FetchedField[] = []
    const rows: unknown[][] = []
    // Columns whose text is parsed, and their parsers.
    let parsed: number[] = []
    let parsers: ((text: string) => unknown)[] = []
    let failed = false
    const submittable = {
      submit(connection: QueryConnection): void {
        connection.query(sql)
      },
      handleRowDescription(message: { fields: FetchedField[] }): void {
        fields = message.fields
        parsed = []
        parsers = []
        fields.forEach((field, i) => {
          const parser = parse(field.dataTypeID)
          if (parser) {
            parsed.push(i)
            parsers.push(parser)
          }
        })
      },
      handleDataRow(message: { fields: (string | null)[] }): void {
        const row: unknown[] = message.fields
        for (let p = 0; p < parsed.length; p++) {
          const i = parsed[p]!
          const text = row[i]
          if (text !== null) row[i] = parsers[p]!(text as string)
        }
        rows.push(row)
      },
      // Rejected at once, as pg's own queries are: after a lost connection no ReadyForQuery follows.
      // The client sends nothing else before the server's ReadyForQuery.
      handleError(error: unknown): void {
        failed = true
        reject(error)
      },
      handleReadyForQuery(): void {
        if (!failed) resolve({ fields, rows })
      },
      handleCommandComplete(): void {},
      handleEmptyQuery(): void {},
      handlePortalSuspended(): void {},
      handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
        connection.sendCopyFail('not a COPY statement')
      },
      handleCopyData(): void {},
    }
    client.query(submittable)
  })
}
