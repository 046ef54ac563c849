/**
 * Test helpers for the relay: a relay on 127.0.0.1 port 0 with automatic
 * teardown, and TideKV clients in Node (fake-indexeddb, `ws`) that act as
 * separate devices (own IndexedDB, no tab channel).
 */
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach } from 'vitest'
import WebSocket from 'ws'
import { openStore, type Store, type StoreOptions } from '@tidekv/client'
import { createRelay, type Relay, type RelayOptions } from '@tidekv/relay'

const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** Runs `fn` after the current test. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn)
}

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidekv-test-'))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A relay on 127.0.0.1, port 0, anonymous writes unless `auth` says otherwise; closed after the test. */
export async function newRelay(options: Partial<RelayOptions> = {}): Promise<Relay & { ws: string }> {
  const relay = await createRelay({ port: 0, host: '127.0.0.1', dataDir: options.dataDir ?? tempDir(), auth: { anonymous: 'write' }, ...options })
  onCleanup(() => relay.close())
  return Object.assign(relay, { ws: relay.url.replace('http', 'ws') })
}

/** A TideKV client as a separate device: its own IndexedDB, no tab channel, synced to `url`. */
export async function newClient(
  url: string | readonly string[],
  room: string,
  options: Partial<StoreOptions> & { token?: string | (() => string | Promise<string>); idb?: IDBFactory } = {},
): Promise<Store> {
  const { token, idb, sync, ...rest } = options
  const store = await openStore(room, {
    indexedDB: idb ?? new IDBFactory(),
    tabs: false,
    sync: { url, WebSocket, maxBackoffMs: 200, ...(token === undefined ? {} : { token }), ...sync },
    ...rest,
  })
  onCleanup(() => store.close().catch(() => undefined))
  return store
}

/** Resolves once `store.status` is `status`. */
export function statusIs(store: Store, status: Store['status']): Promise<void> {
  if (store.status === status) return Promise.resolve()
  return new Promise((resolve) => {
    const off = store.on('status', (s) => {
      if (s === status) {
        off()
        resolve()
      }
    })
  })
}

/** Opens a raw WebSocket to the relay and resolves with the HTTP status of a refused upgrade, or 101. */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.on('open', () => {
      resolve(101)
      ws.close()
    })
    ws.on('error', (e) => {
      if (!(e.message ?? '').includes('Unexpected server response')) reject(e)
    })
  })
}

/** A raw socket to a room, with the close code it ends with. */
export function rawSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)))
    ws.on('open', () => resolve({ ws, closed }))
    ws.on('error', reject)
  })
}
