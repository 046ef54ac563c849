/**
 * IndexedDB quota in Chromium: the origin's quota is set small through the
 * DevTools protocol (Storage.overrideQuotaForOrigin, the browser's own quota
 * check, not a storage that pretends), then stores write more than it holds.
 * A cache store evicts by its policy and retries; a plain store reports
 * STORAGE_FAILED and keeps its writes in memory.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { StaticServer } from '../bench/static-server.js'
import { launchChromium } from './chromium.js'
import { openClientPage, serveClientPage } from './client-page.js'

const QUOTA = 2_000_000
/** Values of random text (IndexedDB compresses repeated text), 20 KB each: 200 keys write 4 MB, twice the quota. */
const VALUE_BYTES = 20_000
const ROUNDS = 20
const PER_ROUND = 10

let browser: Browser
let server: StaticServer

beforeAll(async () => {
  ;[browser, server] = await Promise.all([launchChromium(), serveClientPage()])
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

async function pageWithQuota(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext()
  const page = await openClientPage(context, server)
  const cdp = await context.newCDPSession(page)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin, quotaSize: QUOTA })
  return { context, page }
}

test('a cache store that meets the quota evicts by its policy and goes on; a plain store reports STORAGE_FAILED and keeps its writes in memory', async () => {
  const { context, page } = await pageWithQuota()
  const cache = await page.evaluate(
    async ({ rounds, perRound, valueBytes }) => {
      const { openStore } = window.tidekvClient!
      const text = (n: number) => {
        const bytes = crypto.getRandomValues(new Uint8Array(n / 2))
        return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
      }
      const store = await openStore('quota-cache', { tabs: false, cache: { maxBytes: 100_000_000 } })
      const errors: string[] = []
      store.on('error', (e) => errors.push(`${e.code}: ${e.message}`))
      const failures: string[] = []
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < perRound; i++) store.set(`r${round}:k${i}`, text(valueBytes))
        await store
          .flush()
          .catch((e: { code?: string; cause?: { name?: string; message?: string } }) =>
            failures.push(`${String(e.code)} round ${round} keys ${store.stats().keys} ${e.cause?.name}: ${e.cause?.message}`),
          )
      }
      const { evictions, keys, bytes } = store.stats()
      const newest = store.get<string>(`r${rounds - 1}:k${perRound - 1}`)?.length
      await store.close()
      // Reopened: what the cache kept is on disk.
      const again = await openStore('quota-cache', { tabs: false, cache: { maxBytes: 100_000_000 } })
      const reopened = { keys: again.stats().keys, newest: again.get<string>(`r${rounds - 1}:k${perRound - 1}`)?.length }
      await again.close()
      return { errors, failures, evictions, keys, bytes, newest, reopened }
    },
    { rounds: ROUNDS, perRound: PER_ROUND, valueBytes: VALUE_BYTES },
  )
  expect(cache.failures).toEqual([])
  expect(cache.errors).toEqual([])
  expect(cache.evictions).toBeGreaterThan(0) // the quota, not the budget (100 MB), made it evict
  expect(cache.keys).toBeLessThan(ROUNDS * PER_ROUND)
  expect(cache.newest).toBe(VALUE_BYTES) // the newest writes are kept
  expect(cache.reopened.newest).toBe(VALUE_BYTES)
  expect(cache.reopened.keys).toBe(cache.keys)

  const plain = await page.evaluate(
    async ({ rounds, perRound, valueBytes }) => {
      const { openStore } = window.tidekvClient!
      await indexedDB.databases().then((dbs) =>
        Promise.all(
          dbs.map(
            (d) =>
              new Promise((r) => {
                const q = indexedDB.deleteDatabase(d.name!)
                q.onsuccess = q.onerror = r
              }),
          ),
        ),
      )
      const text = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n / 2)), (b) => b.toString(16).padStart(2, '0')).join('')
      const store = await openStore('quota-plain', { tabs: false })
      const errors: string[] = []
      store.on('error', (e) => errors.push(e.code))
      let failed: string | undefined
      for (let round = 0; round < rounds && failed === undefined; round++) {
        for (let i = 0; i < perRound; i++) store.set(`r${round}:k${i}`, text(valueBytes))
        await store.flush().catch((e: { code?: string }) => (failed = e.code))
      }
      const last = store.keys().length
      const written = store.keys().every((k) => store.get<string>(k)?.length === valueBytes)
      await store.close().catch(() => undefined)
      return { errors, failed, last, written }
    },
    { rounds: ROUNDS, perRound: PER_ROUND, valueBytes: VALUE_BYTES },
  )
  expect(plain.failed).toBe('STORAGE_FAILED')
  expect(plain.errors).toContain('STORAGE_FAILED')
  expect(plain.written).toBe(true) // every write is still in memory
  await context.close()
})
