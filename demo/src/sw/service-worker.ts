/**
 * The demo's service worker: keeps the app shell (index.html and the built
 * assets) in a cache named after the build, and answers from it first, so the
 * page reloads and works with the relay down or the network gone.
 *
 * - install: caches the whole shell of this build (listed by the build, see
 *   demo/vite.config.ts), bypassing the HTTP cache.
 * - activate: deletes the caches of other builds, takes control of open pages.
 * - fetch: the shell from the cache, else the network; anything else (the
 *   relay's /healthz, /metrics) from the network only. WebSockets never pass
 *   through a service worker.
 *
 * A new build has a new sw.js (its version is a hash of the files); the
 * browser installs it beside the running one, and it waits until the page
 * asks it to take over ('skip-waiting'), so a page never mixes the assets of
 * two builds (its lazy chunks must still be in the cache it started with).
 */
// A module (not a script), so `self` can be redeclared with the service worker's type.
export {}
declare const self: ServiceWorkerGlobalScope

/** Filled in by the build: a hash of the shell's names and bytes. */
const VERSION = '__TIDEKV_SW_VERSION__'
/** Filled in by the build: the shell's URLs, relative to this file. */
// reason: the build replaces the placeholder with the JSON of the shell's URL list (precacheManifest in vite.config.ts)
const SHELL: readonly string[] = JSON.parse('__TIDEKV_SW_SHELL__') as string[]

const CACHE_PREFIX = 'tidekv-demo-'
const CACHE = CACHE_PREFIX + VERSION
const scope = new URL(self.registration.scope)
const shellUrls = new Set(SHELL.map((path) => new URL(path, self.location.href).href))
const indexUrl = new URL('./', self.location.href).href

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE)
      // `reload`: the files of this build from the server, never a stale HTTP-cached copy.
      await cache.addAll([...shellUrls].map((url) => new Request(url, { cache: 'reload' })))
      // The first worker has no page to disturb: take over at once.
      if (self.registration.active === null) await self.skipWaiting()
    })(),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name)
      }
      await self.clients.claim()
    })(),
  )
})

self.addEventListener('message', (event) => {
  const data: unknown = event.data
  if (data === 'skip-waiting') event.waitUntil(self.skipWaiting())
  else if (data === 'version') event.source?.postMessage({ version: VERSION })
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== scope.origin) return
  const isShellPage = request.mode === 'navigate' && (url.pathname === scope.pathname || url.pathname === `${scope.pathname}index.html`)
  url.search = ''
  url.hash = ''
  const key = isShellPage ? indexUrl : url.href
  if (!shellUrls.has(key)) return // not ours: the browser fetches it as if we were not here
  event.respondWith(cacheFirst(key, request))
})

/** The cached copy of `key`; the network when the cache lacks it (evicted, say). */
async function cacheFirst(key: string, request: Request): Promise<Response> {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(key)
  if (cached !== undefined) return cached
  const response = await fetch(request)
  if (response.ok) await cache.put(key, response.clone())
  return response
}
