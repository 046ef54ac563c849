/**
 * Two devices (two browser contexts: separate IndexedDB, localStorage,
 * service workers and network) on the demo, synced through a relay process:
 * preferences follow the user, and edits and counter increments made while
 * one device is offline all count once it is back.
 *
 * Going offline, two ways:
 * - the demo's "work offline" switch (`store.disconnect()`): the socket is
 *   closed, the status is 'offline';
 * - `context.setOffline(true)` (Chromium's network emulation): it does NOT
 *   close the open WebSocket. It freezes it: no frame passes either way, the
 *   page's store still says 'synced', and `navigator.onLine` is false (the
 *   demo's banner says "no network"). New connections fail at once
 *   (ERR_INTERNET_DISCONNECTED). After 30 s without a message y-websocket gives
 *   up on the frozen socket and reconnects (and fails until the network is
 *   back); within that the held frames flow both ways on setOffline(false) and
 *   the socket carries on. The second test pins this.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium } from './chromium.js'
import { addKey, appliedTheme, callApi, demoUrl, keyRow, newDevice, openDemo, pageErrorsOf, rateCount, socketsOf, startDemoRelay, storeGet, waitStatus } from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

/** A rate window that cannot end during the test, and no blocking: the count is what matters. */
const RATE = { rateLimit: 1000, rateWindow: 600 }

describe('two devices', () => {
  test('a preference set on one device appears on the other, both ways', async () => {
    const relay = await startDemoRelay()
    const url = demoUrl(relay, { room: 'prefs' })
    const a = await openDemo(await newDevice(browser), url)
    const b = await openDemo(await newDevice(browser), url)
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])

    await a.getByTestId('pref-theme-dark').click()
    await b.locator('html[data-theme="dark"]').waitFor({ state: 'attached' })
    await expect.poll(() => storeGet(b, 'prefs:theme')).toBe('dark')

    await b.getByTestId('pref-language').selectOption('de')
    await b.getByTestId('pref-font-size').fill('20')
    await a.locator('html[lang="de"]').waitFor({ state: 'attached' })
    await expect.poll(() => a.getByTestId('pref-language').inputValue()).toBe('de')
    await expect.poll(() => a.evaluate(() => document.documentElement.style.fontSize)).toBe('20px')
    await expect.poll(() => storeGet(a, 'prefs:fontSize')).toBe(20)

    expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
  })

  test('edits and API calls made while one device works offline (the switch) all count after it reconnects', async () => {
    const relay = await startDemoRelay()
    const url = demoUrl(relay, { room: 'offline-switch', ...RATE })
    const a = await openDemo(await newDevice(browser), url)
    const b = await openDemo(await newDevice(browser), url)
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])

    // The checkbox sits under the switch's drawn track: click its label, as a person would.
    await a.locator('label', { has: a.getByTestId('offline-switch') }).click()
    expect(await a.getByTestId('offline-switch').isChecked()).toBe(true)
    await waitStatus(a, 'offline')
    await a.locator('html[data-offline="true"]').waitFor({ state: 'attached' })
    expect(await a.getByTestId('offline-banner').getAttribute('data-reason')).toBe('manual')
    await expect.poll(() => socketsOf(a).every((socket) => socket.isClosed())).toBe(true)

    await a.getByTestId('pref-theme-dark').click()
    await addKey(a, 'note:a', { from: 'a' })
    await callApi(a, 2)
    await b.getByTestId('pref-font-size').fill('18')
    await addKey(b, 'note:b', { from: 'b' })
    await callApi(b, 3)
    // Each side has only its own calls so far: nothing passes while A is offline.
    expect(await rateCount(a)).toBe(2)
    expect(await rateCount(b)).toBe(3)
    expect(await storeGet(b, 'note:a')).toBeUndefined()

    await a.getByTestId('offline-banner-go-online').click()
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
    for (const page of [a, b]) {
      await expect.poll(() => rateCount(page)).toBe(5)
      await expect.poll(() => appliedTheme(page)).toBe('dark')
      await expect.poll(() => storeGet(page, 'prefs:fontSize')).toBe(18)
      await keyRow(page, 'note:a').waitFor()
      await keyRow(page, 'note:b').waitFor()
    }
    expect(await a.getByTestId('offline-switch').isChecked()).toBe(false)
    expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
  })

  test('context.setOffline freezes the open socket rather than closing it; edits made meanwhile converge once the network is back', async () => {
    const relay = await startDemoRelay()
    const url = demoUrl(relay, { room: 'offline-network', ...RATE })
    const deviceA = await newDevice(browser)
    const a = await openDemo(deviceA, url)
    const b = await openDemo(await newDevice(browser), url)
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
    const [socket, ...more] = socketsOf(a)
    expect(socket?.isClosed()).toBe(false)
    expect(more).toEqual([])

    await deviceA.setOffline(true)
    await a.locator('html[data-offline="true"]').waitFor({ state: 'attached' })
    expect(await a.getByTestId('offline-banner').getAttribute('data-reason')).toBe('network')
    expect(await a.evaluate(() => navigator.onLine)).toBe(false)

    await a.getByTestId('pref-theme-dark').click()
    await addKey(a, 'note:a', { from: 'a' })
    await callApi(a, 2)
    await b.getByTestId('pref-font-size').fill('18')
    await addKey(b, 'note:b', { from: 'b' })
    await callApi(b, 3)
    expect(await rateCount(a)).toBe(2)
    expect(await rateCount(b)).toBe(3)
    expect(await storeGet(b, 'note:a')).toBeUndefined()
    // The socket is still open, and the store has not noticed anything.
    expect(socket?.isClosed()).toBe(false)
    expect(await a.evaluate(() => window.tidekv?.status)).toBe('synced')

    await deviceA.setOffline(false)
    for (const page of [a, b]) {
      await expect.poll(() => rateCount(page)).toBe(5)
      await expect.poll(() => appliedTheme(page)).toBe('dark')
      await expect.poll(() => storeGet(page, 'prefs:fontSize')).toBe(18)
      await keyRow(page, 'note:a').waitFor()
      await keyRow(page, 'note:b').waitFor()
    }
    await a.locator('html[data-offline="false"]').waitFor({ state: 'attached' })
    // The same socket carried it all: no reconnect happened.
    expect(socket?.isClosed()).toBe(false)
    expect(socketsOf(a)).toHaveLength(1)
    expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
  })
})

describe('pub/sub', () => {
  test('"Ping my devices" shows a toast on every other tab and device, not on the sender', async () => {
    const relay = await startDemoRelay()
    const url = demoUrl(relay, { room: 'ping' })
    const laptop = await newDevice(browser)
    const sender = await openDemo(laptop, url)
    const otherTab = await openDemo(laptop, url)
    const phone = await openDemo(await newDevice(browser), url)
    await Promise.all([sender, otherTab, phone].map((page) => waitStatus(page, 'synced')))
    await sender.bringToFront()
    await sender.getByTestId('ping').click()
    await phone.getByTestId('toast').filter({ hasText: 'Ping from' }).first().waitFor()
    await otherTab.getByTestId('toast').filter({ hasText: 'Ping from' }).first().waitFor({ state: 'attached' })
    expect(await phone.getByTestId('toast').filter({ hasText: 'another device' }).count()).toBe(1)
    // Once, through whichever road came first: the tabs' channel, or the relay (a background tab's channel may lag).
    expect(await otherTab.getByTestId('toast').filter({ hasText: 'Ping from' }).count()).toBe(1)
    expect(await sender.getByTestId('toast').filter({ hasText: 'Ping from' }).count()).toBe(0)
    // Not stored: a page opened after the ping never shows it.
    const late = await openDemo(await newDevice(browser), url)
    await waitStatus(late, 'synced')
    expect(await late.getByTestId('toast').filter({ hasText: 'Ping from' }).count()).toBe(0)
    expect([...pageErrorsOf(sender), ...pageErrorsOf(otherTab), ...pageErrorsOf(phone), ...pageErrorsOf(late)]).toEqual([])
  })
})

describe('cache mode', () => {
  test('the cached API call panel: a miss loads, a hit does not, fetching others evicts within the budget', async () => {
    const relay = await startDemoRelay()
    const page = await openDemo(await newDevice(browser), demoUrl(relay, { room: 'cache' }))
    const fetchItem = async (n: number, result: 'hit' | 'miss') => {
      await page.getByTestId('cache-item').selectOption(String(n))
      await page.getByTestId('cache-fetch').click()
      await page.locator(`[data-testid="cache-result"][data-result="${result}"]`).waitFor()
    }
    const stat = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-value'))
    await fetchItem(1, 'miss')
    await fetchItem(1, 'hit')
    expect([await stat('cache-hits'), await stat('cache-misses')]).toEqual([1, 1])
    for (let n = 2; n <= 8; n++) await fetchItem(n, 'miss')
    expect(await stat('cache-evictions')).toBeGreaterThan(0)
    expect(await stat('cache-bytes')).toBeLessThanOrEqual(2048)
    await fetchItem(1, 'miss') // item 1 was the least recently used: evicted
    expect(pageErrorsOf(page)).toEqual([])
  })
})
