/**
 * Renders a Helm chart the way `helm template` does, for the part of Go's text/template and Helm's
 * (Sprig) functions the Sluice chart uses, so the chart is rendered and its manifests checked in
 * tests on machines with no Helm binary. Semantics follow Go's text/template: `{{-`/`-}}` trim
 * whitespace, empty values (false, 0, "", empty list or map, nil) are false, `range` over a map
 * goes in key order, `$` is the root, a missing value prints as nothing (Helm's missingkey=zero).
 * Anything outside the subset is an error naming it, so a chart change that needs more fails
 * loudly here instead of rendering wrongly.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'

type Value = unknown
/** A rendered manifest: read field by field by the tests. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML documents
export type Manifest = Record<string, any>

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'define'; name: string; body: Node[] }

interface Pipeline {
  decl: string[]
  assign: boolean
  cmds: Operand[][]
}

type Operand =
  | { t: 'field'; base: 'dot' | string; path: string[] }
  | { t: 'lit'; v: Value }
  | { t: 'fn'; name: string }
  | { t: 'sub'; pipe: Pipeline }

class Scope {
  readonly vars = new Map<string, Value>()
  readonly parent: Scope | null
  constructor(parent: Scope | null) {
    this.parent = parent
  }
  get(name: string): Value {
    for (let s: Scope | null = this; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name)
    throw new Error(`undefined variable $${name}`)
  }
  set(name: string, value: Value): void {
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, value)
        return
      }
    }
    throw new Error(`assignment to undeclared variable $${name}`)
  }
}

// ── lexing and parsing ──────────────────────────────────────────────────────────────────────

type Piece = { kind: 'text'; text: string } | { kind: 'action'; src: string }

function lex(source: string): Piece[] {
  const pieces: Piece[] = []
  let i = 0
  while (i < source.length) {
    const open = source.indexOf('{{', i)
    if (open === -1) {
      pieces.push({ kind: 'text', text: source.slice(i) })
      break
    }
    let text = source.slice(i, open)
    let start = open + 2
    if (source.startsWith('- ', start) || source.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '')
      start += 1
    }
    pieces.push({ kind: 'text', text })
    const close = findClose(source, start)
    let end = close
    let after = close + 2
    if (source[close - 1] === '-' && /\s/.test(source[close - 2])) {
      end = close - 1
      const rest = source.slice(after)
      after += rest.length - rest.replace(/^\s+/, '').length
    }
    const src = source.slice(start, end).trim()
    if (!(src.startsWith('/*') && src.endsWith('*/'))) pieces.push({ kind: 'action', src })
    i = after
  }
  return pieces
}

function findClose(source: string, from: number): number {
  let quote: string | null = null
  for (let i = from; i < source.length; i++) {
    const c = source[i]
    if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = null
    } else if (c === '"' || c === '`') quote = c
    else if (c === '}' && source[i + 1] === '}') return i
  }
  throw new Error(`unclosed action at ${from}`)
}

function tokenize(src: string): string[] {
  const tokens: string[] = []
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|[()|,=]|[^\s()|,="`]+)/gy
  for (let m = re.exec(src); m; m = re.exec(src)) tokens.push(m[1])
  if (tokens.join('').length !== src.replace(/\s+/g, '').length && !/["`]/.test(src))
    throw new Error(`cannot read action {{ ${src} }}`)
  return tokens
}

function parsePipeline(tokens: string[], pos = { i: 0 }, until?: string): Pipeline {
  const pipe: Pipeline = { decl: [], assign: false, cmds: [] }
  // `$a := …`, `$a, $b := …`, `$a = …`
  const declEnd = tokens.findIndex((t, k) => k >= pos.i && (t === ':=' || t === '='))
  if (
    declEnd !== -1 &&
    tokens[pos.i]?.startsWith('$') &&
    tokens.slice(pos.i, declEnd).every((t) => t === ',' || /^\$\w*$/.test(t))
  ) {
    pipe.decl = tokens
      .slice(pos.i, declEnd)
      .filter((t) => t !== ',')
      .map((t) => t.slice(1))
    pipe.assign = tokens[declEnd] === '='
    pos.i = declEnd + 1
  }
  let cmd: Operand[] = []
  while (pos.i < tokens.length) {
    const t = tokens[pos.i++]
    if (t === until) break
    if (t === '|') {
      pipe.cmds.push(cmd)
      cmd = []
      continue
    }
    if (t === '(') {
      cmd.push({ t: 'sub', pipe: parsePipeline(tokens, pos, ')') })
      continue
    }
    cmd.push(operand(t))
  }
  pipe.cmds.push(cmd)
  if (pipe.cmds.some((c) => c.length === 0)) throw new Error(`empty command in {{ ${tokens.join(' ')} }}`)
  return pipe
}

function operand(t: string): Operand {
  if (t === '.') return { t: 'field', base: 'dot', path: [] }
  if (t.startsWith('.')) return { t: 'field', base: 'dot', path: t.slice(1).split('.') }
  if (t.startsWith('$')) {
    const [name, ...path] = t.slice(1).split('.')
    return { t: 'field', base: name, path }
  }
  if (t.startsWith('"')) return { t: 'lit', v: JSON.parse(t) }
  if (t.startsWith('`')) return { t: 'lit', v: t.slice(1, -1) }
  if (/^-?\d+(\.\d+)?$/.test(t)) return { t: 'lit', v: Number(t) }
  if (t === 'true' || t === 'false') return { t: 'lit', v: t === 'true' }
  if (t === 'nil') return { t: 'lit', v: null }
  if (/^[a-zA-Z]\w*$/.test(t)) return { t: 'fn', name: t }
  throw new Error(`unsupported token '${t}'`)
}

function parse(pieces: Piece[]): Node[] {
  let i = 0
  const block = (ends: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = []
    while (i < pieces.length) {
      const p = pieces[i++]
      if (p.kind === 'text') {
        if (p.text) nodes.push({ kind: 'text', text: p.text })
        continue
      }
      const [word] = p.src.split(/\s+/, 1)
      const rest = p.src.slice(word.length).trim()
      if (ends.includes(word)) return { nodes, end: p.src }
      if (word === 'if') {
        const branches = [{ cond: parsePipeline(tokenize(rest)), body: [] as Node[] }]
        let otherwise: Node[] = []
        for (;;) {
          const b = block(['else', 'end'])
          branches[branches.length - 1].body = b.nodes
          if (b.end === 'end') break
          const elseRest = b.end.slice(4).trim()
          if (elseRest.startsWith('if ')) {
            branches.push({ cond: parsePipeline(tokenize(elseRest.slice(3))), body: [] })
            continue
          }
          otherwise = block(['end']).nodes
          break
        }
        nodes.push({ kind: 'if', branches, otherwise })
      } else if (word === 'range' || word === 'with') {
        const pipe = parsePipeline(tokenize(rest))
        const b = block(['else', 'end'])
        const otherwise = b.end === 'end' ? [] : block(['end']).nodes
        nodes.push({ kind: word, pipe, body: b.nodes, otherwise })
      } else if (word === 'define') {
        nodes.push({ kind: 'define', name: JSON.parse(rest), body: block(['end']).nodes })
      } else if (['else', 'end', 'block', 'template', 'break', 'continue'].includes(word)) {
        throw new Error(`unexpected or unsupported {{ ${p.src} }}`)
      } else {
        nodes.push({ kind: 'action', pipe: parsePipeline(tokenize(p.src)) })
      }
    }
    if (ends.length > 0) throw new Error(`missing {{ end }} (expected one of ${ends.join(', ')})`)
    return { nodes, end: '' }
  }
  return block([]).nodes
}

// ── evaluation ──────────────────────────────────────────────────────────────────────────────

export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (typeof v === 'object') return Object.keys(v).length > 0
  return true
}

function goString(v: Value): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) >= 1e6)
      return v
        .toExponential()
        .replace(/e\+?(-?)(\d)$/, 'e+$10$2')
        .replace('e+-', 'e-')
    return String(v)
  }
  if (typeof v === 'boolean') return String(v)
  throw new Error(
    `printing ${Array.isArray(v) ? 'a list' : 'a map'} (${JSON.stringify(v)}); use toYaml or toJson`,
  )
}

function sortKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, Value>)[k])]),
    )
  return v
}

export class Chart {
  readonly #defines = new Map<string, Node[]>()
  readonly #templates: [string, Node[]][] = []
  readonly chart: Record<string, Value>
  readonly defaults: Record<string, Value>
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
    this.chart = YAML.parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8'))
    this.defaults = YAML.parse(readFileSync(join(dir, 'values.yaml'), 'utf8')) ?? {}
    for (const file of readdirSync(join(dir, 'templates')).sort()) {
      if (!/\.(yaml|tpl)$/.test(file)) continue
      const nodes = parse(lex(readFileSync(join(dir, 'templates', file), 'utf8')))
      for (const n of nodes) if (n.kind === 'define') this.#defines.set(n.name, n.body)
      if (!file.startsWith('_')) this.#templates.push([file, nodes])
    }
  }

  /** Renders every template with the chart's values merged with `values` (maps deeply, the rest replaced). */
  render(
    values: Record<string, Value> = {},
    release = { name: 'sluice', namespace: 'default' },
  ): Map<string, string> {
    const root = {
      Values: merge(this.defaults, values),
      Release: {
        Name: release.name,
        Namespace: release.namespace,
        Service: 'Helm',
        IsInstall: true,
        IsUpgrade: false,
      },
      Chart: {
        Name: this.chart.name,
        Version: this.chart.version,
        AppVersion: this.chart.appVersion,
      },
    }
    const out = new Map<string, string>()
    for (const [file, nodes] of this.#templates) {
      try {
        out.set(file, this.#exec(nodes, root, root, new Scope(null)))
      } catch (error) {
        throw new Error(`templates/${file}: ${(error as Error).message}`, { cause: error })
      }
    }
    return out
  }

  /** The manifests: every non-empty YAML document of every template, parsed. */
  manifests(values: Record<string, Value> = {}, release?: { name: string; namespace: string }): Manifest[] {
    const docs: Manifest[] = []
    for (const [file, text] of this.render(values, release)) {
      for (const doc of YAML.parseAllDocuments(text)) {
        if (doc.errors.length > 0)
          throw new Error(`templates/${file} renders invalid YAML: ${doc.errors[0].message}\n${text}`)
        const value = doc.toJS()
        if (value !== null && value !== undefined) docs.push(value)
      }
    }
    return docs
  }

  #exec(nodes: Node[], dot: Value, root: Value, scope: Scope): string {
    let out = ''
    for (const n of nodes) {
      switch (n.kind) {
        case 'text':
          out += n.text
          break
        case 'define':
          break
        case 'action': {
          const v = this.#pipe(n.pipe, dot, root, scope)
          if (n.pipe.decl.length === 0) out += goString(v)
          break
        }
        case 'if': {
          const branch = n.branches.find((b) => truthy(this.#pipe(b.cond, dot, root, scope)))
          out += this.#exec(branch ? branch.body : n.otherwise, dot, root, new Scope(scope))
          break
        }
        case 'with': {
          const inner = new Scope(scope)
          const v = this.#pipe(n.pipe, dot, root, inner)
          out += truthy(v)
            ? this.#exec(n.body, v, root, inner)
            : this.#exec(n.otherwise, dot, root, new Scope(scope))
          break
        }
        case 'range': {
          const decl = n.pipe.decl
          const v = this.#pipe({ ...n.pipe, decl: [] }, dot, root, scope)
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, k) => [k, x])
            : v && typeof v === 'object'
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, (v as Record<string, Value>)[k]])
              : truthy(v)
                ? (() => {
                    throw new Error(`range over ${typeof v}`)
                  })()
                : []
          if (entries.length === 0) out += this.#exec(n.otherwise, dot, root, new Scope(scope))
          for (const [k, x] of entries) {
            const inner = new Scope(scope)
            if (decl.length === 1) inner.vars.set(decl[0], x)
            if (decl.length === 2) {
              inner.vars.set(decl[0], k)
              inner.vars.set(decl[1], x)
            }
            out += this.#exec(n.body, x, root, inner)
          }
          break
        }
      }
    }
    return out
  }

  #pipe(pipe: Pipeline, dot: Value, root: Value, scope: Scope): Value {
    let value: Value
    let piped = false
    for (const cmd of pipe.cmds) {
      value = this.#cmd(cmd, dot, root, scope, piped ? [value] : [])
      piped = true
    }
    if (pipe.decl.length > 0) {
      if (pipe.assign) scope.set(pipe.decl[0], value)
      else scope.vars.set(pipe.decl[0], value)
    }
    return value
  }

  #cmd(cmd: Operand[], dot: Value, root: Value, scope: Scope, piped: Value[]): Value {
    const [head, ...args] = cmd
    if (head.t !== 'fn') {
      if (args.length > 0 || piped.length > 0) throw new Error('a value cannot take arguments')
      return this.#operand(head, dot, root, scope)
    }
    const values = [...args.map((a) => this.#operand(a, dot, root, scope)), ...piped]
    return this.#call(head.name, values)
  }

  #operand(o: Operand, dot: Value, root: Value, scope: Scope): Value {
    switch (o.t) {
      case 'lit':
        return o.v
      case 'sub':
        return this.#pipe(o.pipe, dot, root, scope)
      case 'fn':
        return this.#call(o.name, [])
      case 'field': {
        let v = o.base === 'dot' ? dot : o.base === '' ? root : scope.get(o.base)
        for (const key of o.path) {
          if (v === undefined || v === null) throw new Error(`nil pointer evaluating .${o.path.join('.')}`)
          v = (v as Record<string, Value>)[key]
        }
        return v
      }
    }
  }

  #call(name: string, a: Value[]): Value {
    const s = (v: Value) => goString(v)
    switch (name) {
      case 'include': {
        const body = this.#defines.get(a[0] as string)
        if (!body) throw new Error(`include of undefined template "${a[0]}"`)
        // Inside a defined template, `$` is the argument it was given.
        return this.#exec(body, a[1], a[1], new Scope(null))
      }
      case 'toYaml':
        return a[0] === undefined || a[0] === null
          ? 'null'
          : YAML.stringify(sortKeys(a[0]), { lineWidth: 0 }).replace(/\n$/, '')
      case 'toJson':
        return JSON.stringify(sortKeys(a[0] ?? null))
      case 'nindent':
        return `\n${indent(a[0] as number, s(a[1]))}`
      case 'indent':
        return indent(a[0] as number, s(a[1]))
      case 'quote':
        return a.map((x) => JSON.stringify(s(x))).join(' ')
      case 'default':
        return truthy(a[1]) ? a[1] : a[0]
      case 'fail':
        throw new Error(`fail: ${s(a[0])}`)
      case 'required':
        if (a[1] === undefined || a[1] === null || a[1] === '') throw new Error(`required: ${a[0]}`)
        return a[1]
      case 'printf':
        return sprintf(s(a[0]), a.slice(1))
      case 'print':
        return a.map(s).join('')
      case 'trunc':
        return s(a[1]).slice(0, a[0] as number)
      case 'trimSuffix':
        return s(a[1]).endsWith(s(a[0])) ? s(a[1]).slice(0, -s(a[0]).length || undefined) : s(a[1])
      case 'contains':
        return s(a[1]).includes(s(a[0]))
      case 'sha256sum':
        return createHash('sha256').update(s(a[0])).digest('hex')
      case 'list':
        return [...a]
      case 'append':
        return [...(a[0] as Value[]), a[1]]
      case 'join':
        return (a[1] as Value[]).map(s).join(s(a[0]))
      case 'eq':
        return a.slice(1).some((x) => x === a[0])
      case 'ne':
        return a[0] !== a[1]
      case 'not':
        return !truthy(a[0])
      case 'and':
        return a.find((x) => !truthy(x)) ?? a.at(-1)
      case 'or':
        return a.find((x) => truthy(x)) ?? a.at(-1)
      default:
        throw new Error(`function "${name}" is not supported by the test renderer`)
    }
  }
}

function indent(n: number, text: string): string {
  const pad = ' '.repeat(n)
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n')
}

function sprintf(format: string, args: Value[]): string {
  let k = 0
  return format.replace(/%([svdq%])/g, (_, verb: string) => {
    if (verb === '%') return '%'
    const v = args[k++]
    if (verb === 'q') return JSON.stringify(goString(v))
    return goString(v)
  })
}

function merge(base: Record<string, Value>, over: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    if (v === null) delete out[k]
    else if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      b &&
      typeof b === 'object' &&
      !Array.isArray(b)
    )
      out[k] = merge(b as Record<string, Value>, v as Record<string, Value>)
    else out[k] = v
  }
  return out
}
