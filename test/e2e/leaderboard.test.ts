/**
 * The leaderboard (a sorted set, `leaderboard`) and the activity feed (a
 * stream, `activity`) on two devices (two browser contexts) synced through a
 * relay process, one of them working offline (the demo's switch, as in
 * devices.test.ts).
 *
 * What they pin: "+1"/"+10" are `sortedSet.incr`, per-device contributions,
 * so points scored for one player on both sides add up (last writer wins
 * would keep one side's score); "set score" is `add`, a new base that drops
 * increments made concurrently on the old one; stream ids order the entries
 * of both devices the same way everywhere; the feed stays bounded.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium } from './chromium.js'
import { demoUrl, newDevice, openDemo, pageErrorsOf, socketsOf, startDemoRelay, waitStatus } from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

/** The score the leaderboard shows for `player` (`[data-testid=lb-row]` `data-score`), or null when it lists no such row. */
async function shownScore(page: Page, player: string): Promise<number | null> {
  const row = page.locator(`[data-testid="lb-row"][data-player="${player}"]`)
  if ((await row.count()) === 0) return null
  return Number(await row.getAttribute('data-score'))
}

/** The feed as shown, newest first: each item's stream id, device id and text. */
function feed(page: Page): Promise<{ id: string; device: string; text: string }[]> {
  return page
    .getByTestId('activity-item')
    .evaluateAll((items: HTMLElement[]) => items.map((li) => ({ id: li.getAttribute('data-id') ?? '', device: li.getAttribute('data-device') ?? '', text: li.innerText })))
}

/** The entries the stream holds (`[data-testid=activity-count]` `data-count`). */
async function feedLength(page: Page): Promise<number> {
  return Number(await page.getByTestId('activity-count').getAttribute('data-count'))
}

/** This device's id (what its feed entries carry). */
function deviceIdOf(page: Page): Promise<string | null> {
  return page.evaluate(() => localStorage.getItem('tidekv-demo:device'))
}

/** Clicks the switch's label (the checkbox sits under its drawn track) and waits until the store is offline with its socket closed. */
async function workOffline(page: Page): Promise<void> {
  await page.locator('label', { has: page.getByTestId('offline-switch') }).click()
  await waitStatus(page, 'offline')
  await expect.poll(() => socketsOf(page).every((socket) => socket.isClosed())).toBe(true)
}

/** Compares stream ids `<ms>-<seq>` (both parts may exceed 2^53). */
function compareIds(x: string, y: string): number {
  const [xm = 0n, xs = 0n] = x.split('-').map(BigInt)
  const [ym = 0n, ys = 0n] = y.split('-').map(BigInt)
  return xm !== ym ? (xm < ym ? -1 : 1) : xs === ys ? 0 : xs < ys ? -1 : 1
}

describe('leaderboard and activity feed on two devices', () => {
  test('points scored for one player on two devices, one offline, add up; both feeds show every entry in the same order', async () => {
    const relay = await startDemoRelay()
    const url = demoUrl(relay, { room: 'leaderboard' })
    const a = await openDemo(await newDevice(browser), url)
    const b = await openDemo(await newDevice(browser), url)
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
    for (const page of [a, b]) await page.getByTestId('lb-player').fill('Ada')

    // Online: a point from A reaches B.
    await a.getByTestId('lb-plus-1').click()
    await expect.poll(() => shownScore(b, 'Ada')).toBe(1)

    await workOffline(a)
    await a.getByTestId('lb-plus-10').click()
    await a.getByTestId('lb-plus-1').click()
    await b.getByTestId('lb-plus-1').click()
    await b.getByTestId('lb-plus-1').click()
    await b.getByTestId('lb-plus-10').click()
    // Each side sees only its own points so far: 1 + 11 on A, 1 + 12 on B.
    expect(await shownScore(a, 'Ada')).toBe(12)
    expect(await shownScore(b, 'Ada')).toBe(13)
    expect(await feedLength(a)).toBe(3)
    expect(await feedLength(b)).toBe(4)

    await a.getByTestId('offline-banner-go-online').click()
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
    // The sum of both sides (1 + 11 + 12), not either side's last score.
    for (const page of [a, b]) {
      await expect.poll(() => shownScore(page, 'Ada')).toBe(24)
      expect(await page.getByTestId('lb-me').getAttribute('data-score')).toBe('24')
      expect(await page.getByTestId('lb-me').getAttribute('data-rank')).toBe('1')
      expect(await page.getByTestId('lb-count').getAttribute('data-count')).toBe('1')
    }

    // Six entries (three per device), newest first, the same on both pages.
    for (const page of [a, b]) await expect.poll(() => feedLength(page)).toBe(6)
    await expect.poll(async () => (await feed(a)).length).toBe(6)
    await expect.poll(async () => JSON.stringify(await feed(b))).toBe(JSON.stringify(await feed(a)))
    const shown = await feed(a)
    expect([...shown].sort((x, y) => compareIds(y.id, x.id))).toEqual(shown)
    const [deviceA, deviceB] = await Promise.all([deviceIdOf(a), deviceIdOf(b)])
    const points = (device: string | null): (string | undefined)[] => shown.filter((entry) => entry.device === device).map((entry) => /(\+\d+) for Ada$/.exec(entry.text)?.[1])
    expect(points(deviceA)).toEqual(['+1', '+10', '+1'])
    expect(points(deviceB)).toEqual(['+10', '+1', '+1'])
    expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
  })

  test('a score set on one device drops the points added concurrently on the other (offline)', async () => {
    const relay = await startDemoRelay()
    const url = demoUrl(relay, { room: 'leaderboard-reset' })
    const a = await openDemo(await newDevice(browser), url)
    const b = await openDemo(await newDevice(browser), url)
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
    for (const page of [a, b]) await page.getByTestId('lb-player').fill('Ada')
    await a.getByTestId('lb-plus-10').click()
    await expect.poll(() => shownScore(b, 'Ada')).toBe(10)

    await workOffline(a)
    await a.getByTestId('lb-plus-10').click()
    await b.getByTestId('lb-score').fill('100')
    await b.getByTestId('lb-set').click()
    expect(await shownScore(a, 'Ada')).toBe(20)
    expect(await shownScore(b, 'Ada')).toBe(100)

    await a.getByTestId('offline-banner-go-online').click()
    await Promise.all([waitStatus(a, 'synced'), waitStatus(b, 'synced')])
    // A's +10 was made on the score B's "set" replaced.
    for (const page of [a, b]) {
      await expect.poll(() => shownScore(page, 'Ada')).toBe(100)
      await expect.poll(() => feedLength(page)).toBe(3)
    }
    expect(JSON.stringify(await feed(b))).toBe(JSON.stringify(await feed(a)))
    expect([...pageErrorsOf(a), ...pageErrorsOf(b)]).toEqual([])
  })

  test('the feed keeps its newest 200 entries and shows the newest 20', async () => {
    const relay = await startDemoRelay()
    const page = await openDemo(await newDevice(browser), demoUrl(relay, { room: 'activity-trim' }))
    await waitStatus(page, 'synced')
    // 250 entries written through the store (as from the console), then one from the page, which trims.
    await page.evaluate(() => {
      const stream = window.tidekv!.stream('activity')
      for (let i = 0; i < 250; i++) stream.add({ note: `entry ${i}` })
    })
    await expect.poll(() => feedLength(page)).toBe(250)
    await page.getByTestId('lb-plus-1').click()
    await expect.poll(() => feedLength(page)).toBe(200)
    const shown = await feed(page)
    expect(shown).toHaveLength(20)
    expect(shown[0]?.text).toMatch(/\+1 for /)
    expect(shown[1]?.text).toContain('"note":"entry 249"')
    // 251 entries, trimmed to 200: entries 0 to 50 went.
    const oldest = await page.evaluate(() => window.tidekv!.stream('activity').range('-', '+', { count: 1 })[0]?.fields.note)
    expect(oldest).toBe('entry 51')
    expect(pageErrorsOf(page)).toEqual([])
  })
})
