/**
 * What the browser page of `npm run bench:browser` offers the Node side
 * (bench-browser.ts calls it through `page.evaluate`). Every timing is taken
 * in the page with `performance.now()` and returned in milliseconds; the
 * Node side only orders the runs and takes medians.
 */

/** A store's IndexedDB footprint: rows and bytes per object store. */
export interface DatabaseBytes {
  rows: number
  bytes: number
}

/** Timings of one TideKV cold open. */
export interface ColdOpen {
  /** From just before `openStore` until the first `get` has answered. */
  firstGet: number
  /** From just before `openStore` until `await store.loaded`. */
  loaded: number
}

/** One ping-pong series between two pages. */
export interface PingPong {
  /** Round trips (ms): the ping written in page A until the pong's watcher fired in A. */
  rtt: number[]
  /** B→A one-way (ms): the pong written in B until A's watcher fired (performance.timeOrigin + now() in both pages). */
  back: number[]
}

export interface BenchPage {
  /** Browser facts for the report. */
  info(): { userAgent: string; crossOriginIsolated: boolean; visibility: DocumentVisibilityState; timerResolutionMs: number; gc: boolean }
  /** Deletes an IndexedDB database (resolves when it is gone). */
  deleteDatabase(name: string): Promise<void>

  // ---- durable writes: each times n writes into a database that does not exist yet ----
  /** total = setLoop (the set calls) + commit (the tick's writes become one Yjs update) + storage (flush until durable). */
  writeTideKV(store: string, n: number): Promise<{ total: number; setLoop: number; commit: number; storage: number }>
  writeIdbKeyvalSet(db: string, n: number): Promise<number>
  writeIdbKeyvalSetMany(db: string, n: number): Promise<number>
  writeRawIndexedDB(db: string, n: number, durability: IDBTransactionDurability | 'default'): Promise<number>

  // ---- reads: fills once (untimed), then times n reads in a fixed shuffled order ----
  fillForReads(store: string, db: string, n: number): Promise<void>
  readTideKV(n: number): number
  readIdbKeyvalGetMany(n: number): Promise<number>
  closeReads(): Promise<void>

  // ---- cold open: prepared in one page, measured in fresh pages of the same context ----
  prepareTideKV(store: string, n: number): Promise<DatabaseBytes>
  prepareYIndexeddb(db: string, n: number): Promise<DatabaseBytes>
  prepareIdbKeyval(db: string, n: number): Promise<void>
  databaseBytes(db: string, objectStore: string): Promise<DatabaseBytes>
  /** idb-keyval's database as UTF-8 bytes of keys and values' JSON (a lower bound). */
  idbKeyvalBytes(db: string): Promise<DatabaseBytes>
  coldTideKV(store: string, key: string, n: number): Promise<ColdOpen>
  coldYIndexeddb(db: string, key: string, n: number): Promise<number>
  coldIdbKeyval(db: string, key: string): Promise<number>

  // ---- cross-tab latency: page B serves (answers each ping with a pong), page A pings ----
  tabServe(store: string): Promise<void>
  tabJoin(store: string): Promise<void>
  tabPing(warmup: number, count: number): Promise<PingPong>
  rawServe(channel: string): void
  rawJoin(channel: string): void
  rawPing(warmup: number, count: number): Promise<PingPong>
  /** A→B one-way (ms) as page B saw them since the last call: the ping written in A until B's watcher (or onmessage) fired. */
  servedOneWay(kind: 'tidekv' | 'raw'): number[]
  tabClose(): Promise<void>

  // ---- @tidekv/react: n useValue components, one key changes (react-hooks.ts) ----
  reactMount(store: string, n: number): Promise<number>
  reactChange(i: number): Promise<{ ms: number; renders: number }>
  reactUnmount(): Promise<void>

  // ---- <tidekv-inspector> on n keys (inspector-bench.ts) ----
  inspectorMount(store: string, n: number): Promise<number>
  inspectorTurn(): number
  inspectorChange(i: number): Promise<number>
  inspectorUnmount(): Promise<void>
}
