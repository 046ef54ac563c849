/**
 * The activity feed panel: the newest 20 entries of the activity log (the
 * stream at `activity`, see activity-log.ts; `revRange('+', '-', { count: 20 })`),
 * live, in the order every device shows alike.
 */
import type { StreamEntry, Value } from '@tidekv/client'
import { ACTIVITY_KEY } from './activity-log.js'
import type { Demo } from './demo.js'
import { byTestId, flash, h, setText } from './dom.js'
import { describeError, formatTime, formatValue } from './format.js'
import type { I18n, MessageKey } from './i18n.js'
import { describeDevice } from './identity.js'

// main.ts imports these from here. The log has its own module so that demo.ts
// can name its type without importing this panel, which imports demo.ts.
export { ACTIVITY_KEY, createActivityLog } from './activity-log.js'

/** Entries the panel shows. */
const SHOWN = 20

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
