/**
 * A session: the key `session` set with a TTL. The countdown is
 * `store.ttl('session')` read on every tick; when it runs out, every replica
 * drops the key at that wall-clock time on its own (no message needed), and
 * the watch fires with the value that expired.
 */
import type { Value } from '@tidekv/client'
import type { Demo } from './demo.js'
import { byTestId, flash, setText } from './dom.js'
import { describeError, formatTime } from './format.js'
import { describeDevice } from './identity.js'

export const SESSION_KEY = 'session'
/** The ring's circumference (r = 52 in index.html's SVG). */
const RING = 2 * Math.PI * 52

export function mountSession(demo: Demo): void {
  const { store, i18n, identity, config, ticker } = demo
  const card = byTestId('session')
  const state = byTestId('session-state')
  const ttlText = byTestId('session-ttl')
  const ring = byTestId<SVGCircleElement>('session-ring')
  const user = byTestId('session-user')
  const detail = byTestId('session-detail')
  const start = byTestId<HTMLButtonElement>('session-start')
  const extend = byTestId<HTMLButtonElement>('session-extend')
  const end = byTestId<HTMLButtonElement>('session-end')
  const seconds = Math.round(config.sessionTtlMs / 1000)
  /** Set when a session goes away: "expired" or "ended", shown until the next one starts. */
  let farewell: 'expired' | 'ended' | null = null
  let lastTtl = -2

  const render = (): void => {
    const ttl = store.ttl(SESSION_KEY)
    const value = store.get(SESSION_KEY)
    const active = ttl !== -2
    state.dataset.active = String(active)
    card.dataset.active = String(active)
    ttlText.dataset.ttl = String(ttl)
    setText(ttlText, active ? (ttl === -1 ? '∞' : String(Math.ceil(ttl / 1000))) : '–')
    const fraction = !active ? 0 : ttl === -1 ? 1 : Math.min(1, ttl / config.sessionTtlMs)
    ring.style.strokeDashoffset = String(RING * (1 - fraction))
    ring.classList.toggle('low', active && ttl !== -1 && ttl < 5000)
    if (active) {
      const session = readSession(value)
      setText(user, i18n.t('session.active', { user: session.user }))
      setText(
        detail,
        ttl === -1
          ? i18n.t('session.noExpiry')
          : session.device === null
            ? ''
            : i18n.t('session.startedOn', {
                device: session.device === identity.deviceId ? i18n.t('session.thisDevice') : describeDevice(session.device).deviceName,
                time: formatTime(session.startedAt, i18n.language),
              }),
      )
    } else {
      setText(user, farewell === null ? i18n.t('session.none') : i18n.t(farewell === 'expired' ? 'session.expired' : 'session.ended'))
      setText(detail, i18n.t('session.noneDetail', { s: seconds }))
    }
    setText(start, i18n.t('session.start', { s: seconds }))
    extend.disabled = !active
    end.disabled = !active
    lastTtl = ttl
  }

  const act = (fn: () => void): void => {
    try {
      fn()
    } catch (error) {
      demo.notify(describeError(error).message, 'error')
    }
    render()
  }

  start.addEventListener('click', () =>
    act(() => {
      store.set(SESSION_KEY, { user: identity.deviceName, device: identity.deviceId, startedAt: Date.now() }, { ttl: config.sessionTtlMs })
      demo.log({ action: 'session', what: 'start' })
    }),
  )
  extend.addEventListener('click', () =>
    act(() => {
      if (store.expire(SESSION_KEY, config.sessionTtlMs)) demo.log({ action: 'session', what: 'extend' })
    }),
  )
  end.addEventListener('click', () =>
    act(() => {
      if (store.delete(SESSION_KEY)) demo.log({ action: 'session', what: 'end' })
    }),
  )
  store.watch(SESSION_KEY, ({ value, previous, origin }) => {
    if (value === undefined && previous !== undefined) farewell = lastTtl >= 0 && lastTtl < 1500 ? 'expired' : 'ended'
    else if (value !== undefined) farewell = null
    if (origin !== 'local') flash(card)
    render()
  })
  ring.style.strokeDasharray = String(RING)
  ticker.add(render)
  i18n.onChange(render)
  render()
}

function readSession(value: Value | undefined): { user: string; device: string | null; startedAt: number } {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)) {
    return {
      user: typeof value.user === 'string' ? value.user : JSON.stringify(value),
      device: typeof value.device === 'string' ? value.device : null,
      startedAt: typeof value.startedAt === 'number' ? value.startedAt : Date.now(),
    }
  }
  return { user: JSON.stringify(value), device: null, startedAt: Date.now() }
}
