/**
 * A small client of Kafka Connect's REST API for the `sluice` management commands. It works
 * against any Kafka Connect-compatible worker, Sluice or Java.
 */
export class ApiError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

export interface ClientOptions {
  url: string
  /** `user:password` for HTTP basic auth. */
  auth?: string
}

export class ConnectClient {
  readonly #url: string
  readonly #headers: Record<string, string>

  constructor(options: ClientOptions) {
    this.#url = options.url.replace(/\/+$/, '')
    this.#headers = { accept: 'application/json' }
    if (options.auth) this.#headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`
  }

  /** Resolves with the parsed body (null when empty); rejects with ApiError on an HTTP error. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.#url}${path}`, {
        method,
        headers:
          body === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (error) {
      throw new ApiError(
        0,
        `cannot reach ${this.#url}: ${(error as Error).cause ?? (error as Error).message}`,
      )
    }
    const text = await res.text()
    let parsed: unknown = null
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = text
    }
    if (!res.ok) {
      const message =
        parsed && typeof parsed === 'object' && 'message' in parsed
          ? String((parsed as { message: unknown }).message)
          : `HTTP ${res.status}${text ? `: ${text}` : ''}`
      throw new ApiError(res.status, message)
    }
    return parsed as T
  }
}

export function connectorPath(name: string): string {
  return `/connectors/${encodeURIComponent(name)}`
}
