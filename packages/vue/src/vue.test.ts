// @vitest-environment happy-dom
/**
 * @tidekv/vue, mounted with @vue/test-utils on happy-dom: the same
 * properties as @tidekv/react's tests (render counts, one update per tick,
 * unmount, one store per component, server rendering and hydration).
 */
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSSRApp, defineComponent, h, ref } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { changeScoreboard, countWatchers, SCOREBOARD_AFTER, SCOREBOARD_BEFORE, seedScoreboard } from '../../../test/helpers/binding-fixtures.js'
import { memoryStorage, openStore, type StorageFactory, type Store } from '@tidekv/client'
import { provideStore, useKeys, useSortedSetRange, useStatus, useStore, useStoreContext, useTideKV, useValue } from './index.js'

let n = 0
const memoryStore = () => openStore(`vue-${n++}`, { persist: false, tabs: false })
/** Lets watchers fire (a write reaches them at the end of the tick) and Vue update. */
const settle = async () => {
  await new Promise((resolve) => setTimeout(resolve, 0))
  await flushPromises()
}

const mounted: { unmount(): void }[] = []
afterEach(() => {
  for (const w of mounted.splice(0)) w.unmount()
})

describe('@tidekv/vue', () => {
  it('useValue changes, and a component renders, only when its own key changes', async () => {
    const store = await memoryStore()
    store.set('a', 1)
    store.set('b', 'x')
    const renders = { a: 0, b: 0 }
    const Show = defineComponent({
      // reason: Vue's way to type a prop (its runtime check is String)
      props: { k: { type: String as () => 'a' | 'b', required: true } },
      setup(props) {
        const value = useValue(store, props.k)
        return () => {
          renders[props.k]++
          return h('span', { 'data-k': props.k }, String(value.value))
        }
      },
    })
    const wrapper = mount(() => [h(Show, { k: 'a' }), h(Show, { k: 'b' })])
    mounted.push(wrapper)
    await settle()
    const before = { ...renders }
    store.set('a', 2)
    await settle()
    expect(wrapper.get('[data-k="a"]').text()).toBe('2')
    expect(renders.b).toBe(before.b)
    expect(renders.a).toBe(before.a + 1)
  })

  it('a batch of 100 writes to a watched prefix updates once; a write that leaves the scan as it was, not at all', async () => {
    const store = await memoryStore()
    let renders = 0
    const Todos = defineComponent({
      setup() {
        const keys = useKeys(store, { prefix: 'todo:' })
        return () => {
          renders++
          return h('span', keys.value.length)
        }
      },
    })
    const wrapper = mount(Todos)
    mounted.push(wrapper)
    await settle()
    const r0 = renders
    store.batch(() => {
      for (let i = 0; i < 100; i++) store.set(`todo:${String(i).padStart(3, '0')}`, { title: `task ${i}` })
    })
    await settle()
    expect(wrapper.text()).toBe('100')
    expect(renders - r0).toBe(1)
    store.set('todo:000', { title: 'renamed' })
    await settle()
    expect(renders - r0).toBe(1)
  })

  it('arguments may be refs: the ref follows them', async () => {
    const store = await memoryStore()
    store.set('k1', 'one')
    store.set('k2', 'two')
    const key = ref('k1')
    const wrapper = mount(
      defineComponent({
        setup() {
          const value = useValue(store, key)
          return () => h('span', String(value.value))
        },
      }),
    )
    mounted.push(wrapper)
    await settle()
    expect(wrapper.text()).toBe('one')
    key.value = 'k2'
    await settle()
    expect(wrapper.text()).toBe('two')
  })

  it('unmounting unsubscribes: no watcher is left', async () => {
    const store = await memoryStore()
    const watchers = countWatchers(store)
    const wrapper = mount(
      defineComponent({
        setup() {
          useValue(store, 'k')
          useKeys(store, { prefix: 'p:' })
          useSortedSetRange(store, 'z', 0, -1)
          useTideKV(store, (s) => s.hash('h').getAll(), ['h', { prefix: 'q:' }])
          return () => null
        },
      }),
    )
    await settle()
    expect(watchers.live).toBe(5)
    wrapper.unmount()
    expect(watchers.live).toBe(0)
  })

  it('useStore opens one store on mount, reopens on a new name, closes on unmount; a bad option sets error', async () => {
    const opened: string[] = []
    const inner = memoryStorage()
    const storage: StorageFactory = (name) => {
      opened.push(name)
      return inner(name)
    }
    const name = ref('vue-a')
    let held: { readonly value: Store | null } = { value: null }
    const wrapper = mount(
      defineComponent({
        setup() {
          const { store } = useStore(name, { storage, tabs: false })
          held = store
          const greeting = useValue(store, 'greeting')
          return () => h('span', store.value === null ? 'opening' : String(greeting.value))
        },
      }),
    )
    expect(wrapper.text()).toBe('opening')
    await settle()
    const a = held.value!
    a.set('greeting', 'hi')
    await settle()
    expect(wrapper.text()).toBe('hi')
    name.value = 'vue-b'
    await settle()
    await settle()
    expect(opened).toEqual(['vue-a', 'vue-b'])
    expect(() => a.get('greeting')).toThrow(expect.objectContaining({ code: 'CLOSED' }))
    const b = held.value!
    wrapper.unmount()
    await settle()
    expect(() => b.get('x')).toThrow(expect.objectContaining({ code: 'CLOSED' }))

    let error: { readonly value: unknown } = { value: undefined }
    const bad = mount(
      defineComponent({
        setup() {
          error = useStore('bad', { persist: false, tabs: false, cache: { maxBytes: -1 } }).error
          return () => null
        },
      }),
    )
    mounted.push(bad)
    await vi.waitFor(() => expect(error.value).toMatchObject({ code: 'INVALID_VALUE' }))
  })

  it('useSortedSetRange, useTideKV, useStatus and provideStore / useStoreContext', async () => {
    const store = await memoryStore()
    seedScoreboard(store)
    const Top = defineComponent({
      setup() {
        const s = useStoreContext()
        const top = useSortedSetRange(s, 'board', 0, 1, { rev: true, withScores: true })
        const user = useTideKV(s, (x) => x.hash('user:1').getAll(), ['user:1'])
        const status = useStatus(s)
        return () => h('span', JSON.stringify({ top: top.value, user: user.value, status: status.value }))
      },
    })
    const wrapper = mount(
      defineComponent({
        setup() {
          provideStore(store)
          return () => h(Top)
        },
      }),
    )
    mounted.push(wrapper)
    await settle()
    const read = (): unknown => JSON.parse(wrapper.text())
    expect(read()).toEqual(SCOREBOARD_BEFORE)
    changeScoreboard(store)
    await settle()
    expect(read()).toEqual(SCOREBOARD_AFTER)
  })

  it('renders empty on the server, and hydrates without a mismatch warning, with useStore or a store already open', async () => {
    const store = await memoryStore()
    store.set('title', 'Hello')
    const Page = defineComponent({
      // reason: Vue's way to type a prop (its runtime check is Object)
      props: { given: { type: Object as () => Store | null, default: null } },
      setup(props) {
        const opened = useStore('vue-ssr', { persist: false, tabs: false }).store
        const title = useValue(() => props.given ?? opened.value, 'title')
        const status = useStatus(() => props.given ?? opened.value)
        return () => h('p', `${title.value ?? 'untitled'} · ${status.value ?? 'no status'}`)
      },
    })
    // On the server, even a store that is open renders nothing of it.
    const html = await renderToString(createSSRApp(Page, { given: store }))
    expect(html).toContain('untitled · no status')
    for (const [given, shown] of [
      [null, 'untitled · local'], // useStore opens after mount
      [store, 'Hello · local'], // open already: read once mounted
    ] as const) {
      const container = document.createElement('div')
      container.innerHTML = html
      document.body.append(container)
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const error = vi.spyOn(console, 'error').mockImplementation(() => {})
      const app = createSSRApp(Page, { given })
      app.mount(container)
      await settle()
      expect(warn).not.toHaveBeenCalled()
      expect(error).not.toHaveBeenCalled()
      warn.mockRestore()
      error.mockRestore()
      expect(container.textContent).toBe(shown)
      app.unmount()
    }
  })

  it('keeps one subscription while values change (the effect does not depend on its own result)', async () => {
    const store = await memoryStore()
    let watches = 0
    const watch = store.watch.bind(store)
    vi.spyOn(store, 'watch').mockImplementation((target, cb) => {
      watches++
      return watch(target, cb)
    })
    const wrapper = mount(
      defineComponent({
        setup() {
          const value = useValue(store, 'n')
          return () => h('span', String(value.value))
        },
      }),
    )
    mounted.push(wrapper)
    await settle()
    for (let i = 1; i <= 3; i++) {
      store.set('n', i)
      await settle()
    }
    expect(wrapper.text()).toBe('3')
    expect(watches).toBe(1)
  })
})
