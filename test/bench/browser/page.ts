/**
 * The browser side of `npm run bench:browser`: bundled by bench-browser.ts
 * (esbuild) and loaded over http://127.0.0.1 in Chromium. It exposes
 * `globalThis.tidekvBench` (see api.ts); the Node side calls one function
 * per timed run. Timings are `performance.now()` differences taken here, in
 * the page; set-up (opening, filling, deleting databases) stays outside them.
 *
 * Data: keys `user:<i>:prefs`, values `{ theme, fontSize, lang }`, as in the
 * Node benchmark. Every implementation writes the same value objects.
 */
import { databaseName, openStore, type Store, type Value } from '@tidekv/client'
import * as idbKeyval from 'idb-keyval'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import { shuffledIndices } from '../shuffle.js'
import type { BenchPage, ColdOpen, DatabaseBytes, PingPong } from './api.js'
import { inspectorChange, inspectorMount, inspectorTurn, inspectorUnmount } from './inspector-bench.js'
import { reactChange, reactMount, reactUnmount } from './react-hooks.js'

const now = (): number => performance.now()
/** A wall-clock time comparable across pages of one browser (both pages' timeOrigin + now()). */
const absNow = (): number => performance.timeOrigin + performance.now()

/** Chromium runs with --js-flags=--expose-gc: a full GC before each timed run. */
const collect = (): void => (globalThis as { gc?: () => void }).gc?.() // reason: gc is a global only with --expose-gc, which no lib types

type Prefs = { theme: string; fontSize: number; lang: string }
const THEMES = ['dark', 'light', 'solarized'] as const
const LANGS = ['en', 'fr', 'de', 'es', 'ja'] as const
const prefs = (i: number): Prefs => ({ theme: THEMES[i % 3]!, fontSize: 10 + (i % 9), lang: LANGS[i % 5]! })
const keyOf = (i: number): string => `user:${i}:prefs`

function data(n: number): { keys: string[]; values: Prefs[] } {
  const keys = Array.from({ length: n }, (_, i) => keyOf(i))
  return { keys, values: keys.map((_, i) => prefs(i)) }
}

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`bench check failed: ${what}`)
}

/** Everything a timed loop reads ends up here, so no loop is dead code. */
let sink = 0

// ---- raw IndexedDB helpers ------------------------------------------------------

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error!)
  })
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error!)
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
  })
}

function openDatabase(name: string, objectStore?: string): Promise<IDBDatabase> {
  const req = indexedDB.open(name)
  req.onupgradeneeded = () => {
    if (objectStore !== undefined) req.result.createObjectStore(objectStore)
  }
  return request(req)
}

/** Deletes a database. 'blocked' only means a closing connection still finishes its transactions: wait, up to 10 s. */
function deleteDatabase(name: string): Promise<void> {
  const req = indexedDB.deleteDatabase(name)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deleting ${name}: still blocked by an open connection after 10 s`)), 10_000)
    req.onsuccess = () => {
      clearTimeout(timer)
      resolve()
    }
    req.onerror = () => {
      clearTimeout(timer)
      reject(req.error!)
    }
  })
}

/** Rows and value bytes of one object store (bytes: Uint8Array values, or a `bytes` field holding one). */
async function databaseBytes(name: string, objectStore: string): Promise<DatabaseBytes> {
  const db = await openDatabase(name)
  try {
    const tx = db.transaction(objectStore, 'readonly')
    const values: unknown[] = await request(tx.objectStore(objectStore).getAll())
    let bytes = 0
    for (const v of values) {
      if (v instanceof Uint8Array) bytes += v.byteLength
      // Byte fields of objects too: TideKV's snapshot index ({ key, index }), release 0.1.0's saved keyspace ({ upTo, bytes }).
      else if (typeof v === 'object' && v !== null) for (const field of Object.values(v)) if (field instanceof Uint8Array) bytes += field.byteLength
    }
    return { rows: values.length, bytes }
  } finally {
    db.close()
  }
}

/**
 * What idb-keyval's database holds, as UTF-8 bytes of each key and of each
 * value's JSON: a lower bound (it stores structured clones, not bytes, and
 * their size on disk is the browser's business).
 */
async function idbKeyvalBytes(db: string): Promise<DatabaseBytes> {
  const kv = idbKeyval.createStore(db, 'kv')
  const entries = await idbKeyval.entries(kv)
  await closeIdbKeyval(kv)
  const utf8 = new TextEncoder()
  let bytes = 0
  for (const [key, value] of entries) bytes += utf8.encode(String(key)).byteLength + utf8.encode(JSON.stringify(value)).byteLength
  return { rows: entries.length, bytes }
}

/** Closes idb-keyval's connection (it keeps one per createStore), so the database can be deleted. */
async function closeIdbKeyval(store: idbKeyval.UseStore): Promise<void> {
  await store('readonly', (s) => s.transaction.db.close())
}

// ---- state kept between calls -------------------------------------------------------

let reads: { store: Store; kv: idbKeyval.UseStore; order: string[]; storeName: string; db: string } | null = null
let tab: Store | null = null
let raw: BroadcastChannel | null = null
const served: Record<'tidekv' | 'raw', number[]> = { tidekv: [], raw: [] }
let servedStore: Store | null = null
let servedChannel: BroadcastChannel | null = null

type Ping = { i: number; t: number }

/** A ping or pong read back from the store. */
const asPing = (value: Value | undefined): Ping => value as Ping // reason: only this page writes 'ping' and 'pong', always as Pings (tabPing, tabServe)

/**
 * Sends warmup + count pings, one at a time: each waits for its pong (the
 * serving page answers in its watcher), then ~1 ms, then the next.
 * `send` writes ping i; `onPong` is wired by the caller to `arrived`.
 */
async function pingPong(send: (ping: Ping) => void, pongs: { arrived: ((p: Ping, at: number) => void) | null }, warmup: number, count: number): Promise<PingPong> {
  const rtt: number[] = []
  const back: number[] = []
  for (let i = 0; i < warmup + count; i++) {
    const t0 = now()
    const arrival = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no pong for ping ${i} within 5 s`)), 5000)
      pongs.arrived = (p, at) => {
        if (p.i !== i) return
        clearTimeout(timer)
        pongs.arrived = null
        if (i >= warmup) back.push(at - p.t)
        resolve(now())
      }
    })
    send({ i, t: absNow() })
    const t1 = await arrival
    if (i >= warmup) rtt.push(t1 - t0)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  return { rtt, back }
}

const tabPongs: { arrived: ((p: Ping, at: number) => void) | null } = { arrived: null }
const rawPongs: { arrived: ((p: Ping, at: number) => void) | null } = { arrived: null }

// ---- the API ------------------------------------------------------------------

const bench: BenchPage = {
  info() {
    // The smallest step performance.now() takes here (100 µs unless cross-origin isolated).
    let step = Infinity
    let last = now()
    for (let k = 0; k < 200 && step > 0.001; ) {
      const t = now()
      if (t !== last) {
        step = Math.min(step, t - last)
        last = t
        k++
      }
    }
    return {
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated,
      visibility: document.visibilityState,
      timerResolutionMs: step,
      gc: typeof (globalThis as { gc?: unknown }).gc === 'function', // reason: gc is a global only with --expose-gc, which no lib types
    }
  },

  deleteDatabase,
  reactMount,
  reactChange,
  reactUnmount,
  inspectorMount,
  inspectorTurn,
  inspectorChange,
  inspectorUnmount,

  async writeTideKV(name, n) {
    const { keys, values } = data(n)
    const store = await openStore(name)
    await store.loaded
    // When the tick's writes have become one Yjs update (the commit); storage takes it from there.
    let committed = 0
    const onUpdate = (): void => {
      committed = now()
    }
    store.doc.on('update', onUpdate)
    collect()
    const t0 = now()
    for (let i = 0; i < n; i++) store.set(keys[i]!, values[i]!)
    const t1 = now()
    await store.flush()
    const t2 = now()
    store.doc.off('update', onUpdate)
    check(store.size === n && committed > t1, 'TideKV holds every key written, in one commit')
    await store.close()
    await deleteDatabase(databaseName(name))
    return { total: t2 - t0, setLoop: t1 - t0, commit: committed - t1, storage: t2 - committed }
  },

  async writeIdbKeyvalSet(db, n) {
    const { keys, values } = data(n)
    const kv = idbKeyval.createStore(db, 'kv')
    await idbKeyval.get('-', kv) // opens (creates) the database outside the timed part
    collect()
    const t0 = now()
    for (let i = 0; i < n; i++) await idbKeyval.set(keys[i]!, values[i]!, kv)
    const ms = now() - t0
    check((await idbKeyval.keys(kv)).length === n, 'idb-keyval holds every key written')
    await closeIdbKeyval(kv)
    await deleteDatabase(db)
    return ms
  },

  async writeIdbKeyvalSetMany(db, n) {
    const { keys, values } = data(n)
    const entries = keys.map((k, i): [string, Prefs] => [k, values[i]!])
    const kv = idbKeyval.createStore(db, 'kv')
    await idbKeyval.get('-', kv)
    collect()
    const t0 = now()
    await idbKeyval.setMany(entries, kv)
    const ms = now() - t0
    check((await idbKeyval.keys(kv)).length === n, 'idb-keyval holds every key written')
    await closeIdbKeyval(kv)
    await deleteDatabase(db)
    return ms
  },

  async writeRawIndexedDB(name, n, durability) {
    const { keys, values } = data(n)
    const db = await openDatabase(name, 'kv')
    collect()
    const t0 = now()
    const tx = durability === 'default' ? db.transaction('kv', 'readwrite') : db.transaction('kv', 'readwrite', { durability })
    const store = tx.objectStore('kv')
    for (let i = 0; i < n; i++) store.put(values[i], keys[i])
    await done(tx)
    const ms = now() - t0
    check((await request(db.transaction('kv').objectStore('kv').count())) === n, 'raw IndexedDB holds every key written')
    db.close()
    await deleteDatabase(name)
    return ms
  },

  async fillForReads(storeName, db, n) {
    const { keys, values } = data(n)
    const store = await openStore(storeName)
    store.batch(() => {
      for (let i = 0; i < n; i++) store.set(keys[i]!, values[i]!)
    })
    await store.flush()
    const kv = idbKeyval.createStore(db, 'kv')
    await idbKeyval.setMany(
      keys.map((k, i): [string, Prefs] => [k, values[i]!]),
      kv,
    )
    const order = Array.from(shuffledIndices(n), (i) => keys[i]!)
    reads = { store, kv, order, storeName, db }
  },

  readTideKV(n) {
    check(reads !== null && reads.order.length === n, 'fillForReads first')
    const { store, order } = reads
    collect()
    let sum = 0
    const t0 = now()
    for (let i = 0; i < n; i++) sum += store.get<Prefs>(order[i]!)!.fontSize
    const ms = now() - t0
    sink += sum
    return ms
  },

  async readIdbKeyvalGetMany(n) {
    check(reads !== null && reads.order.length === n, 'fillForReads first')
    const { kv, order } = reads
    collect()
    const t0 = now()
    const got = await idbKeyval.getMany<Prefs>(order, kv)
    const ms = now() - t0
    let sum = 0
    for (const v of got) sum += v!.fontSize
    sink += sum
    return ms
  },

  async closeReads() {
    if (reads === null) return
    await reads.store.close()
    await closeIdbKeyval(reads.kv)
    await deleteDatabase(databaseName(reads.storeName))
    await deleteDatabase(reads.db)
    reads = null
  },

  async prepareTideKV(name, n) {
    const { keys, values } = data(n)
    const store = await openStore(name)
    store.batch(() => {
      for (let i = 0; i < n; i++) store.set(keys[i]!, values[i]!)
    })
    await store.flush()
    await store.close() // compacts: one snapshot row + its index
    return databaseBytes(databaseName(name), 'updates')
  },

  async prepareYIndexeddb(db, n) {
    const { keys, values } = data(n)
    const doc = new Y.Doc()
    const persistence = new IndexeddbPersistence(db, doc)
    await persistence.whenSynced
    const map = doc.getMap<Prefs>('kv')
    doc.transact(() => {
      for (let i = 0; i < n; i++) map.set(keys[i]!, values[i]!)
    })
    await persistence.destroy()
    doc.destroy()
    // A new connection's read waits for the write y-indexeddb queued (transactions on one store run in order).
    return databaseBytes(db, 'updates')
  },

  async prepareIdbKeyval(db, n) {
    const { keys, values } = data(n)
    const kv = idbKeyval.createStore(db, 'kv')
    await idbKeyval.setMany(
      keys.map((k, i): [string, Prefs] => [k, values[i]!]),
      kv,
    )
    await closeIdbKeyval(kv)
  },

  databaseBytes,
  idbKeyvalBytes,

  async coldTideKV(name, key, n): Promise<ColdOpen> {
    collect()
    const t0 = now()
    const store = await openStore(name)
    const value = store.get<Prefs>(key)
    const t1 = now()
    await store.loaded
    const t2 = now()
    check(value !== undefined && store.size === n, 'TideKV cold open sees every key')
    sink += value.fontSize
    await store.close()
    return { firstGet: t1 - t0, loaded: t2 - t0 }
  },

  async coldYIndexeddb(db, key, n) {
    collect()
    const t0 = now()
    const doc = new Y.Doc()
    const persistence = new IndexeddbPersistence(db, doc)
    await persistence.whenSynced
    const value = doc.getMap<Prefs>('kv').get(key)
    const ms = now() - t0
    check(value !== undefined && doc.getMap('kv').size === n, 'y-indexeddb cold open sees every key')
    sink += value.fontSize
    await persistence.destroy()
    doc.destroy()
    return ms
  },

  async coldIdbKeyval(db, key) {
    collect()
    const t0 = now()
    const kv = idbKeyval.createStore(db, 'kv')
    const value = await idbKeyval.get<Prefs>(key, kv)
    const ms = now() - t0
    check(value !== undefined, 'idb-keyval cold get finds the key')
    sink += value.fontSize
    await closeIdbKeyval(kv)
    return ms
  },

  async tabServe(name) {
    const store = await openStore(name, { persist: false })
    servedStore = store
    store.watch('ping', ({ value, origin }) => {
      if (origin !== 'tab') return
      const at = absNow()
      const ping = asPing(value)
      served.tidekv.push(at - ping.t)
      store.set('pong', { i: ping.i, t: absNow() })
    })
  },

  async tabJoin(name) {
    const store = await openStore(name, { persist: false })
    tab = store
    store.watch('pong', ({ value, origin }) => {
      if (origin !== 'tab') return
      tabPongs.arrived?.(asPing(value), absNow())
    })
  },

  tabPing(warmup, count) {
    const store = tab
    check(store !== null, 'tabJoin first')
    return pingPong((ping) => store.set('ping', ping), tabPongs, warmup, count)
  },

  rawServe(name) {
    const channel = new BroadcastChannel(name)
    servedChannel = channel
    channel.onmessage = (event: MessageEvent<Ping>) => {
      const at = absNow()
      served.raw.push(at - event.data.t)
      channel.postMessage({ i: event.data.i, t: absNow() })
    }
  },

  rawJoin(name) {
    raw = new BroadcastChannel(name)
    raw.onmessage = (event: MessageEvent<Ping>) => rawPongs.arrived?.(event.data, absNow())
  },

  rawPing(warmup, count) {
    const channel = raw
    check(channel !== null, 'rawJoin first')
    return pingPong((ping) => channel.postMessage(ping), rawPongs, warmup, count)
  },

  servedOneWay(kind) {
    const out = served[kind]
    served[kind] = []
    return out
  },

  async tabClose() {
    await tab?.close()
    await servedStore?.close()
    raw?.close()
    servedChannel?.close()
    tab = servedStore = null
    raw = servedChannel = null
  },
}

Object.assign(globalThis, { tidekvBench: bench, tidekvSink: () => sink })
