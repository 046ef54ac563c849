/**
 * The inspector row of `npm run bench:browser`: <tidekv-inspector> on a
 * store of N keys — its first draw, a page turn, and a change to a key on
 * the page until its row shows it. It pages from `store.keys`, so none of
 * these should grow with N.
 */
import '@tidekv/inspector'
import { openStore, type Store } from '@tidekv/client'

const now = (): number => performance.now()
const keyOf = (i: number): string => `k:${String(i).padStart(7, '0')}`

let mounted: { store: Store; el: HTMLElement; version: number } | null = null

/** Fills a store with `n` keys, then times the inspector's first draw of it (synchronous, in the `store` setter). */
export async function inspectorMount(name: string, n: number): Promise<number> {
  const store = await openStore(name, { persist: false, tabs: false })
  store.batch(() => {
    for (let i = 0; i < n; i++) store.set(keyOf(i), { i, label: `item ${i}` })
  })
  await store.flush()
  const el = document.createElement('tidekv-inspector')
  document.body.append(el)
  const t0 = now()
  el.store = store
  const ms = now() - t0
  mounted = { store, el, version: 0 }
  return ms
}

/** Next page, then back: the time of each draw (synchronous on click). */
export function inspectorTurn(): number {
  const root = mounted!.el.shadowRoot!
  const t0 = now()
  root.querySelector<HTMLButtonElement>('[data-testid="inspector-next"]')!.click()
  const t1 = now()
  root.querySelector<HTMLButtonElement>('[data-testid="inspector-prev"]')!.click()
  return (t1 - t0 + (now() - t1)) / 2
}

/** Sets key `i` (on the first page): the time until its row shows the new value. */
export async function inspectorChange(i: number): Promise<number> {
  const m = mounted!
  const cell = m.el.shadowRoot!.querySelector(`[data-testid="inspector-row"][data-key="${keyOf(i)}"] [data-testid="inspector-row-value"]`)!
  const label = `changed ${++m.version}`
  const shown = new Promise<number>((resolve) => {
    const observer = new MutationObserver(() => {
      if (cell.textContent?.includes(label) === true) {
        observer.disconnect()
        resolve(now())
      }
    })
    observer.observe(cell, { childList: true, characterData: true, subtree: true })
  })
  const t0 = now()
  m.store.set(keyOf(i), { i, label })
  return (await shown) - t0
}

export async function inspectorUnmount(): Promise<void> {
  const m = mounted
  mounted = null
  m?.el.remove()
  await m?.store.close()
}
