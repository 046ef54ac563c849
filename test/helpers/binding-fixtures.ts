/**
 * What the framework bindings' tests (@tidekv/react, @tidekv/vue) share: a
 * count of a store's live watch subscriptions, and a store's data with the
 * reads a component shows before and after a change.
 */
import { vi } from 'vitest'
import type { Store } from '@tidekv/client'

/** Counts live watch subscriptions of `store` (spies on `store.watch`). */
export function countWatchers(store: Store): { readonly live: number } {
  const counter = { live: 0 }
  const watch = store.watch.bind(store)
  vi.spyOn(store, 'watch').mockImplementation((target, cb) => {
    const stop = watch(target, cb)
    counter.live++
    let stopped = false
    return () => {
      if (!stopped) counter.live--
      stopped = true
      stop()
    }
  })
  return counter
}

/** A sorted set `board` and a hash `user:1`. */
export function seedScoreboard(store: Store): void {
  const board = store.sortedSet('board')
  board.add('ada', 30)
  board.add('bob', 10)
  board.add('cy', 20)
  store.hash('user:1').set('name', 'Ada')
}

/** What a component shows of it: the top two with scores, the user, the status. */
export const SCOREBOARD_BEFORE = {
  top: [
    ['ada', 30],
    ['cy', 20],
  ],
  user: { name: 'Ada' },
  status: 'local',
}

/** Bob passes everyone; the user gets an age. */
export function changeScoreboard(store: Store): void {
  store.sortedSet('board').incr('bob', 25)
  store.hash('user:1').set('age', 36)
}

export const SCOREBOARD_AFTER = {
  top: [
    ['bob', 35],
    ['ada', 30],
  ],
  user: { name: 'Ada', age: 36 },
  status: 'local',
}
