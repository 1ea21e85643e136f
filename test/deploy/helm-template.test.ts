/**
 * The test renderer of Helm charts (test/helpers/helm-template.ts) against what Go's text/template
 * and Helm print for the same templates, so the chart test checks what `helm template` would render.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Chart } from '../helpers/helm-template.ts'

describe('test renderer of Helm templates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tpl-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const render = (template: string, values: Record<string, unknown> = {}, helpers = ''): string => {
    rmSync(join(dir, 'templates'), { recursive: true, force: true })
    mkdirSync(join(dir, 'templates'))
    writeFileSync(join(dir, 'Chart.yaml'), 'name: c\nversion: 1.0.0\nappVersion: "2"\n')
    writeFileSync(join(dir, 'values.yaml'), 'a: {x: 1, y: two}\nlist: [b, a]\nempty: ""\nzero: 0\n')
    writeFileSync(join(dir, 'templates', '_helpers.tpl'), helpers)
    writeFileSync(join(dir, 'templates', 't.yaml'), template)
    return new Chart(dir).render(values).get('t.yaml')!
  }

  it('trims whitespace on the marked side only', () => {
    assert.equal(render('a  \n  {{- "b" }}  \n{{ "c" -}}  \n  d'), 'ab  \ncd')
  })

  it('treats empty values as false and picks the first true branch', () => {
    const t = '{{ if .Values.empty }}1{{ else if .Values.zero }}2{{ else if .Values.a }}3{{ else }}4{{ end }}'
    assert.equal(render(t), '3')
    assert.equal(render(t, { a: null }), '4')
    assert.equal(render('{{ if and .Values.a (not .Values.zero) }}yes{{ end }}'), 'yes')
  })

  it('ranges over maps in key order and lists in order, with variables and $', () => {
    assert.equal(
      render('{{ range $k, $v := .Values.a }}{{ $k }}={{ $v }};{{ end }}', { a: { z: 1 } }),
      'x=1;y=two;z=1;',
    )
    assert.equal(render('{{ range .Values.list }}{{ . }}{{ $.Chart.Name }}{{ end }}'), 'bcac')
    assert.equal(render('{{ range .Values.nothing }}x{{ else }}none{{ end }}'), 'none')
  })

  it('sets the dot with `with`, assigns variables with = across scopes', () => {
    assert.equal(
      render('{{ with .Values.a }}{{ .y }}{{ end }}{{ with .Values.empty }}no{{ else }}else{{ end }}'),
      'twoelse',
    )
    assert.equal(
      render('{{ $l := list }}{{ range .Values.list }}{{ $l = append $l . }}{{ end }}{{ join "+" $l }}'),
      'b+a',
    )
  })

  it('includes defined templates with their own $, and pipes into the last argument', () => {
    const helpers = '{{- define "n" -}}{{ $.Chart.Name }}-{{ .Chart.AppVersion }}{{- end -}}'
    assert.equal(render('{{ include "n" . | quote }}', {}, helpers), '"c-2"')
    assert.equal(render('{{ .Values.missing | default "d" }}|{{ .Values.missing }}|'), 'd||')
    assert.equal(render('x:{{ toYaml .Values.a | nindent 2 }}'), 'x:\n  x: 1\n  y: two')
    assert.equal(render('{{ printf "%s-%d" "a" 3 | trunc 3 | trimSuffix "-" }}'), 'a-3')
  })

  it('fails on what it does not support, and on nil pointers as Go does', () => {
    assert.throws(() => render('{{ tpl "x" . }}'), /function "tpl" is not supported/)
    assert.throws(() => render('{{ .Values.missing.deeper }}'), /nil pointer/)
    assert.throws(() => render('{{ .Values.a }}'), /printing a map/)
    assert.throws(() => render('{{ if .Values.a }}x'), /missing \{\{ end \}\}/)
  })
})
