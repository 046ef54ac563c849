/**
 * The todo list: each todo a key `todo:<id>` holding `{ title, done }`,
 * read with @tidekv/react. `useKeys` lists them (in id order, which is the
 * order they were made in); each row reads its own key with `useValue`, so a
 * change to one todo renders that row alone.
 */
import { type FormEvent, memo, useEffect, useRef, useState } from 'react'
import type { TideKVInspector } from '@tidekv/inspector'
import { useKeys, useStatus, useStoreContext, useValue } from '@tidekv/react'

// A type, not an interface: a stored value must be a plain JSON-like object (an index signature).
type Todo = {
  title: string
  done: boolean
}

/** Ids that sort in the order they were made, and never collide between devices. */
function newId(): string {
  return `todo:${Date.now().toString(36).padStart(9, '0')}-${Math.random().toString(36).slice(2, 8)}`
}

export function Status() {
  const store = useStoreContext()
  const status = useStatus(store)
  const offline = status === 'offline'
  return (
    <p className="react-status">
      <span data-testid="status" data-status={status ?? 'opening'}>
        {status ?? 'opening…'}
      </span>
      {status !== undefined && status !== 'local' && (
        <button className="btn small ghost" type="button" data-testid="toggle-online" onClick={() => (offline ? store?.connect() : store?.disconnect())}>
          {offline ? 'Go online' : 'Work offline'}
        </button>
      )}
    </p>
  )
}

export function NewTodo() {
  const store = useStoreContext()
  const [title, setTitle] = useState('')
  const add = (event: FormEvent) => {
    event.preventDefault()
    if (store === null || title.trim() === '') return
    store.set(newId(), { title: title.trim(), done: false })
    setTitle('')
  }
  return (
    <form className="react-new" onSubmit={add}>
      <label className="field">
        <span className="label">New todo</span>
        <input data-testid="todo-input" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Buy milk" autoComplete="off" />
      </label>
      <button className="btn primary" type="submit" data-testid="todo-add" disabled={store === null}>
        Add
      </button>
    </form>
  )
}

export function TodoList() {
  const store = useStoreContext()
  const ids = useKeys(store, { prefix: 'todo:' })
  const done = ids.length
  return (
    <>
      <p className="muted" data-testid="todo-count" data-count={done}>
        {ids.length === 1 ? '1 todo' : `${ids.length} todos`}
      </p>
      <ul className="react-todos" data-testid="todo-list">
        {ids.map((id) => (
          <TodoRow key={id} id={id} />
        ))}
      </ul>
    </>
  )
}

const TodoRow = memo(function TodoRow({ id }: { id: string }) {
  const store = useStoreContext()
  const todo = useValue<Todo>(store, id)
  if (todo === undefined || store === null) return null
  return (
    <li data-testid="todo" data-id={id} data-done={todo.done}>
      <label>
        <input type="checkbox" checked={todo.done} onChange={() => store.set(id, { ...todo, done: !todo.done })} data-testid="todo-done" />
        <span className={todo.done ? 'done' : ''}>{todo.title}</span>
      </label>
      <button className="btn small danger-ghost" type="button" data-testid="todo-delete" aria-label={`Delete ${todo.title}`} onClick={() => store.delete(id)}>
        Delete
      </button>
    </li>
  )
})

/** The inspector, open on the todos. */
export function Inspector() {
  const store = useStoreContext()
  const ref = useRef<TideKVInspector>(null)
  useEffect(() => {
    if (ref.current !== null) ref.current.store = store
  }, [store])
  return <tidekv-inspector ref={ref} key-prefix="todo:" data-testid="inspector" />
}
