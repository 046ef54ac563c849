/**
 * Registers the service worker (demo/src/sw/service-worker.ts, built to
 * sw.js) and shows its state in the footer: `data-state` is 'installing',
 * 'ready' (the shell is cached: the page reloads without a network),
 * 'unsupported' or 'dev' (Vite's dev server has no sw.js).
 *
 * When a new build's worker is waiting, the page offers a reload; the worker
 * takes over only then, so a running page never loses the assets it started with.
 */
import type { I18n } from './i18n.js'
import { byTestId, setText } from './dom.js'

export function registerServiceWorker(i18n: I18n, onError: (error: unknown) => void): void {
  const status = byTestId('sw-status')
  const text = byTestId('sw-status-text')
  const update = byTestId('sw-update')
  const reload = byTestId<HTMLButtonElement>('sw-reload')
  let state: 'installing' | 'ready' | 'unsupported' | 'dev' = 'installing'

  const render = (): void => {
    status.dataset.state = state
    document.documentElement.dataset.sw = state
    setText(text, i18n.t(`sw.${state}`))
  }
  i18n.onChange(render)

  if (!import.meta.env.PROD) {
    state = 'dev'
    render()
    return
  }
  if (!('serviceWorker' in navigator)) {
    // Service workers need a secure context: https, or localhost.
    state = 'unsupported'
    render()
    return
  }
  render()

  const offer = (worker: ServiceWorker): void => {
    update.hidden = false
    reload.onclick = () => {
      reload.disabled = true
      worker.postMessage('skip-waiting')
    }
  }

  let reloading = false
  const hadController = navigator.serviceWorker.controller !== null
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // The first install takes control of this page without a reload; only an update reloads it.
    if (!hadController || reloading) return
    reloading = true
    location.reload()
  })

  navigator.serviceWorker
    .register('./sw.js', { scope: './', updateViaCache: 'none' })
    .then((registration) => {
      if (registration.waiting !== null && hadController) offer(registration.waiting)
      registration.addEventListener('updatefound', () => {
        const worker = registration.installing
        worker?.addEventListener('statechange', () => {
          if (worker.state === 'installed' && navigator.serviceWorker.controller !== null) offer(worker)
        })
      })
      return navigator.serviceWorker.ready
    })
    .then(() => {
      state = 'ready'
      render()
    })
    .catch(onError)
}
