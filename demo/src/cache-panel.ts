/**
 * A cached API call: a cache store of this device (`demo-cache`, at most
 * 2 KB, allkeys-lru), not synced. "Fetch" asks for an item through
 * `getOrSet`: the first time it is loaded (a slow "API", here the relay's
 * /healthz plus a padding that makes each item ~400 bytes) and cached with a
 * TTL; later it comes from the cache, until fetching others evicts it. The
 * counts are the store's `stats()`.
 */
import { openStore, type Store } from '@tidekv/client'
import type { Demo } from './demo.js'
import { byTestId, flash, setText } from './dom.js'
import { describeError } from './format.js'

export const CACHE_BYTES = 2048
const TTL_MS = 5 * 60_000

export async function mountCachePanel(demo: Demo): Promise<Store> {
  const { i18n } = demo
  const cache = await openStore('demo-cache', { cache: { maxBytes: CACHE_BYTES, policy: 'allkeys-lru' } })
  const item = byTestId<HTMLSelectElement>('cache-item')
  const result = byTestId('cache-result')
  let last: { n: number; hit: boolean; ms: number } | { error: string } | null = null

  const render = (): void => {
    const stats = cache.stats()
    for (const [id, value] of [
      ['cache-hits', stats.hits],
      ['cache-misses', stats.misses],
      ['cache-evictions', stats.evictions],
      ['cache-bytes', stats.bytes],
    ] as const) {
      const el = byTestId(id)
      el.dataset.value = String(value)
      setText(el, String(value))
    }
    if (last === null) {
      result.dataset.result = 'none'
      setText(result, '')
    } else if ('error' in last) {
      result.dataset.result = 'error'
      setText(result, last.error)
    } else {
      result.dataset.result = last.hit ? 'hit' : 'miss'
      setText(result, last.hit ? i18n.t('cache.hit', { n: last.n }) : i18n.t('cache.miss', { n: last.n, ms: Math.round(last.ms) }))
    }
  }

  const fetchItem = async (): Promise<void> => {
    const n = Number(item.value)
    const t0 = performance.now()
    let loaded = false
    try {
      await cache.getOrSet(
        `item:${n}`,
        async () => {
          loaded = true
          const health = (await (await fetch('/healthz')).json()) as unknown // reason: the relay answers JSON; only shown, never trusted
          return { n, health: JSON.stringify(health), padding: '.'.repeat(300) }
        },
        { ttl: TTL_MS },
      )
      last = { n, hit: !loaded, ms: performance.now() - t0 }
    } catch (e) {
      const { code, message } = describeError(e)
      last = { error: code === null ? message : `${code}: ${message}` }
    }
    flash(result, 'pop')
    render()
  }
  byTestId<HTMLButtonElement>('cache-fetch').addEventListener('click', () => void fetchItem())
  i18n.onChange(render)
  render()
  return cache
}
