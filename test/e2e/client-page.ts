/**
 * Serves a blank page with the client library on `window.tidekvClient`
 * (pages/client-page.ts, bundled from the sources with esbuild), on
 * 127.0.0.1, port 0, for browser tests that open their own stores rather
 * than drive the demo.
 *
 * No test framework in here.
 */
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { bundleForBrowser, pageFiles } from '../helpers/esbuild-sources.js'
import { serveStatic, type StaticServer } from '../bench/static-server.js'

const ENTRY = fileURLToPath(new URL('./pages/client-page.ts', import.meta.url))

/** Bundles the page and serves it; `close()` stops the server. */
export async function serveClientPage(): Promise<StaticServer> {
  return serveStatic(pageFiles('loading', await bundleForBrowser(ENTRY)))
}

/** A new page of `context` on the served page, once the library is there. */
export async function openClientPage(context: BrowserContext, server: StaticServer): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${server.origin}/`)
  await page.waitForFunction(() => window.tidekvClient !== undefined)
  return page
}
