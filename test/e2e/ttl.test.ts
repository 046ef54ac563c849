/**
 * TTL: the demo's session key, set with a short TTL (`?sessionTtl=3`) on one
 * device, reaches the other and disappears on both when it expires: every
 * replica drops it at that wall-clock time on its own.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { launchChromium } from './chromium.js'
import { demoUrl, keyRow, newDevice, openDemo, pageErrorsOf, startDemoRelay, storeGet, waitStatus } from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

const TTL_S = 3

test('a session key with a short TTL disappears on both devices', async () => {
  const relay = await startDemoRelay()
  const url = demoUrl(relay, { room: 'ttl', sessionTtl: TTL_S })
  const a = await openDemo(await newDevice(browser), url)
  const b = await openDemo(await newDevice(browser), url)
  await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])

  await a.getByTestId('session-start').click()
  // Both at once: the session lives only TTL_S seconds.
  await Promise.all(
    [a, b].map(async (page) => {
      await page.locator('[data-testid="session-state"][data-active="true"]').waitFor()
      const ttl = Number(await page.getByTestId('session-ttl').getAttribute('data-ttl'))
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(TTL_S * 1000)
      await keyRow(page, 'session').waitFor()
    }),
  )

  for (const page of [a, b]) {
    await page.locator('[data-testid="session-state"][data-active="false"]').waitFor({ timeout: (TTL_S + 10) * 1000 })
    expect(await page.getByTestId('session-ttl').getAttribute('data-ttl')).toBe('-2')
    expect(await storeGet(page, 'session')).toBeUndefined()
    expect(await page.evaluate(() => window.tidekv?.ttl('session'))).toBe(-2)
    await keyRow(page, 'session').waitFor({ state: 'detached' })
  }
  expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
})
