/**
 * The activity feed: a stream at `activity`. The other parts append an entry
 * for each meaningful action (a score, a preference, the session, an API
 * call, a key saved or deleted), with the device that did it; the panel
 * shows the newest 20 (`revRange('+', '-', { count: 20 })`), live.
 *
 * Stream ids come from the hybrid logical clock, ordered by time then
 * replica, so entries appended on two devices while one was offline merge
 * into one order that every device shows alike. Every append trims the
 * stream to its last 200 entries (`trim({ maxLen })`), so it stays bounded;
 * two devices trimming at once each remove what they saw, and the
 * survivors are the same everywhere.
 */
import type { Store, StreamEntry, Value } from '@tidekv/client'
import type { Demo } from './demo.js'
import { byTestId, flash, h, setText } from './dom.js'
import { describeError, formatTime, formatValue } from './format.js'
import type { I18n, MessageKey } from './i18n.js'
import { describeDevice } from './identity.js'

export const ACTIVITY_KEY = 'activity'
/** Entries kept in the stream. */
export const ACTIVITY_MAX = 200
/** Entries the panel shows. */
const SHOWN = 20

/** What the page records, one entry each (and `device`, added by the log). */
export type Activity =
  | { action: 'score'; player: string; by: number }
  | { action: 'set-score'; player: string; score: number }
  | { action: 'pref'; name: 'theme' | 'language' | 'fontSize'; value: string | number }
  | { action: 'session'; what: 'start' | 'extend' | 'end' }
  | { action: 'rate'; n: number; allowed: boolean }
  | { action: 'key-set' | 'key-delete'; key: string }

/** Appends an entry to the feed; never throws (a failure is reported, the action itself stands). */
export type ActivityLog = (activity: Activity) => void

/** The log of this device: entries carry `deviceId`. Errors go to `onError`. */
export function createActivityLog(store: Store, deviceId: string, onError: (error: unknown) => void): ActivityLog {
  return (activity) => {
    try {
      const stream = store.stream(ACTIVITY_KEY)
      stream.add({ device: deviceId, ...activity })
      stream.trim({ maxLen: ACTIVITY_MAX })
    } catch (error) {
      // WRONG_TYPE when someone set `activity` to a plain value in the key browser, say.
      onError(error)
    }
  }
}

export function mountActivity(demo: Demo): void {
  const { store, i18n, identity } = demo
  const card = byTestId('activity')
  const list = byTestId('activity-list')
  const count = byTestId('activity-count')
  const empty = byTestId('activity-empty')
  /** The rendered items by stream id: only new entries get a new element (and its fade-in). */
  const items = new Map<string, HTMLLIElement>()

  const render = (): void => {
    let entries: StreamEntry[] = []
    let total = 0
    let error: string | null = null
    try {
      const stream = store.stream(ACTIVITY_KEY)
      entries = stream.revRange('+', '-', { count: SHOWN })
      total = stream.length
    } catch (e) {
      const { code, message } = describeError(e)
      error = code === null ? message : `${code}: ${message}`
    }
    count.dataset.count = String(total)
    setText(count, i18n.plural('activity.count', total))
    list.dataset.count = String(entries.length)
    empty.hidden = entries.length > 0
    setText(empty, error ?? i18n.t('activity.empty'))

    const seen = new Set<string>()
    const order = entries.map((entry) => {
      seen.add(entry.id)
      let li = items.get(entry.id)
      if (li === undefined) {
        li = renderEntry(entry, i18n, identity.deviceId)
        items.set(entry.id, li)
      }
      return li
    })
    for (const id of items.keys()) if (!seen.has(id)) items.delete(id)
    if (order.length !== list.children.length || order.some((li, i) => list.children[i] !== li)) list.replaceChildren(...order)
  }

  store.watch(ACTIVITY_KEY, ({ origin }) => {
    if (origin !== 'local') flash(card)
    render()
  })
  i18n.onChange(() => {
    items.clear()
    render()
  })
  render()
}

function renderEntry(entry: StreamEntry, i18n: I18n, myDevice: string): HTMLLIElement {
  const { device, action } = entry.fields
  const deviceId = typeof device === 'string' ? device : null
  const who = deviceId === null ? null : describeDevice(deviceId)
  const ms = Number(entry.id.split('-')[0])
  return h(
    'li',
    {
      class: deviceId === myDevice ? 'feed-item me' : 'feed-item',
      testid: 'activity-item',
      attrs: { 'data-id': entry.id, 'data-device': deviceId ?? '', 'data-action': typeof action === 'string' ? action : '' },
    },
    h('span', { class: 'feed-dot', attrs: { style: `--hue: ${who?.hue ?? 210}`, 'aria-hidden': 'true' } }),
    h('span', { class: 'feed-time', text: formatTime(ms, i18n.language) }),
    h('span', { class: 'feed-text' }, h('strong', { text: who?.deviceName ?? i18n.t('activity.someone') }), ' ', describeActivity(entry.fields, i18n)),
  )
}

/** The sentence for an entry; entries written by hand (in the console) show as JSON. */
function describeActivity(fields: Readonly<Record<string, Value>>, i18n: I18n): string {
  const text = (key: MessageKey): string => i18n.t(key, params(fields))
  switch (fields.action) {
    case 'score':
      return text('activity.score')
    case 'set-score':
      return text('activity.setScore')
    case 'pref':
      if (fields.name === 'theme' || fields.name === 'language' || fields.name === 'fontSize') return text(`activity.pref.${fields.name}`)
      break
    case 'session':
      if (fields.what === 'start' || fields.what === 'extend' || fields.what === 'end') return text(`activity.session.${fields.what}`)
      break
    case 'rate':
      return text(fields.allowed === true ? 'activity.rate.allowed' : 'activity.rate.blocked')
    case 'key-set':
      return text('activity.keySet')
    case 'key-delete':
      return text('activity.keyDelete')
  }
  const { device: _, ...rest } = fields
  return formatValue(rest)
}

/** The entry's fields that fill a sentence: strings and numbers only. */
function params(fields: Readonly<Record<string, Value>>): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [name, value] of Object.entries(fields)) if (typeof value === 'string' || typeof value === 'number') out[name] = value
  return out
}
