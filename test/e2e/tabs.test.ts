/**
 * Tabs: two pages of one browser context (one device) with no relay
 * (`?relay=off`) share one IndexedDB database and converge through the
 * store's BroadcastChannel.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { launchChromium } from './chromium.js'
import { addKey, appliedTheme, callApi, demoUrl, keyRow, newDevice, openDemo, pageErrorsOf, rateCount, socketsOf, startDemoRelay, storeGet, waitStatus } from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

test('two tabs without a relay converge through BroadcastChannel', async () => {
  // The relay only serves the page here: the store has no sync.
  const relay = await startDemoRelay()
  const device = await newDevice(browser)
  const url = demoUrl(relay, { room: 'tabs', relay: 'off', rateLimit: 1000, rateWindow: 600 })
  const one = await openDemo(device, url)
  const two = await openDemo(device, url)
  await Promise.all([waitStatus(one, 'local'), waitStatus(two, 'local')])
  expect([...socketsOf(one), ...socketsOf(two)]).toEqual([])

  // Each tab sees the other (presence keys), and both are one device.
  for (const page of [one, two]) {
    await expect.poll(() => page.getByTestId('presence-count').getAttribute('data-count')).toBe('2')
    expect(await page.getByTestId('presence-devices').getAttribute('data-count')).toBe('1')
  }

  // Two tabs of one window: a background tab gets no animation frames, and clicks wait for them (Playwright's
  // stability check runs on animation frames), so bring a tab to the front before driving it.
  await one.bringToFront()
  await one.getByTestId('pref-theme-dark').click()
  await expect.poll(() => appliedTheme(two)).toBe('dark')
  await two.bringToFront()
  await two.getByTestId('pref-language').selectOption('fr')
  await one.locator('html[lang="fr"]').waitFor({ state: 'attached' })

  await addKey(two, 'note:tab', { from: 'two' })
  await keyRow(one, 'note:tab').waitFor()
  expect(await storeGet(one, 'note:tab')).toEqual({ from: 'two' })
  // The other tab's watchers saw it come from a tab.
  expect(await keyRow(one, 'note:tab').getAttribute('data-origin')).toBe('tab')

  await one.bringToFront()
  await callApi(one, 2)
  await two.bringToFront()
  await callApi(two, 3)
  for (const page of [one, two]) await expect.poll(() => rateCount(page)).toBe(5)
  expect([...pageErrorsOf(one), ...pageErrorsOf(two)]).toEqual([])
})
