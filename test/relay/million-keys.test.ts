/**
 * A room of a million keys between two Node clients, through the relay
 * process (its CLI, embedded SQLite): about 62 MiB of document, four times
 * the relay's 16 MiB message limit. The writer's offline state reaches the
 * relay in pieces, and a new client gets the room in pieces. The slowest
 * test of the suite (about 25 s alone here, 2.5 GiB of memory); no timing
 * is asserted.
 */
import { expect, it } from 'vitest'
import WebSocket from 'ws'
import { openStore, type Store } from '@tidekv/client'
import { onCleanup, statusIs, tempDir } from '../helpers/relay.js'
import { startRelayProcess } from '../helpers/relay-process.js'

const KEYS = 1_000_000
const BATCH = 10_000
const THEMES = ['dark', 'light', 'solarized'] as const
const valueOf = (i: number) => ({ theme: THEMES[i % 3]!, lang: 'en', n: i })

async function device(url: string, online: boolean): Promise<{ store: Store; statuses: string[] }> {
  // persist: false: fake-indexeddb would hold another copy of a million keys in this process.
  const store = await openStore('million', { persist: false, tabs: false, sync: { url, WebSocket } })
  onCleanup(() => store.close())
  if (!online) store.disconnect()
  const statuses: string[] = []
  store.on('status', (s) => statuses.push(s))
  return { store, statuses }
}

it('a million keys written offline reach the relay, and a new client gets all of them, each side in pieces under the message limit', { timeout: 300_000 }, async () => {
  const relay = await startRelayProcess(tempDir())
  const a = await device(relay.ws, false)
  for (let i = 0; i < KEYS; i += BATCH) {
    a.store.batch(() => {
      for (let j = i; j < i + BATCH; j++) a.store.set(`user:${j}:prefs`, valueOf(j))
    })
    await a.store.flush()
  }
  a.statuses.length = 0
  a.store.connect()
  await a.store.whenSynced()
  // A message over the limit closes the connection (1009) and the client reconnects: it never went offline.
  expect(a.statuses).not.toContain('offline')
  expect(a.statuses.at(-1)).toBe('synced')

  const b = await device(relay.ws, true)
  await statusIs(b.store, 'synced')
  expect(b.store.size).toBe(KEYS)
  for (const i of [0, 1, 4_242, 500_000, KEYS - 1]) expect(b.store.get(`user:${i}:prefs`)).toEqual(valueOf(i))
  expect(b.statuses).not.toContain('offline')
  expect(relay.stderr()).toBe('')
})
