/**
 * <tidekv-inspector> in the demo, in Chromium: what it shows of two devices
 * writing, its edits reaching the other device, the keyboard, and an
 * accessibility scan (axe-core, WCAG 2.1 AA) of the whole demo with the
 * inspector open, at desktop and phone sizes, light and dark.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { onCleanup } from '../helpers/relay.js'
import { axeViolations } from './axe.js'
import { launchChromium } from './chromium.js'
import { addKey, demoUrl, keyRow, newDevice, openDemo, pageErrorsOf, startDemoRelay, storeGet, waitStatus } from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

const inspector = (page: Page) => page.getByTestId('inspector')

test('shows another device’s write as it lands, the picked key whole, and its edits reach the other device', async () => {
  const relay = await startDemoRelay()
  const url = demoUrl(relay, { room: 'inspector' })
  const a = await openDemo(await newDevice(browser), url)
  const b = await openDemo(await newDevice(browser), url)
  await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
  await expect.poll(() => inspector(a).getByTestId('inspector-status').textContent()).toBe('synced')
  expect(await inspector(a).getByTestId('inspector-relay').textContent()).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/)

  // B writes; A's row flashes, marked as another device's.
  await b.evaluate(() => window.tidekv?.set('note:remote', { text: 'from b', tags: ['x', 'y'] }, { ttl: 600_000 }))
  await keyRow(a, 'note:remote').waitFor()
  await expect.poll(() => keyRow(a, 'note:remote').getAttribute('data-origin')).toBe('remote')
  expect(await keyRow(a, 'note:remote').getByTestId('inspector-row-origin').textContent()).toBe('another device')
  // The row flashes (a CSS animation named for the origin); a second write restarts it under its twin's name.
  const flash = () => keyRow(a, 'note:remote').evaluate((row) => getComputedStyle(row).animationName)
  expect(await flash()).toBe('flash-remote')
  await b.evaluate(() => window.tidekv?.set('note:remote', { text: 'from b', tags: ['x', 'y'] }, { ttl: 600_000 })) // the same value, written again
  await expect.poll(flash).toBe('flash-remote-again')
  const ttl = Number(await keyRow(a, 'note:remote').getByTestId('inspector-row-ttl').getAttribute('data-ttl'))
  expect(ttl).toBeGreaterThan(590_000)
  await expect.poll(async () => Number(await keyRow(a, 'note:remote').getByTestId('inspector-row-ttl').getAttribute('data-ttl'))).toBeLessThan(ttl) // counting down

  // A picks it: the whole value, as a tree; edits it; B has the edit.
  await keyRow(a, 'note:remote').getByTestId('inspector-row-key').click()
  expect(await a.getByTestId('inspector-detail-value').textContent()).toContain('text: "from b"')
  await a.getByTestId('inspector-value').fill('{"text": "edited on a"}')
  await a.getByTestId('inspector-save').click()
  await expect.poll(() => storeGet(b, 'note:remote')).toEqual({ text: 'edited on a' })
  expect(await keyRow(b, 'note:remote').getAttribute('data-origin')).toBe('remote')

  // A data structure is shown, not edited; a TTL can be set on it; a delete reaches B.
  await a.getByTestId('lb-plus-10').click()
  await keyRow(a, 'leaderboard').getByTestId('inspector-row-key').click()
  expect(await a.getByTestId('inspector-detail-type').textContent()).toBe('zset')
  await a.getByTestId('inspector-members').waitFor()
  expect(await a.getByTestId('inspector-form').isHidden()).toBe(true)
  await a.getByTestId('inspector-expire').fill('3600')
  await a.getByTestId('inspector-set-ttl').click()
  await expect.poll(() => b.evaluate(() => window.tidekv?.ttl('leaderboard'))).toBeGreaterThan(3_500_000)
  await keyRow(a, 'note:remote').getByTestId('inspector-row-delete').click()
  await keyRow(b, 'note:remote').waitFor({ state: 'detached' })
  expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
})

test('is usable from the keyboard: Tab to a key, Enter to open it, arrows between keys, edit and save', async () => {
  const relay = await startDemoRelay()
  const page = await openDemo(await newDevice(browser), demoUrl(relay, { room: 'keys', relay: 'off' }))
  await waitStatus(page, 'local')
  await addKey(page, 'k:1', 1)
  await addKey(page, 'k:2', 2)
  const prefix = page.getByTestId('inspector-prefix')
  await prefix.fill('k:')
  await keyRow(page, 'k:2').waitFor()
  await prefix.focus()
  await page.keyboard.press('Tab') // New key
  await page.keyboard.press('Tab') // the first key
  await page.keyboard.press('ArrowDown') // the second
  await page.keyboard.press('Enter')
  expect(await page.getByTestId('inspector-detail-key').textContent()).toBe('k:2')
  // The value field has the focus: replace it, then Tab to Save.
  await page.keyboard.press('Control+A')
  await page.keyboard.type('"typed"')
  await page.keyboard.press('Tab') // TTL
  await page.keyboard.press('Tab') // Save
  await page.keyboard.press('Enter')
  await expect.poll(() => storeGet(page, 'k:2')).toBe('typed')
})

for (const viewport of [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
]) {
  test(`the demo, inspector open, passes axe-core at ${viewport.name} size, light and dark`, async () => {
    const relay = await startDemoRelay()
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ viewport, colorScheme })
      onCleanup(() => context.close())
      const page = await openDemo(context, demoUrl(relay, { room: `axe-${viewport.name}-${colorScheme}` }))
      await waitStatus(page, 'synced')
      await page.getByTestId('lb-plus-10').click()
      await addKey(page, 'note:axe', { text: 'scanned', bytes: [1, 2] })
      await keyRow(page, 'note:axe').getByTestId('inspector-row-key').click()
      await page.getByTestId('inspector-detail').waitFor()
      const violations = await axeViolations(page)
      expect(violations, `${viewport.name}, ${colorScheme}: ${JSON.stringify(violations, null, 1)}`).toEqual([])
      // An avatar's color comes from its device id: every hue must pass, not just this device's.
      for (let hue = 0; hue < 360; hue += 30) {
        await page.evaluate((h) => document.querySelectorAll<HTMLElement>('.avatar').forEach((a) => a.style.setProperty('--hue', String(h))), hue)
        expect(await axeViolations(page, '.avatar'), `avatar hue ${hue}`).toEqual([])
      }
    }
  })
}
