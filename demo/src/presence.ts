/**
 * Who has the page open, through the store itself: each tab keeps a key
 * `presence:<tab id>` alive (TTL 15 s, refreshed every 5 s) holding its
 * device id; the tabs present are the live keys under `presence:`, the
 * devices the distinct device ids among them.
 *
 * Why keys rather than y-websocket's awareness: the store keeps its provider
 * to itself, and keys need nothing beyond the public API. They also reach
 * other tabs with no relay (through the store's BroadcastChannel) and show
 * TTLs at work in the key browser. Their costs: one small write per tab every
 * 5 s (the document keeps only the latest entry per key, so history does not
 * grow), a closed tab counted until its key expires (a clean close deletes
 * it), and a device whose clock is off by more than the TTL misjudges the
 * others' keys.
 */
import type { Value } from '@tidekv/client'
import type { Demo } from './demo.js'
import { byTestId, h, setText } from './dom.js'
import { describeError } from './format.js'
import { describeDevice } from './identity.js'

export const PRESENCE_PREFIX = 'presence:'

interface Peer {
  deviceId: string
  deviceName: string
  hue: number
  tabs: number
  me: boolean
}

export function mountPresence(demo: Demo): void {
  const { store, identity, config, i18n } = demo
  const key = PRESENCE_PREFIX + identity.tabId
  const since = Date.now()
  const count = byTestId('presence-count')
  const devices = byTestId('presence-devices')
  const list = byTestId('presence-list')
  let failed = false

  const beat = (): void => {
    try {
      store.set(key, { device: identity.deviceId, since }, { ttl: config.presenceTtlMs })
      failed = false
    } catch (error) {
      // Once per failure streak: a read-only or closed store would fail every 5 s.
      if (!failed) demo.notify(describeError(error).message, 'error')
      failed = true
    }
  }

  const render = (): void => {
    const peers = readPeers(store.entries({ prefix: PRESENCE_PREFIX }), identity.deviceId)
    const tabs = peers.reduce((n, p) => n + p.tabs, 0)
    count.dataset.count = String(tabs)
    devices.dataset.count = String(peers.length)
    setText(count, i18n.plural('status.presence.tabs', tabs))
    setText(devices, i18n.plural('status.presence.devices', peers.length))
    list.replaceChildren(
      ...peers.map((peer) =>
        h(
          'li',
          { class: peer.me ? 'peer me' : 'peer', testid: 'presence-peer', attrs: { 'data-device': peer.deviceId } },
          h('span', { class: 'avatar', attrs: { style: `--hue: ${peer.hue}`, 'aria-hidden': 'true' }, text: initials(peer.deviceName) }),
          h('span', { class: 'peer-name', text: peer.deviceName }),
          h('span', { class: 'peer-meta', text: [i18n.plural('hero.tabs', peer.tabs), ...(peer.me ? [i18n.t('hero.you')] : [])].join(' · ') }),
        ),
      ),
    )
  }

  beat()
  setInterval(beat, config.presenceRefreshMs)
  // Background tabs get slowed timers: refresh as soon as the tab is seen again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') beat()
  })
  // A tab that goes away says so (best effort: its key expires anyway); one restored from the back/forward cache is back.
  window.addEventListener('pagehide', () => {
    try {
      store.delete(key)
    } catch {
      // reason: the store may already be closed while the page unloads; the TTL cleans up
    }
  })
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) beat()
  })
  store.watch({ prefix: PRESENCE_PREFIX }, render)
  i18n.onChange(render)
  render()
}

function readPeers(entries: [string, Value][], myDevice: string): Peer[] {
  const byDevice = new Map<string, Peer>()
  for (const [, value] of entries) {
    const deviceId = value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) ? value.device : undefined
    if (typeof deviceId !== 'string') continue // someone wrote a presence key by hand
    const peer = byDevice.get(deviceId) ?? { deviceId, ...describeDevice(deviceId), tabs: 0, me: deviceId === myDevice }
    peer.tabs++
    byDevice.set(deviceId, peer)
  }
  const peers = [...byDevice.values()]
  // Names come from a small vocabulary: two devices may share one, so those get their id's first digits too.
  const named = new Map<string, number>()
  for (const p of peers) named.set(p.deviceName, (named.get(p.deviceName) ?? 0) + 1)
  for (const p of peers) if (named.get(p.deviceName)! > 1) p.deviceName += ` #${p.deviceId.slice(0, 4)}`
  // This device first, then by name.
  return peers.sort((a, b) => Number(b.me) - Number(a.me) || a.deviceName.localeCompare(b.deviceName))
}

function initials(name: string): string {
  return name
    .split(' ')
    .map((word) => word[0] ?? '')
    .join('')
}
