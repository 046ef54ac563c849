/**
 * The demo in a real browser, for the e2e tests: a relay process serving
 * demo/dist on 127.0.0.1 (a fresh port, so a fresh origin with empty storage,
 * for every test), devices (browser contexts) and pages that have mounted the
 * demo. Everything started here is closed or killed after the test, whatever
 * the test's outcome.
 *
 * The page tells its state in attributes (demo/README.md, "For tests"); the
 * helpers wait on those, never on time.
 */
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Locator, Page, WebSocket } from 'playwright-core'
import type { Store } from '@tidekv/client'
import { onCleanup, tempDir } from '../helpers/relay.js'
import { type RelayProcess, startRelayProcess } from '../helpers/relay-process.js'

declare global {
  interface Window {
    /** The demo page's store (demo/src/main.ts). */
    tidekv?: Store
  }
}

export const DEMO_DIST = fileURLToPath(new URL('../../demo/dist/', import.meta.url))

/** A relay process serving the built demo; killed after the test. */
export function startDemoRelay(dataDir: string = tempDir()): Promise<RelayProcess> {
  return startRelayProcess(dataDir, ['--static', DEMO_DIST])
}

/** The demo's URL on `relay` with these URL parameters (room, relay, rateLimit, rateWindow, sessionTtl). */
export function demoUrl(relay: RelayProcess, params: Record<string, string | number> = {}): string {
  const url = new URL('/', relay.http)
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, String(value))
  return url.href
}

/** A new device: a browser context with its own storage, closed after the test. */
export async function newDevice(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  onCleanup(() => context.close())
  return context
}

/** Uncaught errors of each page opened through `openDemo`. */
const pageErrors = new WeakMap<Page, string[]>()
/** The WebSockets each page opened through `openDemo` has opened, oldest first. */
const pageSockets = new WeakMap<Page, WebSocket[]>()

/** Opens the demo at `url` in a new page of `context` and waits until it has mounted. */
export async function openDemo(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  const errors: string[] = []
  const sockets: WebSocket[] = []
  pageErrors.set(page, errors)
  pageSockets.set(page, sockets)
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message))
  page.on('websocket', (socket) => sockets.push(socket))
  await page.goto(url)
  await waitReady(page)
  return page
}

/** Waits until the page has mounted (`<html data-ready="true">`); throws the page's own reason if it could not. */
export async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.ready !== undefined)
  const ready = await page.evaluate(() => document.documentElement.dataset.ready)
  if (ready !== 'true') {
    const message = await page.getByTestId('fatal-message').textContent()
    throw new Error(`the demo did not start (data-ready=${ready}): ${message}`)
  }
}

/** The uncaught errors the page has thrown so far. */
export function pageErrorsOf(page: Page): readonly string[] {
  return pageErrors.get(page) ?? []
}

/** The WebSockets the page has opened so far (the relay connection and any reconnects), oldest first. */
export function socketsOf(page: Page): readonly WebSocket[] {
  return pageSockets.get(page) ?? []
}

/** Waits until the store's status is `status` (`[data-testid=status]` has `data-status`). */
export async function waitStatus(page: Page, status: 'offline' | 'connecting' | 'syncing' | 'synced' | 'local'): Promise<void> {
  await page.locator(`[data-testid="status"][data-status="${status}"]`).waitFor()
}

/** Waits until the service worker has cached the app shell (`<html data-sw="ready">`). */
export async function waitServiceWorker(page: Page): Promise<void> {
  await page.locator('html[data-sw="ready"]').waitFor({ state: 'attached' })
}

/** The store's value of `key` in the page (`window.tidekv.get`). */
export function storeGet(page: Page, key: string): Promise<unknown> {
  return page.evaluate((k) => window.tidekv?.get(k), key)
}

/** Resolves once every write the page's store made so far is in IndexedDB (`await window.tidekv.flush()`). */
export async function storeFlush(page: Page): Promise<void> {
  await page.evaluate(async () => {
    if (window.tidekv === undefined) throw new Error('window.tidekv is not there')
    await window.tidekv.flush()
  })
}

/** Clicks the rate limiter's "Call the API" `times` times, each click awaited. */
export async function callApi(page: Page, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await page.getByTestId('rate-call').click()
}

/** Adds (or overwrites) `key` with the JSON `value` through the key browser's (the inspector's) form, and waits for its row. */
export async function addKey(page: Page, key: string, value: unknown): Promise<void> {
  await page.getByTestId('inspector-new').click()
  await page.getByTestId('inspector-key').fill(key)
  await page.getByTestId('inspector-value').fill(JSON.stringify(value))
  await page.getByTestId('inspector-save').click()
  await keyRow(page, key).waitFor()
}

/** The key browser's (the inspector's) row of `key`; Playwright's locators reach into its open shadow root. */
export function keyRow(page: Page, key: string): Locator {
  return page.locator(`[data-testid="inspector-row"][data-key="${key}"]`)
}

/** What the rate limiter shows as the count (`[data-testid=rate-count]` `data-count`). */
export async function rateCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('rate-count').getAttribute('data-count'))
}

/** The theme the page has applied (`<html data-theme>`). */
export function appliedTheme(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.documentElement.dataset.theme)
}
