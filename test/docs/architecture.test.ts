/**
 * The import rules of docs/architecture.md ("Which folder may import which"), checked over every
 * file of src/: a connector importing the runtime, a second module importing the Kafka client or the
 * HTTP framework, storage importing the runtime… fails here, naming the file, the import and the rule.
 * When a rule changes, change the table below and the map together.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const SRC = join(REPO, 'src')

/** One import: the importing file and the imported module, both relative to src/ (packages as `pkg:name`). */
interface Edge {
  readonly from: string
  readonly to: string
}

/**
 * The top-level folders of src/ each folder may import (besides itself and `node:*`). `cli/` is the
 * composition root and may import anything; `version.ts` may be imported from anywhere.
 */
const LAYERS: Record<string, readonly string[]> = {
  api: [],
  common: ['api'],
  config: ['api'],
  log: ['api', 'common', 'config'],
  storage: ['api', 'common', 'log'],
  converters: ['api', 'common'],
  transforms: ['api', 'common'],
  'config-providers': ['api', 'config'],
  connectors: ['api'],
  plugins: ['api', 'config-providers', 'connectors', 'converters', 'transforms'],
  runtime: ['api', 'common', 'config', 'log', 'plugins', 'storage'],
  herder: ['api', 'common', 'config', 'log', 'runtime', 'storage'],
  services: ['api', 'common', 'config', 'log', 'storage'],
  rest: ['api', 'common', 'config', 'herder', 'plugins', 'runtime', 'services'],
  telemetry: ['api', 'common', 'runtime'],
  // Browser code: talks to a worker only over the REST API, so it imports nothing of src/.
  console: [],
}

/** Each npm dependency has one home: the folders (prefixes of src/ paths) allowed to import it. */
const PACKAGES: Record<string, readonly string[]> = {
  '@platformatic/kafka': ['log/kafka/'],
  commander: ['cli/'],
  pg: ['connectors/'],
  mysql2: ['connectors/'],
  avsc: ['api/avro/', 'converters/', 'connectors/', 'services/'],
  ajv: ['services/', 'converters/json-schema-converter.ts'],
  mongodb: ['connectors/'],
  bson: ['connectors/'],
  '@aws-sdk/client-s3': ['connectors/s3/'],
  'hyparquet-writer': ['connectors/s3/'],
  // A devDependency: bundles the web console (src/console/) when the worker runs from the sources.
  esbuild: ['rest/console-assets.ts'],
}

/** Narrower rules inside the allowed layers: [importer prefix, imported prefix, allowed?, why]. */
const TARGETS: readonly {
  readonly to: string
  readonly onlyFrom: readonly string[]
  readonly why: string
}[] = [
  {
    to: 'log/kafka/',
    onlyFrom: ['log/', 'herder/distributed/', 'cli/'],
    why: 'the runtime and storage reach Kafka through the Log interface (log/log.ts) and log/create-log.ts',
  },
  { to: 'log/embedded/', onlyFrom: ['log/'], why: 'the embedded log is opened through log/create-log.ts' },
  {
    to: 'connectors/',
    onlyFrom: ['connectors/', 'plugins/built-ins.ts'],
    why: 'connectors are reached through the plugin registry',
  },
  {
    to: 'converters/',
    onlyFrom: ['converters/', 'plugins/built-ins.ts'],
    why: 'converters are reached through the plugin registry',
  },
  {
    to: 'transforms/',
    onlyFrom: ['transforms/', 'plugins/built-ins.ts'],
    why: 'transforms are reached through the plugin registry',
  },
  {
    to: 'config-providers/',
    onlyFrom: ['config-providers/', 'plugins/built-ins.ts'],
    why: 'config providers are reached through the plugin registry',
  },
  {
    to: 'plugins/built-ins.ts',
    onlyFrom: ['plugins/', 'cli/'],
    why: 'the worker is handed its registry; only the command line builds it',
  },
]

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

function importsOf(file: string): Edge[] {
  const from = relative(SRC, file)
  const edges: Edge[] = []
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]!
    const to = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : `pkg:${spec}`
    edges.push({ from, to })
  }
  return edges
}

const topFolder = (path: string): string => path.split('/')[0]!
/** `connectors/jdbc/sink/x.ts` → `connectors/jdbc/`. */
const connectorFamily = (path: string): string => `${path.split('/').slice(0, 2).join('/')}/`

/** The rules each edge breaks, as messages naming the file, the import and the rule. */
function violations(edges: readonly Edge[]): string[] {
  const found: string[] = []
  for (const { from, to } of edges) {
    const where = `src/${from} imports ${to.startsWith('pkg:') ? to.slice(4) : `src/${to}`}`
    if (to.startsWith('pkg:')) {
      const name = to.slice(4)
      if (name.startsWith('node:')) continue
      const homes =
        PACKAGES[name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!]
      if (homes === undefined) found.push(`${where}: a package with no home in docs/architecture.md`)
      else if (!homes.some((home) => from.startsWith(home)))
        found.push(`${where}: only ${homes.map((h) => `src/${h}`).join(', ')} may import it`)
      continue
    }
    if (to.startsWith('..')) {
      found.push(`${where}: outside src/`)
      continue
    }
    const layer = topFolder(from)
    const target = topFolder(to)
    if (to === 'version.ts' || layer === 'cli' || layer === target) {
      if (layer === 'connectors' && target === 'connectors' && connectorFamily(from) !== connectorFamily(to))
        found.push(`${where}: a connector imports only src/api and its own family's folder`)
    } else {
      const allowed = LAYERS[layer]
      if (allowed === undefined) found.push(`${where}: src/${layer}/ is not in the map's table of layers`)
      else if (!allowed.includes(target))
        found.push(
          `${where}: src/${layer}/ may import only ${allowed.map((a) => `src/${a}/`).join(', ') || 'itself'}`,
        )
    }
    for (const rule of TARGETS) {
      if (to.startsWith(rule.to) && !rule.onlyFrom.some((prefix) => from.startsWith(prefix)))
        found.push(`${where}: only ${rule.onlyFrom.map((p) => `src/${p}`).join(', ')} may (${rule.why})`)
    }
  }
  return found
}

describe('docs/architecture.md: which folder may import which', () => {
  test('every import in src/ follows the rules', () => {
    const edges = sourceFiles(SRC).flatMap(importsOf)
    assert.ok(edges.length > 500, `only ${edges.length} imports found: is the import pattern broken?`)
    assert.deepEqual(violations(edges), [])
  })

  test('the check catches each kind of break', () => {
    const broken: Edge[] = [
      { from: 'connectors/file/source-task.ts', to: 'runtime/worker.ts' },
      { from: 'connectors/jdbc/sink/writer.ts', to: 'connectors/postgres-cdc/config.ts' },
      { from: 'connectors/jdbc/sink/writer.ts', to: 'common/logger.ts' },
      { from: 'storage/kafka/kafka-offset-store.ts', to: 'runtime/worker.ts' },
      { from: 'transforms/cast.ts', to: 'converters/json-converter.ts' },
      { from: 'runtime/worker.ts', to: 'log/kafka/kafka-log.ts' },
      { from: 'runtime/worker.ts', to: 'plugins/built-ins.ts' },
      { from: 'runtime/worker.ts', to: 'pkg:@platformatic/kafka' },
      { from: 'herder/distributed/distributed-herder.ts', to: 'pkg:fastify' },
      { from: 'api/connector.ts', to: 'common/states.ts' },
      { from: 'log/log.ts', to: 'pkg:left-pad' },
      { from: 'console/overview.ts', to: 'api/errors.ts' },
      { from: 'runtime/worker.ts', to: 'pkg:esbuild' },
    ]
    const found = violations(broken)
    for (const edge of broken) {
      assert.ok(
        found.some(
          (message) =>
            message.startsWith(`src/${edge.from} imports `) && message.includes(edge.to.replace('pkg:', '')),
        ),
        `not caught: ${edge.from} → ${edge.to}\n${found.join('\n')}`,
      )
    }
    // And what is allowed passes.
    assert.deepEqual(
      violations([
        { from: 'connectors/jdbc/sink/writer.ts', to: 'connectors/jdbc/common/connection.ts' },
        { from: 'connectors/jdbc/common/connection.ts', to: 'pkg:pg' },
        { from: 'runtime/worker.ts', to: 'log/create-log.ts' },
        { from: 'herder/distributed/distributed-herder.ts', to: 'log/kafka/group-membership.ts' },
        { from: 'cli/distributed.ts', to: 'log/kafka/kafka-log.ts' },
        { from: 'log/kafka/kafka-log.ts', to: 'pkg:@platformatic/kafka/dist/index.js' },
        { from: 'transforms/debezium/by-logical-table-router.ts', to: 'common/lru-cache.ts' },
      ]),
      [],
    )
  })
})

describe('docs/architecture.md: links stay inside the repository', () => {
  // A path into a folder beside the repository, a section sign (a private note's section; an RFC's
  // is fine) or a tracker's issue number. Spelled with escapes so this file does not match itself.
  const outside = new RegExp(['\\.\\./shared/', '(?<!RFC \\d{1,5} )\\u00a7', '\\bissue [0-9#]'].join('|'))
  const roots = ['src', 'test', 'bench', 'scripts', 'docs', 'examples']

  test('no file cites a note or tracker outside the repository', () => {
    const files = [
      join(REPO, 'README.md'),
      ...roots.flatMap((root) =>
        sourceFilesAndDocs(join(REPO, root)).filter(
          (file) => !file.startsWith(join(REPO, 'docs/reference/')),
        ),
      ),
    ]
    const found: string[] = []
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (outside.test(line)) found.push(`${relative(REPO, file)}:${i + 1}: ${line.trim()}`)
        })
    }
    assert.deepEqual(found, [], 'cite the public source instead (a KIP, a Java class, docs/architecture.md)')
  })

  test('every relative link of docs/architecture.md and README.md resolves to a file of the repository', () => {
    for (const doc of ['docs/architecture.md', 'README.md']) {
      const text = readFileSync(join(REPO, doc), 'utf8')
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        const path = resolve(join(REPO, dirname(doc)), target!)
        assert.ok(path.startsWith(`${REPO}/`), `${doc} links outside the repository: ${target}`)
        assert.ok(existsSync(path), `${doc} links a missing file: ${target}`)
      }
    }
  })
})

function sourceFilesAndDocs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFilesAndDocs(path)
    return /\.(ts|md|js|json|properties)$/.test(entry.name) ? [path] : []
  })
}
