/**
 * Create or edit a connector from its plugin's ConfigDef. The plugin's own keys come from
 * `GET /connector-plugins/{class}/config`, grouped by their group; the framework's keys (tasks.max,
 * converters, transforms, errors.*, topic creation) from the definitions `PUT
 * /connector-plugins/{class}/config/validate` returns, folded away unless set or in error. Every
 * change is validated live (debounced) by that endpoint and its errors are shown at the field; a
 * pasted JSON body or `.properties` file fills the same form.
 */
import { ApiError, api, type ConfigInfos, type ConfigKeyInfo, type Plugin } from './api.ts'
import { connectorHash, errorBlock, h, navigate, notify, replace, setText } from './dom.ts'
import { parsePastedConfig } from './mask.ts'

const VALIDATE_DELAY_MS = 350
const FIXED_KEYS = new Set(['name', 'connector.class'])

interface Field {
  key: string
  definition: ConfigKeyInfo
  input: HTMLInputElement | HTMLSelectElement
  errors: HTMLElement
  wrapper: HTMLElement
  list?: HTMLDataListElement
  touched: boolean
}

function fieldId(key: string): string {
  return `field-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`
}

function simpleName(className: string): string {
  return className.slice(className.lastIndexOf('.') + 1)
}

export function renderForm(main: HTMLElement, options: { edit?: string }): () => void {
  let closed = false
  const editing = options.edit
  const heading = h('h1', null, editing ? `Edit ${editing}` : 'New connector')
  const error = h('div', { class: 'error-slot' })
  const body = h('div', { class: 'form-body' })
  replace(
    main,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'Connectors'),
      ' / ',
      editing ? [h('a', { href: connectorHash(editing) }, editing), ' / edit'] : 'new',
    ),
    heading,
    error,
    body,
  )

  const start = async () => {
    if (editing) {
      const info = await api.info(editing)
      const className = info.config['connector.class'] ?? ''
      await renderFields(body, error, {
        name: editing,
        className,
        values: { ...info.config },
        editing: true,
        isClosed: () => closed,
      })
      return
    }
    const plugins = (await api.plugins()).sort((a, b) =>
      simpleName(a.class).localeCompare(simpleName(b.class)),
    )
    pickPlugin(body, error, plugins, () => closed)
  }
  start().catch((caught: unknown) => replace(error, errorBlock(caught)))
  return () => {
    closed = true
  }
}

function pickPlugin(body: HTMLElement, error: HTMLElement, plugins: Plugin[], isClosed: () => boolean): void {
  const select = h(
    'select',
    { id: 'plugin', required: true },
    h('option', { value: '' }, 'Choose a connector plugin…'),
    (['source', 'sink'] as const).map((type) =>
      h(
        'optgroup',
        { label: type === 'source' ? 'Sources' : 'Sinks' },
        plugins
          .filter((p) => p.type === type)
          .map((p) => h('option', { value: p.class }, `${simpleName(p.class)} (${p.version})`)),
      ),
    ),
  )
  const fields = h('div', { class: 'plugin-fields' })
  select.addEventListener('change', () => {
    replace(error)
    if (!select.value) {
      replace(fields)
      return
    }
    renderFields(fields, error, {
      name: '',
      className: select.value,
      values: {},
      editing: false,
      isClosed,
    }).catch((caught: unknown) => replace(error, errorBlock(caught)))
  })
  replace(
    body,
    h(
      'div',
      { class: 'field plugin-picker' },
      h('label', { for: 'plugin' }, 'Connector plugin'),
      select,
      h(
        'small',
        { class: 'doc' },
        'The class of connector to run: a source reads a system into topics, a sink writes topics into a system.',
      ),
    ),
    fields,
  )
  select.focus()
}

async function renderFields(
  container: HTMLElement,
  error: HTMLElement,
  setup: {
    name: string
    className: string
    values: Record<string, string>
    editing: boolean
    isClosed: () => boolean
  },
): Promise<void> {
  const { className, editing } = setup
  const values: Record<string, string> = { ...setup.values }
  delete values.name
  values['connector.class'] = className
  const [pluginKeys, initial] = await Promise.all([
    api.pluginConfig(className),
    api.validate(className, { ...values, name: setup.name || 'new-connector' }),
  ])
  if (setup.isClosed()) return
  const pluginKeyNames = new Set(pluginKeys.map((k) => k.name))
  const fields = new Map<string, Field>()
  const groups = new Map<string, { element: HTMLElement; list: HTMLElement; framework: boolean }>()
  const formErrors = h('div', { class: 'error-slot', id: 'form-errors' })
  const summary = h(
    'p',
    { class: 'validation-summary', 'aria-live': 'polite', id: 'validation-summary' },
    ' ',
  )
  let submitAttempted = false

  const nameInput = h('input', {
    id: 'connector-name',
    name: 'name',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    value: setup.name,
    readonly: editing,
  })
  const nameErrors = h('ul', { class: 'field-errors', id: 'connector-name-errors' })

  const groupsBox = h('div', { class: 'groups' })
  const groupFor = (definition: ConfigKeyInfo) => {
    const framework = !pluginKeyNames.has(definition.name)
    const label = framework
      ? (definition.group ?? 'Other')
      : (definition.group ?? `${simpleName(className)} settings`)
    const id = `${framework ? 'framework' : 'plugin'}:${label}`
    let group = groups.get(id)
    if (!group) {
      const list = h('div', { class: 'group-fields' })
      const element = framework
        ? h(
            'details',
            { class: 'group framework', 'data-group': label },
            h('summary', null, h('h2', null, label)),
            list,
          )
        : h(
            'fieldset',
            { class: 'group', 'data-group': label },
            h('legend', null, h('h2', null, label)),
            list,
          )
      group = { element, list, framework }
      groups.set(id, group)
      groupsBox.append(element)
    }
    return group
  }

  const addField = (definition: ConfigKeyInfo, recommended: string[]) => {
    if (fields.has(definition.name) || FIXED_KEYS.has(definition.name)) return
    const id = fieldId(definition.name)
    const defaultText =
      definition.default_value === null || definition.default_value === '' ? null : definition.default_value
    let input: HTMLInputElement | HTMLSelectElement
    let list: HTMLDataListElement | undefined
    if (definition.type === 'BOOLEAN') {
      input = h(
        'select',
        { id, name: definition.name },
        h('option', { value: '' }, defaultText === null ? '(not set)' : `default (${defaultText})`),
        h('option', { value: 'true' }, 'true'),
        h('option', { value: 'false' }, 'false'),
      )
    } else {
      input = h('input', {
        id,
        name: definition.name,
        type: definition.type === 'PASSWORD' ? 'password' : 'text',
        autocomplete: definition.type === 'PASSWORD' ? 'new-password' : 'off',
        spellcheck: 'false',
        inputmode: ['INT', 'LONG', 'SHORT'].includes(definition.type)
          ? 'numeric'
          : ['DOUBLE'].includes(definition.type)
            ? 'decimal'
            : null,
        placeholder: defaultText ?? (definition.required ? 'required' : ''),
        list: `${id}-list`,
      })
      list = h('datalist', { id: `${id}-list` })
    }
    input.value = values[definition.name] ?? ''
    input.setAttribute('aria-describedby', `${id}-doc ${id}-errors`)
    if (definition.required) input.setAttribute('aria-required', 'true')
    const errors = h('ul', { class: 'field-errors', id: `${id}-errors` })
    const label =
      definition.display_name && definition.display_name !== definition.name
        ? definition.display_name
        : definition.name
    const wrapper = h(
      'div',
      { class: 'field', 'data-key': definition.name },
      h(
        'label',
        { for: id },
        label,
        definition.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null,
        label !== definition.name ? h('code', { class: 'key' }, definition.name) : null,
        h('span', { class: 'type' }, definition.type.toLowerCase()),
      ),
      input,
      list ?? null,
      h(
        'small',
        { class: 'doc', id: `${id}-doc` },
        definition.documentation,
        defaultText !== null ? h('span', { class: 'default' }, ` Default: ${defaultText}.`) : null,
        definition.type === 'LIST' ? ' Comma-separated.' : null,
      ),
      errors,
    )
    const field: Field = { key: definition.name, definition, input, errors, wrapper, list, touched: false }
    fields.set(definition.name, field)
    setRecommended(field, recommended)
    input.addEventListener('input', () => {
      field.touched = true
      if (input.value === '') delete values[definition.name]
      else values[definition.name] = input.value
      schedule()
    })
    input.addEventListener('change', () => {
      field.touched = true
      schedule()
    })
    groupFor(definition).list.append(wrapper)
  }

  const setRecommended = (field: Field, recommended: string[]) => {
    if (field.list) {
      const current = [...field.list.options].map((o) => o.value).join('\n')
      if (current !== recommended.join('\n'))
        replace(
          field.list,
          recommended.map((value) => h('option', { value })),
        )
    }
  }

  /** Unfolds the framework groups that hold a set key, so nothing set is out of sight. */
  const openGroupsWithValues = () => {
    for (const field of fields.values()) {
      const details = field.key in values ? field.wrapper.closest('details') : null
      if (details) details.open = true
    }
  }

  const sortedPlugin = [...pluginKeys].sort(
    (a, b) => (a.group ?? '').localeCompare(b.group ?? '') || a.order - b.order,
  )
  const recommendedOf = (infos: ConfigInfos, key: string) =>
    infos.configs.find((c) => c.definition.name === key)?.value.recommended_values ?? []
  for (const definition of sortedPlugin) addField(definition, recommendedOf(initial, definition.name))
  for (const { definition, value } of initial.configs) addField(definition, value.recommended_values)

  let sequence = 0
  let timer: number | undefined
  let lastResult: ConfigInfos = initial
  const config = (): Record<string, string> => ({
    ...values,
    'connector.class': className,
    name: nameInput.value.trim(),
  })

  const show = (infos: ConfigInfos) => {
    lastResult = infos
    const orphans: string[] = []
    let count = 0
    for (const { definition, value } of infos.configs) {
      if (definition.name === 'name') {
        const showName = submitAttempted || nameInput.value !== '' || editing
        replace(nameErrors, showName ? value.errors.map((e) => h('li', null, e)) : [])
        nameInput.setAttribute('aria-invalid', String(showName && value.errors.length > 0))
        count += showName ? value.errors.length : 0
        continue
      }
      if (!fields.has(definition.name) && !FIXED_KEYS.has(definition.name))
        addField(definition, value.recommended_values)
      const field = fields.get(definition.name)
      if (!field) {
        for (const e of value.errors) orphans.push(`${definition.name}: ${e}`)
        count += value.errors.length
        continue
      }
      setRecommended(field, value.recommended_values)
      field.wrapper.hidden = value.visible === false && !(definition.name in values)
      const visibleErrors = field.touched || submitAttempted || definition.name in values ? value.errors : []
      count += visibleErrors.length
      replace(
        field.errors,
        visibleErrors.map((e) => h('li', null, e)),
      )
      field.input.setAttribute('aria-invalid', String(visibleErrors.length > 0))
      field.wrapper.classList.toggle('invalid', visibleErrors.length > 0)
      if (visibleErrors.length > 0) {
        const details = field.wrapper.closest('details')
        if (details) details.open = true
      }
    }
    replace(
      formErrors,
      orphans.length
        ? h(
            'div',
            { class: 'alert', role: 'alert' },
            h('strong', null, 'Other problems'),
            h(
              'ul',
              null,
              orphans.map((o) => h('li', null, o)),
            ),
          )
        : null,
    )
    setText(summary, count === 0 ? 'No problems found.' : `${count} problem${count === 1 ? '' : 's'} to fix.`)
    summary.classList.toggle('has-errors', count > 0)
    return count
  }

  const validateNow = async (): Promise<number> => {
    const mine = ++sequence
    const infos = await api.validate(className, { ...config(), name: config().name || 'new-connector' })
    if (mine !== sequence || setup.isClosed()) return -1
    return show(infos)
  }
  const schedule = () => {
    if (timer !== undefined) window.clearTimeout(timer)
    timer = window.setTimeout(() => {
      timer = undefined
      validateNow().catch((caught: unknown) => replace(formErrors, errorBlock(caught)))
    }, VALIDATE_DELAY_MS)
  }
  nameInput.addEventListener('input', schedule)

  // Paste JSON or .properties.
  const pasteArea = h('textarea', {
    id: 'paste-config',
    rows: 12,
    spellcheck: 'false',
    'aria-describedby': 'paste-doc',
  })
  const pasteErrors = h('div', { class: 'error-slot' })
  const applyPaste = h('button', { type: 'button', id: 'paste-apply' }, 'Fill the form')
  const pasteSummary = h('summary', null, 'Paste JSON or .properties instead')
  const pasteBox = h(
    'details',
    { class: 'paste', id: 'paste' },
    pasteSummary,
    h('label', { for: 'paste-config' }, 'Config'),
    h(
      'small',
      { class: 'doc', id: 'paste-doc' },
      'Connect’s create body {"name": …, "config": {…}}, a JSON object of keys, or key=value lines. It replaces what the form holds.',
    ),
    pasteArea,
    pasteErrors,
    h('div', { class: 'actions' }, applyPaste),
  )
  // On the summary's click (mouse or keyboard), not on `toggle`: that event comes a task later, and
  // text typed or pasted in between would be overwritten.
  pasteSummary.addEventListener('click', () => {
    if (!pasteBox.open && pasteArea.value === '')
      pasteArea.value = JSON.stringify({ name: nameInput.value, config: config() }, null, 2)
  })
  applyPaste.addEventListener('click', () => {
    replace(pasteErrors)
    let parsed: ReturnType<typeof parsePastedConfig>
    try {
      parsed = parsePastedConfig(pasteArea.value)
    } catch (caught) {
      replace(pasteErrors, errorBlock(caught))
      return
    }
    const pastedClass = parsed.config['connector.class']
    if (
      pastedClass &&
      simpleName(pastedClass).replace(/Connector$/, '') !== simpleName(className).replace(/Connector$/, '')
    ) {
      replace(
        pasteErrors,
        errorBlock(
          new Error(
            `The pasted config is for ${pastedClass}, this form for ${className}: choose that plugin first`,
          ),
        ),
      )
      return
    }
    for (const key of Object.keys(values)) delete values[key]
    for (const [key, value] of Object.entries(parsed.config)) if (!FIXED_KEYS.has(key)) values[key] = value
    if (!editing && parsed.name) nameInput.value = parsed.name
    for (const field of fields.values()) {
      field.input.value = values[field.key] ?? ''
      field.touched = field.key in values
    }
    for (const [key] of Object.entries(values)) {
      if (!fields.has(key))
        addField(
          {
            name: key,
            type: 'STRING',
            required: false,
            default_value: null,
            importance: 'LOW',
            documentation: 'A key the plugin does not declare.',
            group: 'Other',
            width: 'NONE',
            display_name: key,
            dependents: [],
            order: 0,
          },
          [],
        )
      fields.get(key)!.input.value = values[key]!
    }
    pasteBox.open = false
    openGroupsWithValues()
    notify('Form filled from the pasted config')
    schedule()
  })

  const submit = h(
    'button',
    { type: 'submit', class: 'primary', id: 'submit' },
    editing ? 'Save config' : 'Create connector',
  )
  const form = h(
    'form',
    { class: 'connector-form', novalidate: true },
    h('p', { class: 'muted' }, h('code', null, className)),
    h(
      'div',
      { class: 'field', 'data-key': 'name' },
      h(
        'label',
        { for: 'connector-name' },
        'Name',
        h('span', { class: 'required', 'aria-hidden': 'true' }, ' *'),
      ),
      nameInput,
      h(
        'small',
        { class: 'doc' },
        editing
          ? 'A connector’s name cannot change.'
          : 'Unique within the cluster; it names the connector in URLs, offsets and status.',
      ),
      nameErrors,
    ),
    pasteBox,
    groupsBox,
    formErrors,
    h(
      'div',
      { class: 'form-footer' },
      summary,
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button', href: editing ? connectorHash(setup.name) : '#/' }, 'Cancel'),
        submit,
      ),
    ),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    submitAttempted = true
    submit.disabled = true
    replace(error)
    try {
      if (timer !== undefined) window.clearTimeout(timer)
      const problems = await validateNow()
      if (problems > 0) {
        const first = form.querySelector<HTMLElement>('[aria-invalid="true"]')
        first?.focus()
        return
      }
      const { name, ...rest } = config()
      if (editing) await api.update(setup.name, { ...rest, name: setup.name })
      else await api.create(name, rest)
      notify(editing ? `${setup.name}: config saved` : `${name} created`)
      navigate(connectorHash(editing ? setup.name : name))
    } catch (caught) {
      replace(error, errorBlock(caught))
      if (caught instanceof ApiError) error.scrollIntoView({ block: 'nearest' })
    } finally {
      submit.disabled = false
    }
  })
  replace(container, form)
  openGroupsWithValues()
  show(lastResult)
  if (!editing) nameInput.focus()
}
