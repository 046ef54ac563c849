/**
 * "Ping my devices": pub/sub, not data. The button publishes on the channel
 * `ping`; every other tab and device of the room that has the page open shows
 * a toast. Nothing is stored: a page opened later never hears an old ping.
 */
import type { Demo } from './demo.js'
import { byTestId } from './dom.js'
import { describeError } from './format.js'

export const PING_CHANNEL = 'ping'

export function mountPing(demo: Demo): void {
  const { store, i18n, identity } = demo
  byTestId<HTMLButtonElement>('ping').addEventListener('click', () => {
    try {
      store.publish(PING_CHANNEL, { device: identity.deviceName, at: Date.now() })
    } catch (e) {
      const { code, message } = describeError(e)
      demo.notify(code === null ? message : `${code}: ${message}`, 'error')
    }
  })
  store.subscribe(PING_CHANNEL, (message, { origin }) => {
    if (origin === 'local') return
    const device = typeof message === 'object' && message !== null && !Array.isArray(message) && !(message instanceof Uint8Array) ? String(message.device) : '?'
    demo.notify(i18n.t('ping.received', { device, origin: i18n.t(origin === 'tab' ? 'ping.tab' : 'ping.device') }))
  })
}
