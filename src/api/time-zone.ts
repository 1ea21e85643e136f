/**
 * Whether a time zone id is one the platform knows (an IANA id, `UTC`, `GMT`, …), as the connectors'
 * time-zone keys check it.
 *
 * `UTC`, the default of every such key, is answered without `Intl`: building the first
 * `Intl.DateTimeFormat` with a zone loads ICU's zone and locale data (~8 MB resident), and the
 * ConfigDefs check their defaults when the plugin list loads, so an idle worker would pay for it
 * (bench/RESULTS.md). A task that formats times loads it when it needs it.
 */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === 'UTC') return true
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
