/**
 * The key browser: every key under a prefix with its value and TTL, live
 * (`watch({ prefix: '' })` sees writes from this tab, other tabs and other
 * devices, and expiries), and a form that adds or edits any key. Values are
 * JSON text; what the store refuses comes back as the TideKVError's code
 * and message. A key holding a data structure (the leaderboard's sorted set,
 * the activity stream) shows its type and size; it can be deleted here, and
 * edited through its panel or the console.
 */
import type { ChangeOrigin, KeyType, SetOptions, Store, Value } from '@tidekv/client'
import { ACTIVITY_KEY } from './activity.js'
import type { Demo } from './demo.js'
import { byTestId, flash, h, setText } from './dom.js'
import { describeError, formatDuration, formatValue, holdsBytes } from './format.js'
import type { MessageKey } from './i18n.js'

const PAGE = 100
const MAX_SHOWN_CHARS = 160
const EDIT_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20h4L19 9l-4-4L4 16z" /><path d="M13.5 6.5l4 4" /></svg>'
const DELETE_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 7h16M10 11v6M14 11v6M6 7l1 12a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1l1-12M9 7V4h6v3" /></svg>'

interface Row {
  tr: HTMLTableRowElement
  value: HTMLElement
  ttl: HTMLElement
  origin: HTMLElement
  edit: HTMLButtonElement
  shown: string
}

export function mountKeyBrowser(demo: Demo): void {
  const { store, i18n, ticker } = demo
  const prefixInput = byTestId<HTMLInputElement>('kb-prefix')
  const count = byTestId('kb-count')
  const tbody = byTestId('kb-rows')
  const empty = byTestId('kb-empty')
  const more = byTestId<HTMLButtonElement>('kb-more')
  const form = byTestId<HTMLFormElement>('kb-form')
  const formTitle = byTestId('kb-form-title')
  const keyInput = byTestId<HTMLInputElement>('kb-key')
  const valueInput = byTestId<HTMLTextAreaElement>('kb-value')
  const ttlInput = byTestId<HTMLInputElement>('kb-ttl')
  const errorBox = byTestId('kb-error')
  const errorCode = byTestId('kb-error-code')
  const errorMessage = byTestId('kb-error-message')
  const statusBox = byTestId('kb-status')
  const newKey = byTestId<HTMLButtonElement>('kb-new')

  const rows = new Map<string, Row>()
  const changed = new Map<string, ChangeOrigin>()
  let limit = PAGE
  let editing: string | null = null
  let scheduled = false

  // ---- the list -------------------------------------------------------------

  const render = (): void => {
    scheduled = false
    const prefix = prefixInput.value
    const keys = store.keys({ prefix, limit: limit + 1 })
    more.hidden = keys.length <= limit
    if (keys.length > limit) keys.pop()
    const total = store.keys({ prefix }).length
    count.dataset.count = String(total)
    setText(count, i18n.plural('kb.count', total))
    empty.hidden = keys.length > 0
    setText(empty, prefix === '' ? i18n.t('kb.empty') : i18n.t('kb.emptyPrefix', { prefix }))

    const seen = new Set<string>()
    const order: HTMLTableRowElement[] = []
    for (const key of keys) {
      seen.add(key)
      const row = rows.get(key) ?? createRow(key)
      rows.set(key, row)
      const type = store.type(key)
      const structure = !isPlain(type)
      row.tr.dataset.type = type
      row.edit.disabled = structure
      const shown = structure ? i18n.t('kb.structure', { type, n: structureSize(store, key, type) }) : formatValue(store.get(key) ?? null)
      if (row.shown !== shown) {
        row.shown = shown
        setText(row.value, shown.length > MAX_SHOWN_CHARS ? `${shown.slice(0, MAX_SHOWN_CHARS)}…` : shown)
        row.value.title = shown.length > MAX_SHOWN_CHARS ? shown.slice(0, 2000) : ''
      }
      order.push(row.tr)
    }
    for (const key of rows.keys()) if (!seen.has(key)) rows.delete(key)
    // Only a change of membership or order touches the table's structure (it would drop the focus).
    if (order.length !== tbody.children.length || order.some((tr, i) => tbody.children[i] !== tr)) tbody.replaceChildren(...order)
    renderTtls()
    for (const [key, origin] of changed) {
      const row = rows.get(key)
      if (row === undefined) continue
      row.tr.dataset.origin = origin
      setText(row.origin, origin === 'local' ? '' : i18n.t(origin === 'tab' ? 'origin.tab' : 'origin.remote'))
      flash(row.tr, origin === 'local' ? 'flash-local' : 'flash-remote')
    }
    changed.clear()
  }

  const renderTtls = (): void => {
    for (const [key, row] of rows) {
      const ttl = store.ttl(key)
      row.ttl.dataset.ttl = String(ttl)
      setText(row.ttl, ttl === -1 ? i18n.t('kb.noExpiry') : ttl === -2 ? i18n.t('kb.expired') : formatDuration(ttl))
      row.ttl.classList.toggle('soon', ttl >= 0 && ttl < 5000)
    }
  }

  const createRow = (key: string): Row => {
    const value = h('code', { class: 'kb-value' })
    const ttl = h('td', { class: 'kb-ttl', testid: 'kb-row-ttl' })
    const origin = h('span', { class: 'origin-badge', testid: 'kb-row-origin' })
    const edit = iconButton('kb-edit', 'kb.edit', EDIT_ICON, 'btn icon ghost', () => startEditing(key))
    const remove = iconButton('kb-delete', 'kb.delete', DELETE_ICON, 'btn icon danger-ghost', () => removeKey(key))
    const tr = h(
      'tr',
      { testid: 'kb-row', attrs: { 'data-key': key } },
      h('td', { class: 'kb-key' }, h('code', { testid: 'kb-row-key', text: key }), origin),
      h('td', { testid: 'kb-row-value' }, value),
      ttl,
      h('td', { class: 'kb-actions' }, edit, remove),
    )
    return { tr, value, ttl, origin, edit, shown: '' }
  }

  /** A button showing an icon, named (title, aria-label) in the page's language. */
  const iconButton = (testid: string, label: MessageKey, icon: string, className: string, onClick: () => void): HTMLButtonElement => {
    const button = h('button', { class: className, testid, title: i18n.t(label), attrs: { type: 'button', 'aria-label': i18n.t(label) }, on: { click: onClick } })
    button.dataset.i18nTitle = label
    button.dataset.i18nAriaLabel = label
    button.innerHTML = icon // reason: a constant SVG from this file, never data from the store
    return button
  }

  const schedule = (): void => {
    if (scheduled) return
    scheduled = true
    // A timer, not requestAnimationFrame: a background tab must stay current too.
    setTimeout(render, 0)
  }

  // ---- the form ---------------------------------------------------------------

  const showError = (code: string | null, message: string): void => {
    errorBox.hidden = false
    errorCode.hidden = code === null
    setText(errorCode, code ?? '')
    setText(errorMessage, message)
    statusBox.hidden = true
  }

  const showStatus = (message: string): void => {
    errorBox.hidden = true
    statusBox.hidden = false
    setText(statusBox, message)
    flash(statusBox, 'pop')
  }

  const setTitle = (): void => setText(formTitle, editing === null ? i18n.t('kb.add') : i18n.t('kb.editing', { key: editing }))

  const startEditing = (key: string): void => {
    let value: Value | undefined
    try {
      value = store.get(key)
    } catch (error) {
      // WRONG_TYPE: the key became a data structure since its row was drawn.
      const { code, message } = describeError(error)
      showError(code, message)
      return
    }
    editing = key
    keyInput.value = key
    const ttl = store.ttl(key)
    ttlInput.value = ttl > 0 ? String(Math.ceil(ttl / 1000)) : ''
    errorBox.hidden = true
    statusBox.hidden = true
    if (value !== undefined && holdsBytes(value)) {
      valueInput.value = ''
      showError(null, i18n.t('kb.bytes'))
    } else {
      valueInput.value = JSON.stringify(value ?? null, null, 2)
    }
    setTitle()
    valueInput.focus()
  }

  const resetForm = (): void => {
    editing = null
    form.reset()
    errorBox.hidden = true
    statusBox.hidden = true
    setTitle()
    keyInput.focus()
  }

  const removeKey = (key: string): void => {
    try {
      if (store.delete(key) && key !== ACTIVITY_KEY) demo.log({ action: 'key-delete', key })
      showStatus(i18n.t('kb.deleted', { key }))
    } catch (error) {
      const { code, message } = describeError(error)
      showError(code, message)
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const key = keyInput.value
    let value: Value
    try {
      value = JSON.parse(valueInput.value) as Value // reason: JSON is a Value (store.set still refuses a lone surrogate or a __proto__ key, shown like any error)
    } catch (error) {
      showError(null, i18n.t('kb.invalidJson', { message: describeError(error).message }))
      return
    }
    let options: SetOptions | undefined
    const ttlText = ttlInput.value.trim()
    if (ttlInput.validity.badInput) {
      showError(null, i18n.t('kb.ttlNotNumber'))
      return
    }
    // Whatever number was typed goes to the store, which says what it refuses (INVALID_VALUE for ttl <= 0).
    if (ttlText !== '') options = { ttl: Number(ttlText) * 1000 }
    try {
      store.set(key, value, options)
      // Not for the feed's own key: it now holds a plain value, and appending to it would fail (WRONG_TYPE).
      if (key !== ACTIVITY_KEY) demo.log({ action: 'key-set', key })
    } catch (error) {
      const { code, message } = describeError(error)
      showError(code, message)
      return
    }
    editing = key
    setTitle()
    showStatus(i18n.t('kb.saved', { key }))
  })
  newKey.addEventListener('click', resetForm)
  prefixInput.addEventListener('input', () => {
    limit = PAGE
    render()
  })
  more.addEventListener('click', () => {
    limit += PAGE
    render()
  })
  store.watch({ prefix: '' }, ({ key, origin }) => {
    changed.set(key, origin)
    schedule()
  })
  ticker.add(renderTtls)
  i18n.onChange(() => {
    setTitle()
    statusBox.hidden = true // a message of the old language
    render()
  })
  setTitle()
  render()
}

function isPlain(type: KeyType): boolean {
  return type === 'string' || type === 'counter' || type === 'none'
}

/** Members of a data structure (fields, elements, entries). */
function structureSize(store: Store, key: string, type: KeyType): number {
  switch (type) {
    case 'hash':
      return store.hash(key).size
    case 'list':
      return store.list(key).length
    case 'set':
      return store.collection(key).size
    case 'zset':
      return store.sortedSet(key).size
    case 'stream':
      return store.stream(key).length
    default:
      return 0
  }
}
