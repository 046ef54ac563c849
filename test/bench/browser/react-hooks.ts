/**
 * The @tidekv/react row of `npm run bench:browser`: N components, each
 * reading one key with `useValue`, rendered by React (production build);
 * then one key changes. Counts the components that rendered for it and
 * times it from `store.set` to React's commit of the new value (the
 * changed component's layout effect). No JSX: this page is bundled as .ts.
 */
import { createElement, useLayoutEffect } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { openStore, type Store } from '@tidekv/client'
import { useValue } from '@tidekv/react'

const now = (): number => performance.now()

interface Mounted {
  store: Store
  root: Root
  container: HTMLElement
  renders: number
  version: number
  committed: ((key: string, value: unknown) => void) | null
}

let mounted: Mounted | null = null

function Cell({ store, k }: { store: Store; k: string }) {
  mounted!.renders++
  const value = useValue<string>(store, k)
  useLayoutEffect(() => mounted?.committed?.(k, value))
  return createElement('span', null, value ?? '')
}

/** Opens a store with `n` keys and renders a component for each; resolves with the time to the first commit of all. */
export async function reactMount(name: string, n: number): Promise<number> {
  const store = await openStore(name, { persist: false, tabs: false })
  store.batch(() => {
    for (let i = 0; i < n; i++) store.set(`k${i}`, `v${i}`)
  })
  await store.flush()
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  mounted = { store, root, container, renders: 0, version: 0, committed: null }
  const t0 = now()
  await new Promise<void>((resolve) => {
    let seen = 0
    mounted!.committed = () => {
      if (++seen === n) resolve()
    }
    root.render(
      createElement(
        'div',
        null,
        Array.from({ length: n }, (_, i) => createElement(Cell, { key: i, store, k: `k${i}` })),
      ),
    )
  })
  return now() - t0
}

/** Changes key `k<i>`: the time from `set` to the commit of its new value, and how many components rendered for it. */
export async function reactChange(i: number): Promise<{ ms: number; renders: number }> {
  const m = mounted!
  const key = `k${i}`
  const next = `changed ${++m.version}`
  const committed = new Promise<number>((resolve) => {
    m.committed = (k, v) => {
      if (k === key && v === next) resolve(now())
    }
  })
  const before = m.renders
  const t0 = now()
  m.store.set(key, next)
  const t1 = await committed
  // Any other component that would render for this change has done so by the next task.
  await new Promise((resolve) => setTimeout(resolve, 10))
  return { ms: t1 - t0, renders: m.renders - before }
}

export async function reactUnmount(): Promise<void> {
  const m = mounted
  mounted = null
  m?.root.unmount()
  m?.container.remove()
  await m?.store.close()
}
