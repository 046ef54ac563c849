/**
 * The demo's second page: a todo list written with React and @tidekv/react,
 * on the same store and relay as the main page (`?room=` and `?relay=` as
 * there), with the inspector open on its keys.
 */
import '../style.css'
import './react.css'
import '@tidekv/inspector' // defines <tidekv-inspector>
import { StrictMode, useEffect } from 'react'
import { createRoot } from 'react-dom/client'
import type { Store } from '@tidekv/client'
import { TideKVProvider, useStore, useStoreContext, useValue } from '@tidekv/react'
import { readConfig } from '../config.js'
import { Inspector, NewTodo, Status, TodoList } from './todos.js'

declare global {
  interface Window {
    tidekv?: Store
  }
}

const config = readConfig(location, import.meta.env.DEV)

/** The theme the main page's preferences chose (`prefs:theme`), applied here too, inspector included. */
function Theme() {
  const theme = useValue<string>(useStoreContext(), 'prefs:theme')
  useEffect(() => {
    const dark = theme === 'dark' || (theme !== 'light' && matchMedia('(prefers-color-scheme: dark)').matches)
    document.documentElement.dataset.theme = dark ? 'dark' : 'light'
    document.querySelector('tidekv-inspector')?.setAttribute('theme', dark ? 'dark' : 'light')
  }, [theme])
  return null
}

function App() {
  const store = useStore(config.room, config.relayUrl === null ? {} : { sync: { url: config.relayUrl } })
  useEffect(() => {
    if (store !== null) window.tidekv = store
    document.documentElement.dataset.ready = String(store !== null)
  }, [store])
  return (
    <TideKVProvider store={store}>
      <Theme />
      <main className="page react-page">
        <header className="card-head">
          <div className="grow">
            <h1>Todos, in React</h1>
            <p className="muted">
              Written with <code>@tidekv/react</code>: synced between tabs and devices, and working offline. <a href="../">Back to the demo</a>
            </p>
          </div>
          <Status />
        </header>
        <section className="card" aria-label="Todos">
          <NewTodo />
          <TodoList />
        </section>
        <section className="card" aria-label="Inspector">
          <h2>Inspector</h2>
          <Inspector />
        </section>
      </main>
    </TideKVProvider>
  )
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
