/**
 * `sluice connectors|plugins|status`: manage the connectors of a running worker or cluster through
 * its REST API (Sluice or Kafka Connect). Tables for people, `--json` for scripts. Exit codes:
 * 0 ok, 1 server error or unreachable, 2 bad input or invalid config, 3 not found,
 * 4 unauthorized or forbidden, 5 timed out waiting (`--wait`).
 */
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Command } from 'commander'
import { readConfigFile } from '../config/config-file.ts'
import { ApiError, ConnectClient, connectorPath } from './connect-client.ts'

export const EXIT = { OK: 0, SERVER: 1, INPUT: 2, NOT_FOUND: 3, AUTH: 4, TIMEOUT: 5 } as const

/** A failure that ends the command with this exit code and message. */
export class CliFailure extends Error {
  readonly exitCode: number
  constructor(exitCode: number, message: string) {
    super(message)
    this.exitCode = exitCode
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof CliFailure) return error.exitCode
  if (error instanceof ApiError) {
    if (error.status === 404) return EXIT.NOT_FOUND
    if (error.status === 401 || error.status === 403) return EXIT.AUTH
    if (error.status >= 400 && error.status < 500) return EXIT.INPUT
    return EXIT.SERVER
  }
  return EXIT.SERVER
}

interface Common {
  url: string
  user?: string
  json?: boolean
}

interface ConfigKeyInfo {
  name: string
  type: string
  required: boolean
  default_value: string | null
  documentation: string
}

interface ConfigInfos {
  error_count: number
  configs: { definition: ConfigKeyInfo | null; value: { name: string; errors: string[] } }[]
}

interface StateInfo {
  name: string
  connector: { state: string; worker_id: string; trace?: string }
  tasks: { id: number; state: string; worker_id: string; trace?: string }[]
  type: string
}

function out(text: string): void {
  process.stdout.write(`${text}\n`)
}

function info(text: string): void {
  process.stderr.write(`${text}\n`)
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** The options every management command takes, which may also come before the command's name. */
const GLOBAL_OPTIONS = { '--url': true, '--user': true, '--json': false } as const

/**
 * `sluice --url http://w:8083 connectors list` as well as `sluice connectors list --url …`: the
 * management commands' options given before the command name are moved after it, where the
 * command reads them (commander reads a command's options only after its name).
 */
export function globalOptionsLast(argv: readonly string[]): string[] {
  const moved: string[] = []
  let i = 2
  while (i < argv.length) {
    const arg = argv[i]!
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg
    if (!Object.hasOwn(GLOBAL_OPTIONS, name)) break
    const takesValue = GLOBAL_OPTIONS[name as keyof typeof GLOBAL_OPTIONS] && !arg.includes('=')
    moved.push(...argv.slice(i, takesValue ? i + 2 : i + 1))
    i += takesValue ? 2 : 1
  }
  if (moved.length === 0) return [...argv]
  const rest = argv.slice(i)
  const end = rest.indexOf('--')
  return end < 0
    ? [...argv.slice(0, 2), ...rest, ...moved]
    : [...argv.slice(0, 2), ...rest.slice(0, end), ...moved, ...rest.slice(end)]
}

function withCommon(command: Command): Command {
  return command
    .option('--url <url>', 'REST URL of the worker', process.env.SLUICE_URL ?? 'http://localhost:8083')
    .option('--user <user:password>', 'HTTP basic auth credentials (or SLUICE_USER)', process.env.SLUICE_USER)
    .option('--json', 'print the API response as JSON')
}

function client(options: Common): ConnectClient {
  return new ConnectClient({ url: options.url, auth: options.user })
}

function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2))
}

/** A connector file: JSON `{"name","config"}` or a flat map, or `.properties`. */
function readConnector(file: string, name?: string): { name: string; config: Record<string, string> } {
  let config: Record<string, string>
  try {
    config = readConfigFile(file, 'connector config')
  } catch (error) {
    throw new CliFailure(EXIT.INPUT, (error as Error).message)
  }
  const resolved = name ?? config.name
  if (!resolved) throw new CliFailure(EXIT.INPUT, `${file} has no 'name': give one with --name`)
  if (!config['connector.class']) throw new CliFailure(EXIT.INPUT, `${file} has no 'connector.class'`)
  return { name: resolved, config: { ...config, name: resolved } }
}

/** Validates through `PUT /connector-plugins/{class}/config/validate`; field errors by key. */
async function validate(api: ConnectClient, config: Record<string, string>): Promise<Map<string, string[]>> {
  const plugin = encodeURIComponent(config['connector.class'])
  const infos = await api.call<ConfigInfos>('PUT', `/connector-plugins/${plugin}/config/validate`, config)
  const errors = new Map<string, string[]>()
  for (const c of infos.configs) if (c.value.errors.length > 0) errors.set(c.value.name, c.value.errors)
  return errors
}

function showErrors(errors: Map<string, string[]>): void {
  for (const [key, messages] of errors) for (const m of messages) info(`  ✗ ${key}: ${m}`)
}

/** Polls status until the connector and all its tasks are RUNNING; FAILED or the timeout end it. */
async function waitRunning(api: ConnectClient, name: string, timeoutMs: number): Promise<StateInfo> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    let status: StateInfo | undefined
    try {
      status = await api.call<StateInfo>('GET', `${connectorPath(name)}/status`)
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error
    }
    if (status) {
      const states = [status.connector.state, ...status.tasks.map((t) => t.state)]
      const line = `${name}: connector ${status.connector.state}, tasks ${status.tasks.map((t) => `${t.id}=${t.state}`).join(' ') || '(none yet)'}`
      if (line !== last) info(line)
      last = line
      const failed = [status.connector, ...status.tasks].find((s) => s.state === 'FAILED')
      if (failed) {
        throw new CliFailure(EXIT.SERVER, `${name} FAILED: ${(failed.trace ?? '').split('\n')[0]}`)
      }
      if (status.tasks.length > 0 && states.every((s) => s === 'RUNNING')) return status
    }
    if (Date.now() > deadline) {
      throw new CliFailure(
        EXIT.TIMEOUT,
        `${name} not RUNNING after ${timeoutMs} ms (last: ${last || 'no status'})`,
      )
    }
    await sleep(200)
  }
}

/** Reads answers line by line (works for a terminal and for piped stdin alike). */
function prompter(): { ask(question: string): Promise<string | undefined>; close(): void } {
  const rl = createInterface({ input: process.stdin, terminal: false })
  const lines = rl[Symbol.asyncIterator]()
  return {
    async ask(question: string) {
      process.stderr.write(question)
      const next = await lines.next()
      return next.done ? undefined : String(next.value).trim()
    },
    close: () => rl.close(),
  }
}

/**
 * The interactive create: name, connector class (from the installed plugins), then each required
 * key of the plugin's ConfigDef with its documentation and default, then any other key=value.
 * Invalid fields are shown inline and asked again.
 */
async function wizard(api: ConnectClient): Promise<{ name: string; config: Record<string, string> }> {
  const p = prompter()
  const need = async (question: string): Promise<string> => {
    for (;;) {
      const answer = await p.ask(question)
      if (answer === undefined)
        throw new CliFailure(EXIT.INPUT, 'input ended before the connector was complete')
      if (answer !== '') return answer
    }
  }
  try {
    const name = await need('Connector name: ')
    const plugins = await api.call<{ class: string; type: string }[]>('GET', '/connector-plugins')
    info(
      table(
        ['#', 'CLASS', 'TYPE'],
        plugins.map((pl, i) => [String(i + 1), pl.class, pl.type]),
      ),
    )
    const choice = await need('Connector class (number or name): ')
    const className = /^\d+$/.test(choice) ? plugins[Number(choice) - 1]?.class : choice
    if (!className) throw new CliFailure(EXIT.INPUT, `no plugin number ${choice}`)
    const keys = await api.call<ConfigKeyInfo[]>(
      'GET',
      `/connector-plugins/${encodeURIComponent(className)}/config`,
    )
    const config: Record<string, string> = { 'connector.class': className, name }
    const askKey = async (key: ConfigKeyInfo, errors: string[] = []): Promise<void> => {
      info(`\n${key.name} (${key.type}${key.required ? ', required' : ''}): ${key.documentation}`)
      for (const e of errors) info(`  ✗ ${e}`)
      const fallback = config[key.name] ?? key.default_value ?? undefined
      const answer = await p.ask(`${key.name}${fallback !== undefined ? ` [${fallback}]` : ''}: `)
      if (answer === undefined)
        throw new CliFailure(EXIT.INPUT, 'input ended before the connector was complete')
      if (answer !== '') config[key.name] = answer
      else if (fallback !== undefined && key.default_value === null) config[key.name] = fallback
    }
    for (const key of keys.filter((k) => k.required && k.name !== 'connector.class' && k.name !== 'name')) {
      await askKey(key)
    }
    for (;;) {
      const extra = await p.ask('Other key=value (empty to finish): ')
      if (extra === undefined || extra === '') break
      const eq = extra.indexOf('=')
      if (eq <= 0) info('  ✗ write key=value')
      else config[extra.slice(0, eq).trim()] = extra.slice(eq + 1).trim()
    }
    for (let round = 0; round < 3; round++) {
      const errors = await validate(api, config)
      if (errors.size === 0) return { name, config }
      info('\nThe config has errors:')
      showErrors(errors)
      for (const [keyName, messages] of errors) {
        const key = keys.find((k) => k.name === keyName) ?? {
          name: keyName,
          type: 'STRING',
          required: true,
          default_value: null,
          documentation: '',
        }
        await askKey(key, messages)
      }
    }
    const errors = await validate(api, config)
    if (errors.size > 0) {
      showErrors(errors)
      throw new CliFailure(EXIT.INPUT, 'the connector config is still invalid')
    }
    return { name, config }
  } finally {
    p.close()
  }
}

function stateRows(status: StateInfo): string[][] {
  return [
    [
      'connector',
      status.connector.state,
      status.connector.worker_id,
      (status.connector.trace ?? '').split('\n')[0],
    ],
    ...status.tasks.map((t) => [`task ${t.id}`, t.state, t.worker_id, (t.trace ?? '').split('\n')[0]]),
  ]
}

export function registerManageCommands(
  program: Command,
  run: (action: () => Promise<void>) => Promise<void>,
): void {
  const connectors = program.command('connectors').description('Manage the connectors of a running worker')

  withCommon(connectors.command('list').description('List connectors with their type and state')).action(
    (o: Common) =>
      run(async () => {
        const all = await client(o).call<Record<string, { status: StateInfo; info: { type: string } }>>(
          'GET',
          '/connectors?expand=status&expand=info',
        )
        if (o.json) return printJson(all)
        const rows = Object.entries(all).map(([name, e]) => [
          name,
          e.info.type,
          e.status.connector.state,
          `${e.status.tasks.filter((t) => t.state === 'RUNNING').length}/${e.status.tasks.length}`,
        ])
        out(table(['NAME', 'TYPE', 'STATE', 'TASKS RUNNING'], rows))
      }),
  )

  withCommon(
    connectors.command('get').argument('<name>').description('Show a connector and its config'),
  ).action((name: string, o: Common) =>
    run(async () => {
      const connector = await client(o).call<{
        type: string
        config: Record<string, string>
        tasks: unknown[]
      }>('GET', connectorPath(name))
      if (o.json) return printJson(connector)
      out(`${name} (${connector.type}, ${connector.tasks.length} task(s))`)
      out(
        table(
          ['KEY', 'VALUE'],
          Object.entries(connector.config).sort(([a], [b]) => a.localeCompare(b)),
        ),
      )
    }),
  )

  withCommon(
    connectors
      .command('create')
      .argument('[file]', 'connector config (.json or .properties); without it, an interactive wizard asks')
      .option('--name <name>', 'connector name (overrides the file)')
      .option('--wait', 'wait until the connector and its tasks are RUNNING')
      .option('--timeout <ms>', 'how long --wait waits', '60000')
      .description('Create a connector: validated first, field errors shown inline'),
  ).action((file: string | undefined, o: Common & { name?: string; wait?: boolean; timeout: string }) =>
    run(async () => {
      const api = client(o)
      const { name, config } = file ? readConnector(file, o.name) : await wizard(api)
      const errors = await validate(api, config)
      if (errors.size > 0) {
        info(`${name}: invalid config`)
        showErrors(errors)
        throw new CliFailure(EXIT.INPUT, `${errors.size} invalid key(s): ${[...errors.keys()].join(', ')}`)
      }
      const created = await api.call('POST', '/connectors', { name, config })
      const status = o.wait ? await waitRunning(api, name, Number(o.timeout)) : undefined
      if (o.json) return printJson(status ?? created)
      out(`created ${name}${status ? ' (RUNNING)' : ''}`)
    }),
  )

  withCommon(
    connectors
      .command('update')
      .argument('<name>')
      .argument('<file>', 'the full new config (.json or .properties)')
      .description('Replace a connector config (creates it when absent)'),
  ).action((name: string, file: string, o: Common) =>
    run(async () => {
      const api = client(o)
      const { config } = readConnector(file, name)
      const errors = await validate(api, config)
      if (errors.size > 0) {
        showErrors(errors)
        throw new CliFailure(EXIT.INPUT, `${errors.size} invalid key(s): ${[...errors.keys()].join(', ')}`)
      }
      const updated = await api.call('PUT', `${connectorPath(name)}/config`, config)
      if (o.json) return printJson(updated)
      out(`updated ${name}`)
    }),
  )

  const simple: [string, string, string, string][] = [
    ['delete', 'DELETE', '', 'deleted'],
    ['pause', 'PUT', '/pause', 'paused'],
    ['resume', 'PUT', '/resume', 'resumed'],
    ['stop', 'PUT', '/stop', 'stopped'],
  ]
  for (const [verb, method, suffix, done] of simple) {
    withCommon(
      connectors
        .command(verb)
        .argument('<name>')
        .description(`${verb[0].toUpperCase()}${verb.slice(1)} a connector`),
    ).action((name: string, o: Common) =>
      run(async () => {
        await client(o).call(method, `${connectorPath(name)}${suffix}`)
        if (o.json) return printJson({ name, result: done })
        out(`${done} ${name}`)
      }),
    )
  }

  withCommon(
    connectors
      .command('restart')
      .argument('<name>')
      .option('--include-tasks', 'restart the tasks too')
      .option('--only-failed', 'restart only failed instances')
      .description('Restart a connector (and its tasks)'),
  ).action((name: string, o: Common & { includeTasks?: boolean; onlyFailed?: boolean }) =>
    run(async () => {
      const query = `?includeTasks=${o.includeTasks === true}&onlyFailed=${o.onlyFailed === true}`
      const status = await client(o).call<StateInfo | null>('POST', `${connectorPath(name)}/restart${query}`)
      if (o.json) return printJson(status ?? { name, result: 'restarted' })
      out(`restarting ${name}`)
    }),
  )

  withCommon(connectors.command('status').argument('<name>').description('Connector and task states')).action(
    (name: string, o: Common) =>
      run(async () => {
        const status = await client(o).call<StateInfo>('GET', `${connectorPath(name)}/status`)
        if (o.json) return printJson(status)
        out(table(['INSTANCE', 'STATE', 'WORKER', 'ERROR'], stateRows(status)))
      }),
  )

  withCommon(
    connectors
      .command('offsets')
      .argument('<name>')
      .option('--reset', 'reset the offsets (the connector must be stopped)')
      .option('--set <file>', 'alter offsets from a JSON file {"offsets":[{"partition":…,"offset":…}]}')
      .description('Show, alter or reset connector offsets (KIP-875)'),
  ).action((name: string, o: Common & { reset?: boolean; set?: string }) =>
    run(async () => {
      const api = client(o)
      if (o.reset || o.set) {
        let body: unknown
        if (o.set) {
          try {
            body = JSON.parse((await import('node:fs')).readFileSync(o.set, 'utf8'))
          } catch (error) {
            throw new CliFailure(EXIT.INPUT, `cannot read ${o.set}: ${(error as Error).message}`)
          }
        }
        const result = await api.call<{ message: string }>(
          o.reset ? 'DELETE' : 'PATCH',
          `${connectorPath(name)}/offsets`,
          body,
        )
        if (o.json) return printJson(result)
        return out(result.message)
      }
      const offsets = await api.call<{ offsets: { partition: unknown; offset: unknown }[] }>(
        'GET',
        `${connectorPath(name)}/offsets`,
      )
      if (o.json) return printJson(offsets)
      out(
        table(
          ['PARTITION', 'OFFSET'],
          offsets.offsets.map((e) => [JSON.stringify(e.partition), JSON.stringify(e.offset)]),
        ),
      )
    }),
  )

  const plugins = program.command('plugins').description('Installed plugins of a running worker')
  withCommon(plugins.command('list').option('--all', 'also converters, transforms and predicates')).action(
    (o: Common & { all?: boolean }) =>
      run(async () => {
        const list = await client(o).call<{ class: string; type: string; version?: string }[]>(
          'GET',
          `/connector-plugins?connectorsOnly=${!o.all}`,
        )
        if (o.json) return printJson(list)
        out(
          table(
            ['CLASS', 'TYPE', 'VERSION'],
            list.map((p) => [p.class, p.type, p.version ?? '']),
          ),
        )
      }),
  )
  withCommon(plugins.command('config').argument('<plugin>').description("A plugin's config keys")).action(
    (plugin: string, o: Common) =>
      run(async () => {
        const keys = await client(o).call<ConfigKeyInfo[]>(
          'GET',
          `/connector-plugins/${encodeURIComponent(plugin)}/config`,
        )
        if (o.json) return printJson(keys)
        out(
          table(
            ['KEY', 'TYPE', 'REQUIRED', 'DEFAULT', 'DOCUMENTATION'],
            keys.map((k) => [
              k.name,
              k.type,
              k.required ? 'yes' : '',
              k.default_value ?? '',
              k.documentation.split('\n')[0],
            ]),
          ),
        )
      }),
  )
  withCommon(
    plugins
      .command('validate')
      .argument('<file>', 'connector config (.json or .properties)')
      .description('Validate a connector config without creating it'),
  ).action((file: string, o: Common) =>
    run(async () => {
      const { config } = readConnector(file, readConfigFile(file, 'connector config').name ?? 'validate')
      const api = client(o)
      const plugin = encodeURIComponent(config['connector.class'])
      const infos = await api.call<ConfigInfos>('PUT', `/connector-plugins/${plugin}/config/validate`, config)
      if (o.json) printJson(infos)
      else if (infos.error_count === 0) out('valid')
      if (infos.error_count > 0) {
        if (!o.json) showErrors(await validate(api, config))
        throw new CliFailure(EXIT.INPUT, `${infos.error_count} error(s)`)
      }
    }),
  )

  withCommon(program.command('status').description('States of every connector and task')).action(
    (o: Common) =>
      run(async () => {
        const all = await client(o).call<Record<string, { status: StateInfo }>>(
          'GET',
          '/connectors?expand=status',
        )
        if (o.json) return printJson(all)
        const rows = Object.entries(all).flatMap(([name, e]) => stateRows(e.status).map((r) => [name, ...r]))
        out(table(['CONNECTOR', 'INSTANCE', 'STATE', 'WORKER', 'ERROR'], rows))
      }),
  )
}
