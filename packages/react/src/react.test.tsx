// @vitest-environment happy-dom
/**
 * @tidekv/react, rendered with React Testing Library on happy-dom. The same
 * file runs twice: on React 19, and on React 18 (the `react18` vitest
 * project aliases react and react-dom to the 18 releases).
 */
import { act, cleanup, render, screen } from '@testing-library/react'
import { memo, StrictMode, version as reactVersion } from 'react'
import { renderToString } from 'react-dom/server'
import { hydrateRoot } from 'react-dom/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { changeScoreboard, countWatchers, SCOREBOARD_AFTER, SCOREBOARD_BEFORE, seedScoreboard } from '../../../test/helpers/binding-fixtures.js'
import { memoryStorage, openStore, type StorageFactory, type Store } from '@tidekv/client'
import { TideKVProvider, useKeys, useSortedSetRange, useStatus, useStore, useStoreContext, useTideKV, useValue } from './index.js'

// reason: React's act() warns unless the environment says it is a test one
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

afterEach(cleanup)

let n = 0
const memoryStore = () => openStore(`react-${n++}`, { persist: false, tabs: false })

/** Lets watchers fire (a write reaches them at the end of the tick) and React render. */
const settle = () => act(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))

describe(`@tidekv/react on React ${reactVersion}`, () => {
  it('useValue re-renders a component only when its own key changes', async () => {
    const store = await memoryStore()
    store.set('a', 1)
    store.set('b', 'x')
    const renders = { a: 0, b: 0 }
    function Show({ k }: { k: 'a' | 'b' }) {
      renders[k]++
      const value = useValue(store, k)
      return <span data-testid={k}>{String(value)}</span>
    }
    render(
      <>
        <Show k="a" />
        <Show k="b" />
      </>,
    )
    await settle()
    const before = { ...renders }
    store.set('a', 2)
    await settle()
    expect(screen.getByTestId('a').textContent).toBe('2')
    expect(renders.b).toBe(before.b) // a write to key A never re-renders the reader of key B
    expect(renders.a).toBe(before.a + 1)
    store.delete('b')
    await settle()
    expect(screen.getByTestId('b').textContent).toBe('undefined')
  })

  it('a batch of 100 writes to a watched prefix re-renders once, and React.memo children not at all', async () => {
    const store = await memoryStore()
    let renders = 0
    let childRenders = 0
    const Count = memo(function Count({ keys }: { keys: readonly string[] }) {
      childRenders++
      return <span data-testid="count">{keys.length}</span>
    })
    function Todos() {
      renders++
      const keys = useKeys(store, { prefix: 'todo:' })
      return <Count keys={keys} />
    }
    render(<Todos />)
    await settle()
    const [r0, c0] = [renders, childRenders]
    store.batch(() => {
      for (let i = 0; i < 100; i++) store.set(`todo:${String(i).padStart(3, '0')}`, { title: `task ${i}` })
    })
    await settle()
    expect(screen.getByTestId('count').textContent).toBe('100')
    expect(renders - r0).toBe(1)
    expect(childRenders - c0).toBe(1)
    // A write that leaves the scan as it was (a value changed, no key came or went) hands back the same array.
    store.set('todo:000', { title: 'renamed' })
    store.set('other', 1)
    await settle()
    expect(childRenders - c0).toBe(1)
  })

  it('unmounting unsubscribes: no watcher is left', async () => {
    const store = await memoryStore()
    const watchers = countWatchers(store)
    function Reader() {
      useValue(store, 'k')
      useKeys(store, { prefix: 'p:' })
      useSortedSetRange(store, 'z', 0, -1)
      useTideKV(store, (s) => s.hash('h').getAll(), ['h', { prefix: 'q:' }])
      return null
    }
    const { unmount } = render(<Reader />)
    await settle()
    expect(watchers.live).toBe(5)
    unmount()
    expect(watchers.live).toBe(0)
  })

  it('useStore opens one store under StrictMode (mount, unmount, mount), closes it on unmount, and reopens on a new name', async () => {
    const opened: string[] = []
    const inner = memoryStorage()
    const storage: StorageFactory = (name) => {
      opened.push(name)
      return inner(name)
    }
    const seen: (Store | null)[] = []
    function App({ name }: { name: string }) {
      const store = useStore(name, { storage, tabs: false })
      seen.push(store)
      const value = useValue(store, 'greeting')
      return <span data-testid="v">{store === null ? 'opening' : String(value)}</span>
    }
    const { rerender, unmount } = render(
      <StrictMode>
        <App name="strict-a" />
      </StrictMode>,
    )
    expect(screen.getByTestId('v').textContent).toBe('opening')
    await settle()
    expect(opened).toEqual(['strict-a'])
    const a = seen.at(-1)!
    expect(a).not.toBeNull()
    a.set('greeting', 'hi')
    await settle()
    expect(screen.getByTestId('v').textContent).toBe('hi')
    rerender(
      <StrictMode>
        <App name="strict-b" />
      </StrictMode>,
    )
    await settle()
    await settle()
    expect(opened).toEqual(['strict-a', 'strict-b'])
    expect(() => a.get('greeting')).toThrow(expect.objectContaining({ code: 'CLOSED' })) // the old one was closed
    const b = seen.at(-1)!
    unmount()
    await settle()
    expect(() => b.get('x')).toThrow(expect.objectContaining({ code: 'CLOSED' }))
  })

  it('useTideKV runs a new selector at once (another key read, the same keys watched)', async () => {
    const store = await memoryStore()
    store.set('todo:1', 'one')
    store.set('todo:2', 'two')
    function Todo({ id }: { id: number }) {
      const title = useTideKV(store, (s) => s.get<string>(`todo:${id}`), [{ prefix: 'todo:' }])
      return <span data-testid="title">{title}</span>
    }
    const { rerender } = render(<Todo id={1} />)
    await settle()
    expect(screen.getByTestId('title').textContent).toBe('one')
    rerender(<Todo id={2} />)
    expect(screen.getByTestId('title').textContent).toBe('two') // this render, not after the next write
  })

  it('useStore never hands out a store it closed: a name that goes A → B → A before B opens shows null until the new A is open', async () => {
    const inner = memoryStorage()
    let releaseB: () => void = () => {}
    const bOpened = new Promise<void>((resolve) => (releaseB = resolve))
    const storage: StorageFactory = async (name) => {
      if (name === 'swap-b') await bOpened
      return inner(name)
    }
    const shown: (Store | null)[] = []
    const closedWhenShown: Store[] = []
    function App({ name }: { name: string }) {
      const store = useStore(name, { storage, tabs: false })
      shown.push(store)
      try {
        store?.get('x')
      } catch {
        closedWhenShown.push(store!)
      }
      return null
    }
    const { rerender } = render(<App name="swap-a" />)
    await settle()
    const first = shown.at(-1)!
    expect(first).not.toBeNull()
    rerender(<App name="swap-b" />)
    await settle()
    rerender(<App name="swap-a" />)
    await settle()
    await settle()
    releaseB()
    await settle()
    expect(closedWhenShown).toEqual([])
    expect(shown.at(-1)).not.toBeNull()
    expect(shown.at(-1)).not.toBe(first)
  })

  it('useStore throws a store that fails to open to the nearest error boundary', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    function App() {
      useStore('bad', { persist: false, tabs: false, cache: { maxBytes: -1 } })
      return null
    }
    const { Component } = await import('react')
    class Boundary extends Component<{ children: React.ReactNode }, { code?: string }> {
      override state: { code?: string } = {}
      static getDerivedStateFromError(error: { code?: string }) {
        return { code: error.code }
      }
      override render() {
        return this.state.code === undefined ? this.props.children : <span data-testid="error">{this.state.code}</span>
      }
    }
    render(
      <Boundary>
        <App />
      </Boundary>,
    )
    expect((await screen.findByTestId('error')).textContent).toBe('INVALID_VALUE')
    errors.mockRestore()
  })

  it('useSortedSetRange, useTideKV, useStatus and TideKVProvider', async () => {
    const store = await memoryStore()
    seedScoreboard(store)
    function Top() {
      const s = useStoreContext()
      const top = useSortedSetRange(s, 'board', 0, 1, { rev: true, withScores: true })
      const user = useTideKV(s, (x) => x.hash('user:1').getAll(), ['user:1'])
      const status = useStatus(s)
      return <span data-testid="out">{JSON.stringify({ top, user, status })}</span>
    }
    render(
      <TideKVProvider store={store}>
        <Top />
      </TideKVProvider>,
    )
    await settle()
    const read = (): unknown => JSON.parse(screen.getByTestId('out').textContent ?? 'null')
    expect(read()).toEqual(SCOREBOARD_BEFORE)
    changeScoreboard(store)
    await settle()
    expect(read()).toEqual(SCOREBOARD_AFTER)
  })

  it('renders empty on the server and hydrates without a mismatch warning', async () => {
    const store = await memoryStore()
    store.set('title', 'Hello')
    store.set('todo:1', 'one')
    function Page({ s }: { s: Store | null }) {
      const title = useValue<string>(s, 'title')
      const keys = useKeys(s, { prefix: 'todo:' })
      const status = useStatus(s)
      return (
        <p>
          {title ?? 'untitled'} · {keys.length} · {status ?? 'no status'}
        </p>
      )
    }
    const html = renderToString(<Page s={store} />)
    expect(html).toContain('untitled')
    expect(html).toContain('no status')
    const container = document.createElement('div')
    container.innerHTML = html
    document.body.append(container)
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    await act(async () => {
      hydrateRoot(container, <Page s={store} />, { onRecoverableError: (error) => console.error(error) })
    })
    await settle()
    expect(errors).not.toHaveBeenCalled()
    errors.mockRestore()
    expect(container.textContent).toBe('Hello · 1 · local')
  })
})
