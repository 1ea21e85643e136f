/**
 * Kafka's `InsertHeader`: adds a header with a literal value to every record. The literal is
 * parsed as `Values.parseString` does (`42` is an INT8, `true` a BOOLEAN, `[1,2]` an array…), as a
 * SimpleHeaderConverter would read it.
 */
import { ConfigDef, NonNull } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import type { SchemaAndValue } from '../api/data/schema-and-value.ts'
import { parseString } from '../api/data/values.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'

export const INSERT_HEADER_CONFIG_DEF = new ConfigDef()
  .define({
    name: 'header',
    type: 'STRING',
    validator: NonNull,
    importance: 'HIGH',
    documentation: 'The name of the header.',
  })
  .define({
    name: 'value.literal',
    type: 'STRING',
    validator: NonNull,
    importance: 'HIGH',
    documentation: 'The literal value that is to be set as the header value on all records.',
  })

export class InsertHeader implements Transformation {
  #header = ''
  #literal: SchemaAndValue | null = null

  configure(props: Props): void {
    const config = INSERT_HEADER_CONFIG_DEF.parse(props)
    this.#header = config.header as string
    this.#literal = parseString(config['value.literal'] as string)
  }

  config(): ConfigDef {
    return INSERT_HEADER_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const headers = record.headers.duplicate()
    headers.add(this.#header, this.#literal?.value ?? null, this.#literal?.schema ?? null)
    return record.newRecord({ headers })
  }
}
