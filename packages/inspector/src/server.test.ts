/**
 * In Node, with no DOM (a server render imports the app's modules): importing
 * the inspector throws nothing and defines nothing.
 */
import { expect, it } from 'vitest'

it('imports where there is no DOM without throwing', async () => {
  expect(typeof HTMLElement).toBe('undefined')
  const { TideKVInspector } = await import('./index.js')
  expect(typeof TideKVInspector).toBe('function')
})
