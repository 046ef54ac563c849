/**
 * `useStore`: a store owned by a component — opened on mount, closed on
 * unmount, reopened when its name changes.
 */
import { useEffect, useRef, useState } from 'react'
import { openStore, type Store, type StoreOptions } from '@tidekv/client'

interface Held {
  readonly name: string
  readonly opening: Promise<Store>
  closing: ReturnType<typeof setTimeout> | null
}

/**
 * Opens the store `name` when the component mounts and closes it when it
 * unmounts; null until it is open. `options` are read once (on the first
 * render and when `name` changes), so an inline object does not reopen it.
 * Under StrictMode, the mount React runs twice opens one store: closing is
 * put off to the next task, and a remount before then keeps it. A store
 * that fails to open throws from the render, for an error boundary. In a
 * component: `const store = useStore('prefs', { sync: { url: 'wss://relay.example.com' } })`.
 */
export function useStore(name: string, options?: StoreOptions): Store | null {
  // Which opening the state is of: a store of the same name opened earlier (and closed since) is not this one.
  const [state, setState] = useState<{ held: Held; store: Store } | { held: Held; error: unknown } | null>(null)
  const held = useRef<Held | null>(null)
  const optionsAtOpen = useRef(options)
  if (held.current?.name !== name) optionsAtOpen.current = options

  useEffect(() => {
    let current = held.current
    if (current !== null && current.name === name && current.closing !== null) {
      clearTimeout(current.closing)
      current.closing = null
    } else {
      current = { name, opening: openStore(name, optionsAtOpen.current), closing: null }
      held.current = current
    }
    const mine = current
    let mounted = true
    mine.opening.then(
      (store) => mounted && setState({ held: mine, store }),
      (error: unknown) => mounted && setState({ held: mine, error }),
    )
    return () => {
      mounted = false
      mine.closing = setTimeout(() => {
        if (held.current === mine) held.current = null
        mine.opening.then((store) => store.close()).catch(() => undefined)
      }, 0)
    }
  }, [name])

  if (state === null || state.held !== held.current || state.held.name !== name) return null
  if ('error' in state) throw state.error
  return state.store
}
