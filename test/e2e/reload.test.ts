/**
 * Reloads: what a page wrote is still there after a reload (real IndexedDB),
 * and with the relay stopped the page still loads — the service worker
 * answers from the app shell it cached — and still has its data.
 *
 * Service workers need a secure context; http://127.0.0.1 is one.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { launchChromium } from './chromium.js'
import {
  addKey,
  appliedTheme,
  callApi,
  demoUrl,
  keyRow,
  newDevice,
  openDemo,
  pageErrorsOf,
  rateCount,
  startDemoRelay,
  storeFlush,
  storeGet,
  waitReady,
  waitServiceWorker,
  waitStatus,
} from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

test('values survive a reload, and a reload with the relay stopped: the service worker serves the app, IndexedDB the data', async () => {
  const relay = await startDemoRelay()
  const page = await openDemo(await newDevice(browser), demoUrl(relay, { room: 'reload', rateLimit: 1000, rateWindow: 600 }))
  await waitStatus(page, 'synced')
  await waitServiceWorker(page)

  await page.getByTestId('pref-theme-dark').click()
  await page.getByTestId('pref-font-size').fill('19')
  await addKey(page, 'note:reload', { text: 'still here', n: 1 })
  await callApi(page, 3)
  // A reload is not a crash, but a write still in flight when the page goes may be lost: wait until it is on disk.
  await storeFlush(page)

  await page.reload()
  await waitReady(page)
  const check = async (): Promise<void> => {
    expect(await storeGet(page, 'note:reload')).toEqual({ text: 'still here', n: 1 })
    expect(await storeGet(page, 'prefs:theme')).toBe('dark')
    expect(await storeGet(page, 'prefs:fontSize')).toBe(19)
    expect(await storeGet(page, 'rate:api')).toBe(3)
    expect(await appliedTheme(page)).toBe('dark')
    expect(await rateCount(page)).toBe(3)
    await keyRow(page, 'note:reload').waitFor()
  }
  await check()
  await waitStatus(page, 'synced')

  await relay.stop()
  const response = await page.reload()
  expect(response?.fromServiceWorker()).toBe(true)
  await waitReady(page)
  await check()
  // The page says it is offline once the relay has been out of reach for a moment.
  await page.locator('html[data-offline="true"]').waitFor({ state: 'attached' })
  expect(await page.getByTestId('offline-banner').getAttribute('data-reason')).toBe('relay')
  expect(await page.evaluate(() => window.tidekv?.status)).not.toBe('synced')
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true)

  // And it keeps working offline.
  await callApi(page, 1)
  expect(await rateCount(page)).toBe(4)
  expect(pageErrorsOf(page)).toEqual([])
})
