/**
 * Before the browser tests (vitest `globalSetup` of the e2e project): checks
 * that Chromium is there, and builds the demo into demo/dist, which the relay
 * serves to the browser. The build always runs (a second or two), so the
 * tests drive the code in the tree, never a stale build.
 */
import { buildDemo } from './build-demo.js'
import { assertChromium } from './chromium.js'

export default async function setup(): Promise<void> {
  assertChromium()
  await buildDemo()
}
