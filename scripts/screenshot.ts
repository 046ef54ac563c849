/**
 * `npm run screenshot`: regenerates docs/demo.png, the picture at the top of
 * the README — the demo open on two devices, in sync — and
 * docs/inspector.png, the demo's `<tidekv-inspector>` with a key picked.
 *
 * Builds the demo, starts a relay on a free port serving it, opens the page in
 * two browser contexts (two devices: separate storage), has each do a few
 * things (a session, API calls, a key, a preference), waits until both show
 * the same state, screenshots each, and puts the two side by side on one
 * image (a small HTML page of the two shots, itself screenshotted).
 *
 * Uses Debian's Chromium like the browser tests (`npm run screenshot` checks
 * for it first). Everything it starts is stopped on the way out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type RelayProcess, spawnRelay } from '../test/helpers/relay-cli.js'
import { buildDemo } from '../test/e2e/build-demo.js'
import { launchChromium } from '../test/e2e/chromium.js'

const OUT = fileURLToPath(new URL('../docs/demo.png', import.meta.url))
const INSPECTOR_OUT = fileURLToPath(new URL('../docs/inspector.png', import.meta.url))
const DEMO_DIST = fileURLToPath(new URL('../demo/dist/', import.meta.url))
/** Each device's window. */
const VIEWPORT = { width: 760, height: 1260 }
/** Longest wait for one condition on a page. */
const TIMEOUT_MS = 30_000

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidekv-screenshot-'))
  let relay: RelayProcess | undefined
  let browser: Browser | undefined
  try {
    console.log('screenshot: building the demo')
    await buildDemo()
    relay = await spawnRelay({ dataDir, args: ['--static', DEMO_DIST] })
    browser = await launchChromium()
    const url = `${relay.http}/?room=demo&sessionTtl=90&rateWindow=60`

    const contextA = await newDevice(browser)
    const contextB = await newDevice(browser)
    const a = await openDemo(contextA, url)
    const b = await openDemo(contextB, url)
    for (const page of [a, b]) await page.locator('[data-testid="status"][data-status="synced"]').waitFor()

    // A little of everything, from both sides.
    await a.getByTestId('session-start').click()
    for (let i = 0; i < 2; i++) await a.getByTestId('rate-call').click()
    await b.getByTestId('rate-call').click()
    await b.getByTestId('pref-font-size').fill('15')
    await addKey(b, 'todo:1', { title: 'Buy milk', done: false })
    await addKey(a, 'user:1:prefs', { theme: 'dark', notifications: true })
    await b.getByTestId('inspector-new').click()
    await a.getByTestId('inspector-new').click()

    // In sync: both show the same counts, the same keys, the session, both devices, and writes on the relay's disk.
    for (const page of [a, b]) {
      await page.locator('[data-testid="rate-count"][data-count="3"]').waitFor()
      await page.locator('[data-testid="session-state"][data-active="true"]').waitFor()
      await page.locator('[data-testid="presence-devices"][data-count="2"]').waitFor()
      await page.locator('[data-testid="inspector-row"][data-key="todo:1"]').waitFor()
      await page.locator('[data-testid="inspector-row"][data-key="user:1:prefs"]').waitFor()
      await page.locator('html[data-sw="ready"]').waitFor({ state: 'attached' })
      await page.waitForFunction(() => document.documentElement.style.fontSize === '15px')
    }
    await a.locator('[data-testid="relay-saved"][data-state="saved"]').waitFor()
    await b.locator('[data-testid="relay-saved"][data-state="saved"]').waitFor()
    for (const page of [a, b]) {
      // The top of the page, nothing focused or hovered, and no change highlights still running (remote writes flash their card).
      // CSS transitions do not count: the session ring's starts afresh on every 200 ms tick of its countdown, so waiting
      // for a moment without one is a race (it timed out now and then); the shot's `animations: 'disabled'` ends them.
      await page.mouse.move(0, 0)
      await page.evaluate(() => {
        if (document.activeElement instanceof HTMLElement) document.activeElement.blur()
        window.scrollTo(0, 0)
      })
      await page.waitForFunction(
        () => window.scrollY === 0 && document.getAnimations().every((animation) => animation instanceof CSSTransition || animation.playState !== 'running'),
      )
    }

    const shots = await Promise.all([a, b].map((page) => page.screenshot({ animations: 'disabled', caret: 'hide' })))
    const [nameA, nameB] = await Promise.all([a, b].map((page) => page.getByTestId('footer-device').innerText()))
    await compose(browser, shots, [`Device 1 · ${nameA}`, `Device 2 · ${nameB}`])
    console.log(`screenshot: wrote ${OUT}`)

    // The inspector on device 1, a key written on device 2 picked (a flash of its origin stays on the row).
    await b.evaluate(() => window.tidekv?.set('todo:1', { title: 'Buy milk', done: true, tags: ['shop', 'today'] }, { ttl: 3_600_000 }))
    const row = a.locator('[data-testid="inspector-row"][data-key="todo:1"]')
    await a.locator('[data-testid="inspector-row"][data-key="todo:1"][data-origin="remote"]').waitFor()
    await row.getByTestId('inspector-row-key').click()
    await a.getByTestId('inspector-prefix').fill('')
    await a.mouse.move(0, 0)
    await a.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()) // reason: the focused element, if any, is an element of the page
    writeFileSync(INSPECTOR_OUT, await a.getByTestId('inspector').screenshot({ animations: 'disabled', caret: 'hide' }))
    console.log(`screenshot: wrote ${INSPECTOR_OUT}`)
  } finally {
    await browser?.close()
    await relay?.kill()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function newDevice(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, colorScheme: 'light', locale: 'en-US' })
  context.setDefaultTimeout(TIMEOUT_MS)
  return context
}

async function openDemo(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(url)
  await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' })
  return page
}

async function addKey(page: Page, key: string, value: unknown): Promise<void> {
  await page.getByTestId('inspector-new').click()
  await page.getByTestId('inspector-key').fill(key)
  await page.getByTestId('inspector-value').fill(JSON.stringify(value))
  await page.getByTestId('inspector-save').click()
  await page.locator(`[data-testid="inspector-row"][data-key="${key}"]`).waitFor()
}

/** The two shots side by side, each under its caption, on one image at OUT. */
async function compose(browser: Browser, shots: readonly Buffer[], captions: readonly string[]): Promise<void> {
  const gap = 24
  const figures = shots
    .map(
      (shot, i) => `<figure>
        <figcaption>${escapeHtml(captions[i] ?? '')}</figcaption>
        <img src="data:image/png;base64,${shot.toString('base64')}" width="${VIEWPORT.width}" height="${VIEWPORT.height}" alt="">
      </figure>`,
    )
    .join('')
  const html = `<!doctype html><html><head><style>
    html, body { margin: 0; background: #e2e8f0; font: 600 15px/1.2 system-ui, sans-serif; color: #0f172a; }
    main { display: flex; gap: ${gap}px; padding: ${gap}px; width: max-content; }
    figure { margin: 0; }
    figcaption { margin: 0 0 10px 4px; }
    img { display: block; border-radius: 10px; box-shadow: 0 2px 10px rgb(15 23 42 / 0.18); }
  </style></head><body><main>${figures}</main></body></html>`
  const context = await browser.newContext({ viewport: { width: 2 * VIEWPORT.width + 3 * gap, height: VIEWPORT.height + 100 }, deviceScaleFactor: 1 })
  try {
    const page = await context.newPage()
    await page.setContent(html)
    await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete && img.naturalWidth > 0))
    const png = await page.locator('main').screenshot({ animations: 'disabled' })
    writeFileSync(OUT, png)
  } finally {
    await context.close()
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
