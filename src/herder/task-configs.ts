/** Task configs, compared the way both herders decide whether a connector's tasks must be replaced. */
import type { Props } from '../api/connector.ts'

export function sameConfigs(a: Props[], b: Props[]): boolean {
  if (a.length !== b.length) return false
  return a.every((config, i) => {
    const other = b[i]
    const keys = Object.keys(config)
    return keys.length === Object.keys(other).length && keys.every((k) => config[k] === other[k])
  })
}
