/**
 * An example single message transform written in TypeScript, loaded from `plugin.path`.
 *
 *   plugin.path=/path/to/examples/plugins                       (worker config)
 *   "transforms": "mask",                                        (connector config)
 *   "transforms.mask.type": "com.example.MaskDigits",
 *   "transforms.mask.replacement": "#"
 *
 * In your own plugin, import from the package: `import { ConfigDef, … } from 'sluice'`.
 */
import {
  ConfigDef,
  type ConnectRecord,
  DataError,
  type PluginDescriptor,
  type Props,
  type Transformation,
} from '../../src/api/index.ts'

const configDef = new ConfigDef().define({
  name: 'replacement',
  type: 'STRING',
  defaultValue: '*',
  importance: 'MEDIUM',
  documentation: 'What each digit of a string value is replaced with.',
})

/** Replaces every digit of a string value, e.g. to hide card numbers before a sink. */
export class MaskDigits implements Transformation {
  #replacement = '*'

  configure(props: Props): void {
    this.#replacement = configDef.parse(props).replacement as string
  }

  apply(record: ConnectRecord): ConnectRecord | null {
    if (record.value === null) return record
    if (typeof record.value !== 'string') {
      throw new DataError(`MaskDigits needs a string value; topic ${record.topic} has ${typeof record.value}`)
    }
    return record.newRecord({ value: record.value.replace(/\d/g, this.#replacement) })
  }

  config(): ConfigDef {
    return configDef
  }
}

export const plugins: PluginDescriptor[] = [
  {
    className: 'com.example.MaskDigits',
    type: 'transformation',
    version: '1.0.0',
    create: () => new MaskDigits(),
  },
]
