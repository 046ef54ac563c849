/**
 * `<tidekv-inspector>`: a store's keys, live. Set `el.store = store`. It
 * shows the store's name, sync status and relay; a page of keys (from
 * `store.keys`, so a store of 100,000 keys costs one page) under a prefix,
 * each with its type, a preview and its TTL counting down; a flash on each
 * change, with where it came from (this tab, another tab, another device);
 * and, for the key picked, its whole value (a JSON tree, hex for bytes, the
 * members of a data structure). A plain value can be edited, any key
 * deleted or given a TTL; data structures are shown, not edited.
 *
 * Attributes: `key-prefix` (the filter it starts with; not `prefix`, which
 * every Element has), `page-size` (default
 * 50), `theme` ('light' | 'dark'; default: the system's).
 */
import type { ChangeOrigin, KeyType, SetOptions, Store, Value } from '@tidekv/client'
import { detail, duration, isPlain, jsonText, preview } from './describe.js'
import { el, flash, setText } from './dom.js'
import { buildView, type InspectorView } from './inspector-view.js'
import { STYLES } from './styles.js'

interface Row {
  readonly tr: HTMLTableRowElement
  readonly type: HTMLElement
  readonly value: HTMLElement
  readonly ttl: HTMLElement
  readonly origin: HTMLElement
}

const ORIGIN_LABEL: Record<ChangeOrigin, string> = { local: 'this tab', tab: 'another tab', remote: 'another device' }

/** HTMLElement, or a stand-in where there is none (a server render imports this module and must not throw). */
const ElementBase: typeof HTMLElement = typeof HTMLElement === 'undefined' ? (class {} as typeof HTMLElement) : HTMLElement // reason: never constructed without a DOM (no customElements there to define it)

export class TideKVInspector extends ElementBase {
  #store: Store | null = null
  #stops: (() => void)[] = []
  #timer: ReturnType<typeof setInterval> | null = null
  #scheduled = false
  /** Where each page starts (the key before it; undefined: the first page). */
  #pages: (string | undefined)[] = [undefined]
  readonly #rows = new Map<string, Row>()
  readonly #changed = new Map<string, ChangeOrigin>()
  #selected: string | null = null
  /** The watch of the picked key when the prefix leaves it out. */
  #selectedStop: (() => void) | null = null
  /** Where the focus goes after a delete took its row: that row's place in the list. */
  #refocus: number | null = null
  readonly #ui: InspectorView

  constructor() {
    super()
    const root = this.attachShadow({ mode: 'open' })
    this.#ui = buildView()
    root.append(el('style', { text: STYLES }), this.#ui.section)
    const ui = this.#ui
    ui.prefix.addEventListener('input', () => {
      this.#pages = [undefined]
      this.#restart()
    })
    ui.next.addEventListener('click', () => this.#turn(1))
    ui.prev.addEventListener('click', () => this.#turn(-1))
    ui.add.addEventListener('click', () => this.#select(null, true))
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault()
      this.#save()
    })
    ui.ttlForm.addEventListener('submit', (event) => {
      event.preventDefault()
      this.#setTtl()
    })
    ui.remove.addEventListener('click', () => this.#delete(this.#selected))
    ui.tbody.addEventListener('keydown', (event) => this.#arrows(event))
  }

  static get observedAttributes(): string[] {
    return ['key-prefix', 'page-size']
  }

  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === 'key-prefix') this.#ui.prefix.value = value ?? ''
    this.#pages = [undefined]
    this.#restart()
  }

  /** The store it shows (null: none). */
  get store(): Store | null {
    return this.#store
  }

  set store(store: Store | null) {
    this.#stop()
    this.#store = store
    this.#pages = [undefined]
    this.#selected = null
    this.#ui.detail.hidden = true // the old store's key, value and forms must not act on the new one
    this.#ui.error.hidden = true
    this.#restart()
  }

  connectedCallback(): void {
    // A `store` set on the element before <tidekv-inspector> was defined is an own property that hides the setter.
    if (Object.hasOwn(this, 'store')) {
      const { store } = this
      Reflect.deleteProperty(this, 'store')
      this.store = store
    }
    this.#restart()
  }

  disconnectedCallback(): void {
    this.#stop()
  }

  get #pageSize(): number {
    const n = Number(this.getAttribute('page-size') ?? 50)
    return Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : 50
  }

  #stop(): void {
    for (const stop of this.#stops.splice(0)) stop()
    this.#selectedStop?.()
    this.#selectedStop = null
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** Watches the picked key too when the prefix leaves it out (its pane must stay current). */
  #watchSelected(): void {
    this.#selectedStop?.()
    this.#selectedStop = null
    const store = this.#store
    const key = this.#selected
    if (store === null || key === null || !this.isConnected || key.startsWith(this.#ui.prefix.value)) return
    this.#selectedStop = store.watch(key, ({ origin }) => {
      this.#changed.set(key, origin)
      this.#schedule()
    })
  }

  /** Runs `draw`; a failure is shown, not thrown (it would escape a timer or a listener). */
  #guarded(draw: () => void): void {
    try {
      draw()
    } catch (error) {
      this.#failed(error)
    }
  }

  /** A failure while drawing: a store closed under the inspector stops it (no timer left throwing every second). */
  #failed(error: unknown): void {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'CLOSED') this.#stop()
    this.#fail(error)
  }

  /** (Re)subscribes to the store for the current prefix, and draws everything. */
  #restart(): void {
    this.#stop()
    const store = this.#store
    if (store === null || !this.isConnected) return this.#render()
    try {
      this.#stops.push(
        store.watch({ prefix: this.#ui.prefix.value }, ({ key, origin }) => {
          this.#changed.set(key, origin)
          this.#schedule()
        }),
        store.on('status', () => this.#header()),
        store.on('relay', () => this.#header()),
      )
      this.#watchSelected()
    } catch (error) {
      return this.#failed(error)
    }
    this.#timer = setInterval(() => this.#ttls(), 1000)
    this.#render()
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // A timer, not requestAnimationFrame: a background tab stays current too.
    setTimeout(() => {
      this.#scheduled = false
      this.#render()
    }, 0)
  }

  #turn(by: 1 | -1): void {
    if (by === 1) this.#pages.push(this.#ui.tbody.lastElementChild?.getAttribute('data-key') ?? undefined)
    else if (this.#pages.length > 1) this.#pages.pop()
    this.#render()
  }

  #header(): void {
    const { name, status, relay } = this.#ui
    const store = this.#store
    setText(name, store?.name ?? 'no store')
    setText(status, store === null ? '' : store.status)
    status.dataset.status = store?.status ?? ''
    setText(relay, store?.relay ?? (store?.status === 'local' ? 'no relay' : 'not connected'))
  }

  #render(): void {
    this.#guarded(() => this.#draw())
  }

  #draw(): void {
    this.#header()
    const store = this.#store
    const ui = this.#ui
    if (store === null) {
      ui.tbody.replaceChildren()
      ui.detail.hidden = true
      return
    }
    const size = this.#pageSize
    const keys = store.keys({ prefix: ui.prefix.value, after: this.#pages.at(-1), limit: size + 1 })
    ui.next.disabled = keys.length <= size
    ui.prev.disabled = this.#pages.length === 1
    if (keys.length > size) keys.pop()
    const first = (this.#pages.length - 1) * size
    const none = this.#pages.length > 1 ? 'no more keys' : ui.prefix.value === '' ? 'no keys' : `no keys under "${ui.prefix.value}"`
    setText(ui.range, keys.length === 0 ? none : `keys ${first + 1}–${first + keys.length}`)
    const order: HTMLTableRowElement[] = []
    for (const key of keys) {
      const row = this.#rows.get(key) ?? this.#row(key)
      this.#rows.set(key, row)
      const type = store.type(key)
      row.tr.dataset.type = type
      setText(row.type, type)
      setText(row.value, preview(store, key, type))
      this.#mark(row, key === this.#selected)
      order.push(row.tr)
    }
    for (const key of [...this.#rows.keys()]) if (!keys.includes(key)) this.#rows.delete(key)
    // Only a change of membership or order touches the table (it would drop the focus).
    if (order.length !== ui.tbody.children.length || order.some((tr, i) => ui.tbody.children[i] !== tr)) ui.tbody.replaceChildren(...order)
    if (this.#refocus !== null) {
      // The row that had the focus went: the next one (or the one before, or New key) takes it.
      const at = Math.min(this.#refocus, order.length - 1)
      ;(at >= 0 ? order[at]!.querySelector<HTMLButtonElement>('button.key')! : ui.add).focus()
      this.#refocus = null
    }
    for (const [key, origin] of this.#changed) {
      const row = this.#rows.get(key)
      if (row === undefined) continue
      row.tr.dataset.origin = origin
      setText(row.origin, origin === 'local' ? '' : ORIGIN_LABEL[origin])
      flash(row.tr, `flash-${origin}`)
    }
    const selectedChanged = this.#selected !== null && this.#changed.has(this.#selected)
    this.#changed.clear()
    this.#ttls()
    if (selectedChanged) this.#showDetail(false)
  }

  #row(key: string): Row {
    const type = el('span', { class: 'type', testid: 'inspector-row-type' })
    const value = el('code', { testid: 'inspector-row-value' })
    const ttl = el('td', { testid: 'inspector-row-ttl' })
    const origin = el('span', { class: 'origin', testid: 'inspector-row-origin' })
    const open = el(
      'button',
      { class: 'key', testid: 'inspector-row-key', attrs: { type: 'button', 'aria-label': `Show ${key}` }, on: { click: () => this.#select(key) } },
      el('code', { text: key }),
    )
    const del = el('button', {
      class: 'danger',
      text: 'Delete',
      testid: 'inspector-row-delete',
      attrs: { type: 'button', 'aria-label': `Delete ${key}` },
      on: { click: () => this.#delete(key) },
    })
    const tr = el('tr', { testid: 'inspector-row', attrs: { 'data-key': key } }, el('td', {}, open, origin), el('td', {}, type), el('td', {}, value), ttl, el('td', {}, del))
    return { tr, type, value, ttl, origin }
  }

  #ttls(): void {
    this.#guarded(() => this.#drawTtls())
  }

  #drawTtls(): void {
    const store = this.#store
    if (store === null) return
    for (const [key, row] of this.#rows) {
      const ttl = store.ttl(key)
      row.ttl.dataset.ttl = String(ttl)
      setText(row.ttl, ttl >= 0 ? duration(ttl) : ttl === -1 ? '—' : 'expired')
    }
    if (this.#selected !== null) {
      const ttl = store.ttl(this.#selected)
      setText(this.#ui.detailTtl, ttl >= 0 ? `expires in ${duration(ttl)}` : ttl === -1 ? 'no expiry' : 'gone')
    }
  }

  /** Marks the picked row: a class to see, `aria-current` on its key button to hear. */
  #mark(row: Row, picked: boolean): void {
    row.tr.classList.toggle('picked', picked)
    const button = row.tr.querySelector('button.key')
    if (picked) button?.setAttribute('aria-current', 'true')
    else button?.removeAttribute('aria-current')
  }

  /** Picks `key` for the detail pane (null with `fresh`: a new key's form). */
  #select(key: string | null, fresh = false): void {
    this.#selected = key
    for (const [k, row] of this.#rows) this.#mark(row, k === key)
    this.#guarded(() => {
      this.#watchSelected()
      this.#showDetail(true, fresh)
    })
  }

  /** Draws the detail pane; `fill` also resets the forms to the key's value (not while someone types). */
  #showDetail(fill: boolean, fresh = false): void {
    const ui = this.#ui
    const store = this.#store
    const key = this.#selected
    ui.detail.hidden = store === null || (key === null && !fresh)
    if (fill) ui.error.hidden = true // a redraw for a change elsewhere keeps an error being read
    if (store === null || ui.detail.hidden) return
    const type: KeyType = key === null ? 'none' : store.type(key)
    setText(ui.detailTitle, key ?? 'New key')
    setText(ui.detailType, key === null ? '' : type)
    ui.detailValue.replaceChildren(key === null || type === 'none' ? '' : detail(store, key, type))
    ui.ttlForm.hidden = key === null || type === 'none'
    ui.remove.hidden = key === null
    ui.form.hidden = !isPlain(type)
    ui.structureNote.hidden = isPlain(type)
    ui.keyInput.readOnly = key !== null
    if (fill) {
      ui.keyInput.value = key ?? ''
      const value = key === null || !isPlain(type) ? undefined : store.get(key)
      const bytes = value instanceof Uint8Array
      ui.valueInput.value = key === null ? '' : bytes ? '' : jsonText(value, 2)
      ui.valueInput.disabled = bytes
      ui.valueInput.placeholder = bytes ? 'bytes: shown above, set them from code' : '{"any": "JSON"}'
      const ttl = key === null ? -1 : store.ttl(key)
      ui.ttlInput.value = ttl > 0 ? String(Math.ceil(ttl / 1000)) : ''
      ui.expireInput.value = ''
      ;(key === null ? ui.keyInput : ui.valueInput).focus()
    }
    this.#ttls()
  }

  #save(): void {
    const store = this.#store
    const ui = this.#ui
    if (store === null) return
    const key = ui.keyInput.value
    let value: Value
    try {
      value = JSON.parse(ui.valueInput.value) as Value // reason: JSON is a Value (store.set still refuses what it cannot store, shown like any error)
    } catch (error) {
      return this.#fail(error, 'The value is not JSON')
    }
    const seconds = ui.ttlInput.value.trim()
    const options: SetOptions | undefined = seconds === '' ? undefined : { ttl: Number(seconds) * 1000 }
    try {
      store.set(key, value, options)
    } catch (error) {
      return this.#fail(error)
    }
    this.#select(key)
  }

  #setTtl(): void {
    const store = this.#store
    const key = this.#selected
    if (store === null || key === null) return
    const seconds = this.#ui.expireInput.value.trim()
    try {
      if (seconds === '') store.persist(key)
      else store.expire(key, Number(seconds) * 1000)
    } catch (error) {
      return this.#fail(error)
    }
    this.#showDetail(false)
  }

  #delete(key: string | null): void {
    if (this.#store === null || key === null) return
    const row = this.#rows.get(key)
    if (row !== undefined && row.tr.contains(this.shadowRoot?.activeElement ?? null)) this.#refocus = Array.from(this.#ui.tbody.children).indexOf(row.tr)
    try {
      this.#store.delete(key)
    } catch (error) {
      return this.#fail(error)
    }
    if (key === this.#selected) this.#select(null)
  }

  #fail(error: unknown, prefix?: string): void {
    const { error: box, errorCode, errorMessage, detail } = this.#ui
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
    detail.hidden = false
    box.hidden = false
    setText(errorCode, code)
    setText(errorMessage, `${prefix === undefined ? '' : `${prefix}: `}${error instanceof Error ? error.message : String(error)}`)
  }

  /** Up and down move between the rows' key buttons. */
  #arrows(event: KeyboardEvent): void {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return
    const buttons = Array.from(this.#ui.tbody.querySelectorAll<HTMLButtonElement>('button.key'))
    const at = buttons.indexOf(this.shadowRoot?.activeElement as HTMLButtonElement) // reason: only a key button's index matters; anything else is -1
    if (at < 0) return
    event.preventDefault()
    buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))]?.focus()
  }
}
