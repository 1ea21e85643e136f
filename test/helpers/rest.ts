import { setTimeout as sleep } from 'node:timers/promises'

export interface Response<T = unknown> {
  status: number
  body: T
  headers: Headers
}

export async function request<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers }
}

/** Polls until `check` returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await sleep(100)
  }
}

export interface StatusBody {
  connector: { state: string; trace?: string }
  tasks: { id: number; state: string; trace?: string }[]
}

/** Waits until the connector and all its tasks (at least one) are RUNNING. */
export async function waitRunning(base: string, name: string, timeoutMs = 30_000): Promise<StatusBody> {
  return eventually(
    async () => {
      const res = await request<StatusBody>(base, 'GET', `/connectors/${name}/status`)
      if (res.status !== 200) return undefined
      const failed = [res.body.connector, ...res.body.tasks].find((s) => s.state === 'FAILED')
      if (failed) throw new Error(`FAILED: ${failed.trace}`)
      return res.body.connector.state === 'RUNNING' &&
        res.body.tasks.length > 0 &&
        res.body.tasks.every((t) => t.state === 'RUNNING')
        ? res.body
        : undefined
    },
    timeoutMs,
    `${name} RUNNING`,
  ).catch(async (error) => {
    const res = await request(base, 'GET', `/connectors/${name}/status`)
    throw new Error(`${(error as Error).message}; last status ${JSON.stringify(res.body)}`)
  })
}
