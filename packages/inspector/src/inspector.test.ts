// @vitest-environment happy-dom
/**
 * <tidekv-inspector> on happy-dom: what it shows of a store, live; paging
 * through many keys one page at a time; editing, deleting and TTLs; errors
 * with their code. (Chromium, with the demo and an accessibility scan:
 * test/e2e/inspector.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { openStore, type Store } from '@tidekv/client'
import { TideKVInspector } from './index.js'

let n = 0
const memoryStore = () => openStore(`inspector-${n++}`, { persist: false, tabs: false })
/** Lets the inspector draw: a change reaches its watcher in a microtask, and it draws in a timer after that. */
const settle = async () => {
  await Promise.resolve()
  await new Promise((resolve) => setTimeout(resolve, 0))
  await new Promise((resolve) => setTimeout(resolve, 0))
}

afterEach(() => document.body.replaceChildren())

function mount(store: Store, attrs: Record<string, string> = {}): TideKVInspector {
  const inspector = document.createElement('tidekv-inspector')
  for (const [k, v] of Object.entries(attrs)) inspector.setAttribute(k, v)
  inspector.store = store
  document.body.append(inspector)
  return inspector
}

const q = <T extends HTMLElement = HTMLElement>(i: TideKVInspector, testid: string): T => {
  const found = i.shadowRoot?.querySelector<T>(`[data-testid="${testid}"]`)
  if (found === null || found === undefined) throw new Error(`no ${testid}`)
  return found
}
const rows = (i: TideKVInspector) => Array.from(i.shadowRoot!.querySelectorAll<HTMLElement>('[data-testid="inspector-row"]'))
const row = (i: TideKVInspector, key: string) => i.shadowRoot!.querySelector<HTMLElement>(`[data-testid="inspector-row"][data-key="${key}"]`)
const cell = (r: HTMLElement | null, testid: string) => r!.querySelector<HTMLElement>(`[data-testid="${testid}"]`)!.textContent

describe('<tidekv-inspector>', () => {
  it('shows the store, its status, and each key with its type, a preview and its TTL', async () => {
    const store = await memoryStore()
    store.set('prefs:theme', 'dark')
    store.set('session', { user: 1 }, { ttl: 90_000 })
    store.incr('visits', 3)
    store.hash('user:1').setMany({ name: 'Ada', age: 36 })
    store.set('bytes', new Uint8Array([0, 1, 255]))
    const i = mount(store)
    expect(q(i, 'inspector-name').textContent).toBe(store.name)
    expect(q(i, 'inspector-status').textContent).toBe('local')
    expect(rows(i).map((r) => r.dataset.key)).toEqual(['bytes', 'prefs:theme', 'session', 'user:1', 'visits'])
    expect(cell(row(i, 'prefs:theme'), 'inspector-row-value')).toBe('"dark"')
    expect(cell(row(i, 'user:1'), 'inspector-row-type')).toBe('hash')
    expect(cell(row(i, 'user:1'), 'inspector-row-value')).toBe('2 fields')
    expect(cell(row(i, 'visits'), 'inspector-row-type')).toBe('counter')
    expect(cell(row(i, 'session'), 'inspector-row-ttl')).toMatch(/^1m 2\ds$|^1m 30s$/)
    expect(cell(row(i, 'prefs:theme'), 'inspector-row-ttl')).toBe('—')
  })

  it('pages through 100,000 keys a page at a time, reading one page per draw', async () => {
    const store = await memoryStore()
    store.batch(() => {
      for (let k = 0; k < 100_000; k++) store.set(`k:${String(k).padStart(6, '0')}`, k)
    })
    const keys = vi.spyOn(store, 'keys')
    const i = mount(store, { 'page-size': '50' })
    expect(rows(i)).toHaveLength(50)
    expect(keys.mock.calls.every(([options]) => (options?.limit ?? Infinity) <= 51)).toBe(true)
    expect(q(i, 'inspector-range').textContent).toBe('keys 1–50')
    q(i, 'inspector-next').click()
    expect(rows(i)[0]!.dataset.key).toBe('k:000050')
    expect(q(i, 'inspector-range').textContent).toBe('keys 51–100')
    q(i, 'inspector-prev').click()
    expect(rows(i)[0]!.dataset.key).toBe('k:000000')
    const prefix = q<HTMLInputElement>(i, 'inspector-prefix')
    prefix.value = 'k:09999'
    prefix.dispatchEvent(new Event('input'))
    expect(rows(i).map((r) => r.dataset.key)).toEqual(Array.from({ length: 10 }, (_, d) => `k:09999${d}`))
    expect(keys.mock.calls.every(([options]) => (options?.limit ?? Infinity) <= 51)).toBe(true)
  })

  it('starts filtered by its key-prefix attribute (not `prefix`, which every Element has)', async () => {
    const store = await memoryStore()
    store.set('todo:1', 'a')
    store.set('other', 'b')
    const i = mount(store, { 'key-prefix': 'todo:' })
    expect(rows(i).map((r) => r.dataset.key)).toEqual(['todo:1'])
    expect(q<HTMLInputElement>(i, 'inspector-prefix').value).toBe('todo:')
  })

  it('flashes a changed row and says where the change came from', async () => {
    const store = await memoryStore()
    store.set('a', 1)
    const i = mount(store)
    store.set('a', 2)
    await settle()
    expect(row(i, 'a')!.dataset.origin).toBe('local')
    expect(row(i, 'a')!.className).toContain('flash-local')
    // Another device's write (an update applied to the document, as the relay's would be).
    const other = await memoryStore()
    other.set('a', 3)
    await other.flush()
    Y.applyUpdate(store.doc, Y.encodeStateAsUpdate(other.doc))
    await settle()
    expect(cell(row(i, 'a'), 'inspector-row-value')).toBe('3')
    expect(row(i, 'a')!.dataset.origin).toBe('remote')
    expect(cell(row(i, 'a'), 'inspector-row-origin')).toBe('another device')
  })

  it('shows a key whole: a JSON tree, hex for bytes, the members of a structure (not editable)', async () => {
    const store = await memoryStore()
    store.set('doc', { title: 'Hi', tags: ['a', 'b'] })
    store.set('bytes', new Uint8Array([0xde, 0xad, 0xbe, 0xef]))
    const board = store.sortedSet('board')
    board.add('ada', 3)
    board.add('bob', 1)
    const i = mount(store)
    cell(row(i, 'doc'), 'inspector-row-key')
    row(i, 'doc')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-key"]')!.click()
    expect(q(i, 'inspector-detail-key').textContent).toBe('doc')
    expect(q(i, 'inspector-detail-value').textContent).toContain('title: "Hi"')
    expect(JSON.parse(q<HTMLTextAreaElement>(i, 'inspector-value').value)).toEqual({ title: 'Hi', tags: ['a', 'b'] })
    row(i, 'bytes')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-key"]')!.click()
    expect(q(i, 'inspector-hex').textContent).toContain('000000  de ad be ef')
    row(i, 'board')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-key"]')!.click()
    expect(q(i, 'inspector-members').textContent).toContain('ada3')
    expect(q(i, 'inspector-form').hidden).toBe(true)
    expect(q(i, 'inspector-ttl-form').hidden).toBe(false)
  })

  it('adds and edits a plain value, sets and removes a TTL, deletes a key; a refused write shows its code', async () => {
    const store = await memoryStore()
    const i = mount(store)
    q(i, 'inspector-new').click()
    q<HTMLInputElement>(i, 'inspector-key').value = 'note'
    q<HTMLTextAreaElement>(i, 'inspector-value').value = '{"text": "hello"}'
    q<HTMLInputElement>(i, 'inspector-ttl').value = '60'
    q<HTMLFormElement>(i, 'inspector-form').requestSubmit()
    expect(store.get('note')).toEqual({ text: 'hello' })
    expect(store.ttl('note')).toBeGreaterThan(59_000)
    q<HTMLInputElement>(i, 'inspector-expire').value = ''
    q<HTMLFormElement>(i, 'inspector-ttl-form').requestSubmit()
    expect(store.ttl('note')).toBe(-1)
    q<HTMLInputElement>(i, 'inspector-expire').value = '5'
    q<HTMLFormElement>(i, 'inspector-ttl-form').requestSubmit()
    expect(store.ttl('note')).toBeLessThanOrEqual(5000)
    q<HTMLTextAreaElement>(i, 'inspector-value').value = 'not json'
    q<HTMLFormElement>(i, 'inspector-form').requestSubmit()
    expect(q(i, 'inspector-error').hidden).toBe(false)
    expect(store.get('note')).toEqual({ text: 'hello' })
    q<HTMLTextAreaElement>(i, 'inspector-value').value = '{"__proto__": 1}'
    q<HTMLFormElement>(i, 'inspector-form').requestSubmit()
    expect(q(i, 'inspector-error-code').textContent).toBe('INVALID_VALUE')
    q(i, 'inspector-delete').click()
    expect(store.has('note')).toBe(false)
    await settle()
    expect(row(i, 'note')).toBeNull()
  })

  it('a store closed under it: shows CLOSED once and stops its timer (nothing thrown every second)', async () => {
    vi.useFakeTimers()
    try {
      const store = await memoryStore()
      store.set('k', 1, { ttl: 60_000 })
      const i = mount(store)
      await store.close()
      expect(() => vi.advanceTimersByTime(5000)).not.toThrow()
      expect(q(i, 'inspector-error-code').textContent).toBe('CLOSED')
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('given another store, drops the picked key of the old one; a store set before the element was defined is taken on', async () => {
    const a = await memoryStore()
    a.set('old', 1)
    const i = mount(a)
    row(i, 'old')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-key"]')!.click()
    expect(q(i, 'inspector-detail').hidden).toBe(false)
    i.store = await memoryStore()
    expect(q(i, 'inspector-detail').hidden).toBe(true)

    const b = await memoryStore()
    b.set('early', 1)
    const late = document.createElement('tidekv-inspector-late') as HTMLElement & { store?: Store } // reason: not defined yet: a plain element, given a property
    late.store = b
    customElements.define('tidekv-inspector-late', class extends TideKVInspector {})
    document.body.append(late)
    expect(late.shadowRoot?.querySelector('[data-testid="inspector-row"][data-key="early"]')).not.toBeNull()
  })

  it('keeps a huge value cheap: a bounded preview, and a tree of its first 200 items a level', async () => {
    const store = await memoryStore()
    store.set(
      'big',
      Array.from({ length: 100_000 }, (_, k) => k),
    )
    const i = mount(store)
    const shown = cell(row(i, 'big'), 'inspector-row-value') ?? ''
    expect(shown.length).toBeLessThanOrEqual(121)
    expect(shown.startsWith('[0,1,2,3')).toBe(true)
    row(i, 'big')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-key"]')!.click()
    expect(q(i, 'inspector-detail-value').querySelectorAll('li').length).toBe(201)
    expect(q(i, 'inspector-detail-value').textContent).toContain('… 99800 more')
  })

  it('after a delete, the focus goes to the next key; the picked key stays current outside the prefix', async () => {
    const store = await memoryStore()
    for (const k of ['a:1', 'a:2', 'a:3', 'b']) store.set(k, 1)
    const i = mount(store)
    const del = row(i, 'a:2')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-delete"]')!
    del.focus()
    del.click()
    await settle()
    expect(i.shadowRoot!.activeElement?.closest('tr')?.dataset.key).toBe('a:3')
    row(i, 'b')!.querySelector<HTMLButtonElement>('[data-testid="inspector-row-key"]')!.click()
    const prefix = q<HTMLInputElement>(i, 'inspector-prefix')
    prefix.value = 'a:'
    prefix.dispatchEvent(new Event('input'))
    store.set('b', 'changed')
    await settle()
    expect(q(i, 'inspector-detail-value').textContent).toBe('"changed"')
  })

  it('stops watching when removed from the page, or given another store', async () => {
    const store = await memoryStore()
    let live = 0
    const watch = store.watch.bind(store)
    vi.spyOn(store, 'watch').mockImplementation((target, cb) => {
      const stop = watch(target, cb)
      live++
      return () => {
        live--
        stop()
      }
    })
    const i = mount(store)
    expect(live).toBe(1)
    i.remove()
    expect(live).toBe(0)
    document.body.append(i)
    expect(live).toBe(1)
    i.store = await memoryStore()
    expect(live).toBe(0)
  })
})
