/** Kafka's `DropHeaders`: removes every header whose name is listed in `headers`. */
import { ConfigDef } from '../api/config-def.ts'
import type { Props } from '../api/connector.ts'
import { Headers } from '../api/headers.ts'
import type { ConnectRecord } from '../api/records.ts'
import type { Transformation } from '../api/transformation.ts'
import { nonEmptyList } from './config-validators.ts'

export const DROP_HEADERS_CONFIG_DEF = new ConfigDef().define({
  name: 'headers',
  type: 'LIST',
  validator: nonEmptyList,
  importance: 'HIGH',
  documentation: 'The name of the headers to be removed.',
})

export class DropHeaders implements Transformation {
  #headers = new Set<string>()

  configure(props: Props): void {
    this.#headers = new Set(DROP_HEADERS_CONFIG_DEF.parse(props).headers as string[])
  }

  config(): ConfigDef {
    return DROP_HEADERS_CONFIG_DEF
  }

  apply<R extends ConnectRecord>(record: R): R {
    const kept = new Headers()
    for (const header of record.headers) if (!this.#headers.has(header.key)) kept.addHeader(header)
    return record.newRecord({ headers: kept })
  }
}
