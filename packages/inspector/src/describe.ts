/**
 * How the inspector shows a key: a one-line preview for the list, and the
 * whole of it for the detail pane — a JSON tree for objects and arrays, hex
 * for bytes, the members of a data structure (at most MAX_MEMBERS, read
 * through the structure's own range calls, so a huge one costs no more).
 */
import type { KeyType, Store, Value } from '@tidekv/client'
import { el } from './dom.js'

const PREVIEW_CHARS = 120
const MAX_MEMBERS = 200
const MAX_HEX_BYTES = 1024

/** Whether the key holds a plain value (a string, number, object, bytes, a counter) rather than a data structure. */
export function isPlain(type: KeyType): boolean {
  return type === 'string' || type === 'counter' || type === 'none'
}

/** JSON text of a value, bytes as `<N bytes>`. */
export function jsonText(value: Value | undefined, indent?: number): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v), indent) ?? 'null'
}

/**
 * JSON text of `value` (bytes as `"<N bytes>"`), cut at `max` characters
 * without writing the rest: a row's preview of a 1 MiB value costs its first
 * `max` characters, not the whole value.
 */
export function boundedJson(value: Value, max: number): string {
  let out = ''
  const put = (text: string): boolean => (out += text).length < max
  const walk = (v: Value): boolean => {
    if (v instanceof Uint8Array) return put(`"<${v.length} bytes>"`)
    if (typeof v === 'string') return put(JSON.stringify(v.length > max ? v.slice(0, max) : v))
    if (v === null || typeof v !== 'object') return put(JSON.stringify(v))
    if (Array.isArray(v)) {
      if (!put('[')) return false
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(',')) || !walk(v[i]!)) return false
      return put(']')
    }
    if (!put('{')) return false
    let first = true
    for (const [k, item] of Object.entries(v)) {
      if ((!first && !put(',')) || !put(`${JSON.stringify(k)}:`) || !walk(item)) return false
      first = false
    }
    return put('}')
  }
  return walk(value) ? out : `${out.slice(0, max)}…`
}

/** The list's one line for `key`. */
export function preview(store: Store, key: string, type: KeyType): string {
  if (!isPlain(type)) {
    const n = size(store, key, type)
    const [one, many] = type === 'hash' ? ['field', 'fields'] : type === 'stream' ? ['entry', 'entries'] : type === 'list' ? ['item', 'items'] : ['member', 'members']
    return `${n} ${n === 1 ? one : many}`
  }
  return boundedJson(store.get(key) ?? null, PREVIEW_CHARS)
}

/** Members of a data structure (fields, elements, entries). */
export function size(store: Store, key: string, type: KeyType): number {
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

/** The whole of `key` for the detail pane. */
export function detail(store: Store, key: string, type: KeyType): Node {
  if (isPlain(type)) return valueNode(store.get(key) ?? null)
  const total = size(store, key, type)
  const rows: [string, Value][] = []
  switch (type) {
    case 'hash':
      for (const [field, value] of Object.entries(store.hash(key).getAll()).slice(0, MAX_MEMBERS)) rows.push([field, value])
      break
    case 'list':
      store
        .list(key)
        .range(0, MAX_MEMBERS - 1)
        .forEach((value, i) => rows.push([String(i), value]))
      break
    case 'set':
      for (const member of store.collection(key).members().slice(0, MAX_MEMBERS)) rows.push([member, true])
      break
    case 'zset':
      for (const [member, score] of store.sortedSet(key).range(0, MAX_MEMBERS - 1, { withScores: true })) rows.push([member, score])
      break
    case 'stream':
      for (const entry of store.stream(key).range('-', '+', { count: MAX_MEMBERS })) rows.push([entry.id, entry.fields])
      break
  }
  const heads: Partial<Record<KeyType, [string, string]>> = {
    hash: ['field', 'value'],
    list: ['index', 'value'],
    set: ['member', ''],
    zset: ['member', 'score'],
    stream: ['id', 'fields'],
  }
  const head = heads[type] ?? ['', '']
  const table = el(
    'table',
    { class: 'members', testid: 'inspector-members' },
    el('thead', {}, el('tr', {}, el('th', { text: head[0], attrs: { scope: 'col' } }), el('th', { text: head[1], attrs: { scope: 'col' } }))),
    el(
      'tbody',
      {},
      ...rows.map(([name, value]) => el('tr', {}, el('th', { attrs: { scope: 'row' } }, el('code', { text: name })), el('td', {}, type === 'set' ? '' : valueNode(value)))),
    ),
  )
  const more = total > rows.length ? el('p', { class: 'note', text: `first ${rows.length} of ${total}` }) : ''
  return el('div', {}, table, more)
}

/** A value as DOM: a collapsible tree for objects and arrays, hex for bytes, JSON text for the rest. */
export function valueNode(value: Value): Node {
  if (value instanceof Uint8Array) return hex(value)
  if (typeof value !== 'object' || value === null) return el('code', { class: `json ${value === null ? 'null' : typeof value}`, text: JSON.stringify(value) })
  const count = Array.isArray(value) ? value.length : Object.keys(value).length
  if (count === 0) return el('code', { class: 'json', text: Array.isArray(value) ? '[]' : '{}' })
  // At most MAX_MEMBERS a level: a value of 500,000 numbers is drawn as its first 200.
  const entries: [string, Value][] = Array.isArray(value) ? value.slice(0, MAX_MEMBERS).map((v, i) => [String(i), v]) : Object.entries(value).slice(0, MAX_MEMBERS)
  const items = entries.map(([k, v]) => el('li', {}, el('code', { class: 'prop', text: `${k}: ` }), valueNode(v)))
  if (count > entries.length) items.push(el('li', { class: 'note', text: `… ${count - entries.length} more` }))
  const tree = el('details', { class: 'tree' }, el('summary', {}, el('code', { text: Array.isArray(value) ? `[${count}]` : `{${count}}` })), el('ul', {}, ...items))
  tree.open = count <= 20
  return tree
}

function hex(bytes: Uint8Array): Node {
  const shown = bytes.subarray(0, MAX_HEX_BYTES)
  const lines: string[] = []
  for (let i = 0; i < shown.length; i += 16) {
    lines.push(`${i.toString(16).padStart(6, '0')}  ${Array.from(shown.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ')}`)
  }
  if (bytes.length > shown.length) lines.push(`… ${bytes.length - shown.length} more bytes`)
  return el('pre', { class: 'hex', testid: 'inspector-hex', text: `${bytes.length} bytes\n${lines.join('\n')}` })
}

/** `1h 02m`, `4m 05s`, `42s`, `9.3s`: a TTL as it counts down. */
export function duration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
