// The image's HEALTHCHECK: the worker answers GET /health (200 once started). SLUICE_HEALTH_URL
// overrides the address when `listeners` is not the default http://:8083.
const url = process.env.SLUICE_HEALTH_URL ?? 'http://127.0.0.1:8083/health'
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) })
  process.exit(res.ok ? 0 : 1)
} catch {
  process.exit(1)
}
