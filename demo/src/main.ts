/**
 * The demo page: opens the store `demo` (synced with the relay that serves
 * the page, room `demo`), exposes it as `window.tidekv`, and mounts the
 * page's parts. Each part reads the store and watches its keys; none keeps
 * state of its own that another tab or device could disagree with.
 *
 * For tests: every control has a `data-testid`; `<html data-ready="true">`
 * once the parts are mounted, `data-sw="ready"` once the app shell is cached,
 * `data-offline` when the offline banner shows.
 */
import './style.css'
import { openStore, type Store } from '@tidekv/client'
import type { TideKVInspector } from '@tidekv/inspector'
import '@tidekv/inspector' // defines <tidekv-inspector>
import { createActivityLog, mountActivity } from './activity.js'
import { readConfig } from './config.js'
import type { Demo } from './demo.js'
import { byTestId, setText } from './dom.js'
import { describeError } from './format.js'
import { I18n } from './i18n.js'
import { createIdentity } from './identity.js'
import { mountLeaderboard } from './leaderboard.js'
import { mountCachePanel } from './cache-panel.js'
import { mountPing } from './ping.js'
import { mountPrefs } from './prefs.js'
import { mountPresence } from './presence.js'
import { registerServiceWorker } from './pwa.js'
import { mountRateLimit } from './rate-limit.js'
import { mountSession } from './session.js'
import { mountStatus } from './status.js'
import { Ticker } from './ticker.js'
import { createNotifier } from './toasts.js'

declare global {
  interface Window {
    /** The page's store, for the console and for tests that drive the page. */
    tidekv?: Store
  }
}

async function main(): Promise<void> {
  const config = readConfig(location, import.meta.env.DEV)
  const i18n = new I18n()
  const notify = createNotifier()
  // Before the store: the page must work offline even if opening the store fails.
  registerServiceWorker(i18n, (error) => notify(describeError(error).message, 'error'))

  const store = await openStore(config.room, config.relayUrl === null ? {} : { sync: { url: config.relayUrl } })
  window.tidekv = store
  store.on('error', (error) => notify(`${i18n.t('error.background')}: ${error.code}: ${error.message}`, 'error'))

  const identity = createIdentity(webStorage('localStorage'), webStorage('sessionStorage'))
  const demo: Demo = {
    store,
    config,
    i18n,
    identity,
    ticker: new Ticker(200),
    notify,
    log: createActivityLog(store, identity.deviceId, (error) => notify(describeError(error).message, 'error')),
  }
  setText(byTestId('footer-room'), config.room)
  setText(byTestId('footer-device'), demo.identity.deviceName)
  byTestId<HTMLButtonElement>('open-tab').addEventListener('click', () => window.open(location.href, '_blank'))
  // The React page opens the same store: it keeps this page's settings (room, relay).
  byTestId<HTMLAnchorElement>('react-link').href = `./react/${location.search}`

  mountPrefs(demo) // first: it sets the language the others render in
  mountStatus(demo)
  mountPresence(demo)
  mountSession(demo)
  mountRateLimit(demo)
  mountLeaderboard(demo)
  mountActivity(demo)
  // The key browser: TideKV's own inspector, as any app would use it.
  byTestId<TideKVInspector>('inspector').store = store
  mountPing(demo)
  await mountCachePanel(demo)
  i18n.translate(document)
  document.documentElement.dataset.ready = 'true'
}

/** Says on the page why it cannot work (no IndexedDB, say): `STORAGE_FAILED: ...`. */
function showFatal(error: unknown): void {
  const { code, message } = describeError(error)
  byTestId('fatal').hidden = false
  setText(byTestId('fatal-message'), code === null ? message : `${code}: ${message}`)
  document.documentElement.dataset.ready = 'error'
}

function webStorage(name: 'localStorage' | 'sessionStorage'): Storage | null {
  try {
    return window[name]
  } catch {
    return null // reason: storage blocked by the browser's settings; ids are then new on every load
  }
}

main().catch(showFatal)
