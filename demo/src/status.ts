/**
 * The status bar and the offline banner: the connection (`store.status`),
 * the "work offline" switch (`store.disconnect()` / `connect()`), and whether
 * this tab's writes are on the relay's disk yet (`store.whenSynced()`).
 *
 * The banner shows when the app chose to work offline, when the browser says
 * it has no network, or when the relay has been out of reach for a moment
 * (a grace period, so a page that is still connecting does not flash it).
 */
import type { SyncStatus } from '@tidekv/client'
import type { Demo } from './demo.js'
import { byTestId, setText } from './dom.js'
import { describeError } from './format.js'

/** How long the relay may be unreachable before the banner says so. */
const GRACE_MS = 1500

type SavedState = 'idle' | 'pending' | 'waiting' | 'saved' | 'local'

export function mountStatus(demo: Demo): void {
  const { store, i18n, ticker } = demo
  const pill = byTestId('status')
  const pillText = byTestId('status-text')
  const toggle = byTestId<HTMLInputElement>('offline-switch')
  const banner = byTestId('offline-banner')
  const bannerTitle = byTestId('offline-banner-title')
  const goOnline = byTestId<HTMLButtonElement>('offline-banner-go-online')
  const saved = byTestId('relay-saved')
  const savedText = byTestId('relay-saved-text')

  let workingOffline = false
  /** When the connection was last lost (or the page started): null while connected. */
  let unreachableSince: number | null = Date.now()
  let savedState: SavedState = 'idle'

  const render = (): void => {
    const status: SyncStatus = store.status
    pill.dataset.status = status
    // Which relay this page is on: with several relays sharing rooms (npm run start:cluster), pages may differ.
    const relay = store.relay
    setText(pillText, relay === null ? i18n.t(`status.${status}`) : `${i18n.t(`status.${status}`)} · ${new URL(relay).host}`)
    pill.dataset.relay = relay ?? ''
    toggle.checked = workingOffline
    toggle.disabled = status === 'local'

    const reason: 'manual' | 'network' | 'relay' | null = workingOffline
      ? 'manual'
      : !navigator.onLine
        ? 'network'
        : unreachableSince !== null && status !== 'local' && Date.now() - unreachableSince >= GRACE_MS
          ? 'relay'
          : null
    banner.hidden = reason === null
    banner.dataset.reason = reason ?? ''
    document.documentElement.dataset.offline = String(reason !== null)
    if (reason !== null) setText(bannerTitle, i18n.t(`banner.${reason}`))
    goOnline.hidden = reason !== 'manual'

    const state = savedState === 'pending' && status !== 'syncing' && status !== 'synced' ? 'waiting' : savedState
    saved.dataset.state = state
    setText(savedText, i18n.t(`status.saved.${state}`))
  }

  const setWorkingOffline = (offline: boolean): void => {
    workingOffline = offline
    if (offline) store.disconnect()
    else store.connect()
    render()
  }

  // "Saved on the relay": one whenSynced() at a time, asked again if more was written meanwhile.
  let written = 0
  let confirming = false
  const confirm = async (): Promise<void> => {
    if (confirming) return
    confirming = true
    try {
      while (true) {
        const upTo = written
        await store.whenSynced()
        if (written === upTo) break
      }
      savedState = store.status === 'local' ? 'local' : 'saved'
    } catch (error) {
      demo.notify(describeError(error).message, 'error')
      savedState = 'idle'
    } finally {
      confirming = false
      render()
    }
  }
  store.watch({ prefix: '' }, ({ origin }) => {
    if (origin !== 'local') return
    written++
    // Most writes are acknowledged within a few ms: show "saving" only if it takes longer.
    const at = written
    setTimeout(() => {
      if (confirming && written === at && savedState !== 'pending') {
        savedState = 'pending'
        render()
      }
    }, 300)
    void confirm()
  })

  store.on('status', (status) => {
    if (status === 'syncing' || status === 'synced') unreachableSince = null
    else unreachableSince ??= Date.now()
    render()
  })
  store.on('relay', render)
  toggle.addEventListener('change', () => setWorkingOffline(toggle.checked))
  goOnline.addEventListener('click', () => setWorkingOffline(false))
  window.addEventListener('online', render)
  window.addEventListener('offline', render)
  i18n.onChange(render)
  ticker.add(render)
  render()
}
