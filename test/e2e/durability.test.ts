/**
 * Durability: once `await store.flush()` has resolved in the page, the data
 * survives the browser being killed (SIGKILL to the browser and every process
 * it started, not a close), and a new browser on the same profile folder finds
 * it in IndexedDB. The store has no relay (`?relay=off`), so nothing can come
 * back from elsewhere.
 *
 * We start Chromium ourselves (`spawnChromium`) to know its pid: Playwright's
 * launchPersistentContext does not expose its process.
 */
import { expect, test } from 'vitest'
import { onCleanup, tempDir } from '../helpers/relay.js'
import { spawnChromium } from './chromium.js'
import { addKey, appliedTheme, callApi, demoUrl, keyRow, openDemo, pageErrorsOf, rateCount, startDemoRelay, storeFlush, storeGet, waitStatus } from './demo-fixtures.js'

async function startBrowser(userDataDir: string): Promise<Awaited<ReturnType<typeof spawnChromium>>> {
  const chromium = await spawnChromium(userDataDir)
  onCleanup(() => chromium.kill())
  return chromium
}

test('data flushed in the page survives the browser process being killed', async () => {
  const relay = await startDemoRelay()
  const profile = tempDir()
  const url = demoUrl(relay, { room: 'durable', relay: 'off', rateLimit: 1000, rateWindow: 600 })
  const bytes = [0, 1, 2, 250, 255]

  const first = await startBrowser(profile)
  const [context] = first.browser.contexts()
  if (context === undefined) throw new Error('the persistent browser has no default context')
  const page = await openDemo(context, url)
  await waitStatus(page, 'local')
  await page.getByTestId('pref-theme-dark').click()
  await addKey(page, 'note:durable', { text: 'flushed', n: 7 })
  await callApi(page, 3)
  await page.evaluate((b) => window.tidekv?.set('bytes', { data: new Uint8Array(b) }), bytes)
  await storeFlush(page)
  expect(pageErrorsOf(page)).toEqual([])

  await first.kill()
  expect(first.browser.isConnected()).toBe(false)

  const second = await startBrowser(profile)
  const [again] = second.browser.contexts()
  if (again === undefined) throw new Error('the persistent browser has no default context')
  const reopened = await openDemo(again, url)
  expect(await storeGet(reopened, 'note:durable')).toEqual({ text: 'flushed', n: 7 })
  expect(await storeGet(reopened, 'prefs:theme')).toBe('dark')
  expect(await storeGet(reopened, 'rate:api')).toBe(3)
  expect(
    await reopened.evaluate(() => {
      const value = window.tidekv?.get<{ data: Uint8Array }>('bytes')
      return value === undefined ? null : [...value.data]
    }),
  ).toEqual(bytes)
  expect(await appliedTheme(reopened)).toBe('dark')
  expect(await rateCount(reopened)).toBe(3)
  await keyRow(reopened, 'note:durable').waitFor()
  expect(pageErrorsOf(reopened)).toEqual([])
})
