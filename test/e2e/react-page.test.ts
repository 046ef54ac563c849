/**
 * The demo's React page (demo/react/, @tidekv/react): a todo list on the
 * same store. Two devices, one working offline, both add and tick todos,
 * and converge once it is back; the main page links to it; it passes an
 * axe-core scan at desktop and phone sizes.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { onCleanup } from '../helpers/relay.js'
import { axeViolations } from './axe.js'
import { launchChromium } from './chromium.js'
import { demoUrl, newDevice, openDemo, startDemoRelay } from './demo-fixtures.js'

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

async function openTodos(page: Page, url: string): Promise<Page> {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  onCleanup(() => expect(errors).toEqual([]))
  await page.goto(url)
  await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' })
  return page
}

const status = (page: Page, s: string) => page.locator(`[data-testid="status"][data-status="${s}"]`).waitFor()

async function addTodo(page: Page, title: string): Promise<void> {
  await page.getByTestId('todo-input').fill(title)
  await page.getByTestId('todo-add').click()
  await page.locator('[data-testid="todo"]', { hasText: title }).waitFor()
}

const titles = (page: Page) => page.locator('[data-testid="todo"] label span').allTextContents()

test('two devices, one offline, add and tick todos and converge; the inspector shows them', async () => {
  const relay = await startDemoRelay()
  const url = new URL('react/', demoUrl(relay, { room: 'todos' })).href.replace('/react/', '/react/?room=todos')
  const a = await openTodos(await (await newDevice(browser)).newPage(), url)
  const b = await openTodos(await (await newDevice(browser)).newPage(), url)
  await Promise.all([status(a, 'synced'), status(b, 'synced')])

  await addTodo(a, 'Buy milk')
  await b.locator('[data-testid="todo"]', { hasText: 'Buy milk' }).waitFor()

  // B works offline: its todos and ticks wait; A goes on meanwhile.
  await b.getByTestId('toggle-online').click()
  await status(b, 'offline')
  await addTodo(b, 'Walk the dog')
  await b.locator('[data-testid="todo"]', { hasText: 'Buy milk' }).getByTestId('todo-done').check()
  await addTodo(a, 'Call mum')
  expect(await titles(a)).toEqual(['Buy milk', 'Call mum'])

  await b.getByTestId('toggle-online').click()
  await Promise.all([status(a, 'synced'), status(b, 'synced')])
  for (const page of [a, b]) {
    await expect.poll(() => titles(page)).toEqual(['Buy milk', 'Walk the dog', 'Call mum'])
    await expect.poll(() => page.locator('[data-testid="todo"]', { hasText: 'Buy milk' }).getAttribute('data-done')).toBe('true')
    await expect.poll(() => page.locator('[data-testid="inspector-row"]').count()).toBe(3)
  }
})

test('the main page links to it, keeping its room', async () => {
  const relay = await startDemoRelay()
  const page = await openDemo(await newDevice(browser), demoUrl(relay, { room: 'linked' }))
  await page.getByTestId('react-link').click()
  await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' })
  expect(new URL(page.url()).pathname).toBe('/react/')
  expect(await page.evaluate(() => window.tidekv?.name)).toBe('linked')
})

for (const viewport of [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
]) {
  test(`passes axe-core at ${viewport.name} size, light and dark, with todos and the inspector open`, async () => {
    const relay = await startDemoRelay()
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ viewport, colorScheme })
      onCleanup(() => context.close())
      const page = await openTodos(await context.newPage(), `${new URL('react/', relay.http).href}?room=axe-${colorScheme}`)
      await status(page, 'synced')
      await addTodo(page, 'One')
      await addTodo(page, 'Two')
      await page.locator('[data-testid="todo"]', { hasText: 'Two' }).getByTestId('todo-done').check()
      await page.locator('[data-testid="inspector-row"]').first().getByTestId('inspector-row-key').click()
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(colorScheme)
      const violations = await axeViolations(page)
      expect(violations, `${colorScheme}: ${JSON.stringify(violations, null, 1)}`).toEqual([])
    }
  })
}
