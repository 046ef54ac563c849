/**
 * `npm run bench:relay`: the TideKV relay (@tidekv/relay, SQLite storage in a
 * temporary folder: every update is appended to SQLite before it is
 * acknowledged, and that is part of what is measured) against the stock
 * y-websocket server (@y/websocket-server's setupWSConnection on `ws`,
 * documents in memory only), side by side in one run.
 *
 * Each relay runs in a child process of its own, started the same way (node
 * --expose-gc --import tsx, plus relay-probe.ts, which reports memory, CPU
 * time and open sockets over IPC). Clients are plain y-websocket providers
 * (providers.ts), the same code against both servers; fan-out readers and the
 * memory rows' connections live in reader processes (reader-worker.ts), the
 * latency clients and the fan-out writer in this process. All on 127.0.0.1.
 *
 * Rows:
 * - latency: one provider writes a Y.Map key, another in the same process
 *   observes it; time from the write to the observation, p50 and p99 over
 *   LAT_WRITES writes (after LAT_WARMUP), one write at a time with a ~1 ms
 *   pause between, alternating write by write between the two servers. Also
 *   the TideKV client (store.set → the other store's watch), against both.
 * - fan-out: one writer and R readers in one room; the writer pushes
 *   FAN_WRITES items to a Y.Array, one transaction (one message) each, as
 *   fast as it can; time from the first write until every reader has all of
 *   them. Delivered updates/s = R × FAN_WRITES / seconds. Two kinds of
 *   reader: y-websocket providers, which apply every update to a document,
 *   and raw-socket y-protocols peers, which only count the writes (see
 *   reader-worker.ts): on 2 cores the providers' own work bounds the
 *   wall-clock figure, the raw readers leave the relay as the bottleneck.
 *   Also the relay's CPU time per delivered update (process.cpuUsage of the
 *   relay over the run), which depends little on the readers.
 * - memory: in a fresh relay, heap (after full GCs) and RSS growth per idle
 *   connection (IDLE_CONNS over IDLE_ROOMS rooms, measured from the first
 *   IDLE_FIRST) and per room holding a small document after its client left
 *   (LOADED_ROOMS, measured after ROOMS_FIRST). RSS also holds what the
 *   allocator keeps after connections close: the heap figures are the
 *   objects' cost.
 *
 * Fan-out repeats alternate between the servers (which one goes first
 * alternates too), latency writes alternate one by one; each figure is the
 * median over REPS repeats (after a warm-up run or warm-up writes). Results:
 * a table on stdout, JSON in test/bench/results/bench-relay.json. Not part of
 * `npm test`; about 2 minutes.
 *
 * Environment: BENCH_RELAY_REPS (default 5); BENCH_RELAY_SECTIONS (default
 * 'memory,latency,fanout'); BENCH_RELAY_READERS (fan-out reader kinds,
 * default 'provider,raw'); BENCH_RELAY_PROFILE=1 (relays run with --cpu-prof,
 * a summary of each profile's main thread is printed); BENCH_RELAY_CPUS (pin
 * the relays with taskset, e.g. '0'); BENCH_RELAY_CLI (another TideKV relay
 * CLI, e.g. a prototype; default packages/relay/src/cli.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { openStore, type Store } from '../../packages/client/src/index.js'
import { benchFile, Child, TSX } from './children.js'
import { formatBytes, formatTable, fullGC, gcExposed, median, now, packageVersion } from './measure.js'
import { formatProfile, type ProfileSummary, summarizeProfile } from './profile-summary.js'
import { absNow, closeProvider, openProvider, sleep, whenSynced } from './providers.js'
import type { ProbeStats } from './relay-probe.js'

// ---- parameters -------------------------------------------------------------

const REPS = Number(process.env.BENCH_RELAY_REPS ?? 5)
/** The TideKV relay's CLI (another checkout's, to compare). */
const RELAY_CLI = process.env.BENCH_RELAY_CLI ?? 'packages/relay/src/cli.ts'
const SECTIONS = new Set((process.env.BENCH_RELAY_SECTIONS ?? 'memory,latency,fanout,pubsub').split(',').map((s) => s.trim()))
const PROFILE = process.env.BENCH_RELAY_PROFILE === '1'
const RELAY_CPUS = process.env.BENCH_RELAY_CPUS
const LAT_WRITES = 1_000
const LAT_WARMUP = 100
/** Pause between latency writes, ms (keeps the writer under the relay's 500 messages/s average). */
const LAT_GAP_MS = 1
const FAN_WRITES = 200
const FAN_READERS = [100, 500] as const
/** Reader processes per server. */
const FAN_WORKERS = 2
const IDLE_CONNS = 1_000
/** Idle connections opened before the memory row's first measurement. */
const IDLE_FIRST = 200
const IDLE_ROOMS = 20
const LOADED_ROOMS = 200
/** Rooms loaded before the memory row's first measurement. */
const ROOMS_FIRST = 50
/** Entries of each loaded room's small document (one transaction, ~1 KB). */
const ROOM_KEYS = 20
const RUN_TIMEOUT_MS = 60_000

const SERVERS = ['tidekv', 'stock'] as const
type Server = (typeof SERVERS)[number]
const SERVER_LABEL: Record<Server, string> = { tidekv: 'TideKV relay', stock: 'stock server' }

const RESULTS = new URL('./results/bench-relay.json', import.meta.url)
const started = now()

function log(message: string): void {
  process.stderr.write(`[bench:relay ${((now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench sanity check failed: ${message}`)
}

// ---- relays and reader processes ------------------------------------------------

interface RelayHandle {
  server: Server
  /** ws://127.0.0.1:PORT */
  url: string
  child: Child
  dataDir?: string
  profileDir?: string
  stats(gc?: boolean): Promise<ProbeStats>
}

const relays = new Set<RelayHandle>()
const profiles: { server: Server; section: string; path: string; summary: ProfileSummary }[] = []

async function startRelay(server: Server, section: string): Promise<RelayHandle> {
  const probe = benchFile('relay-probe.ts')
  const profileDir = PROFILE ? mkdtempSync(join(os.tmpdir(), `tidekv-bench-prof-${server}-`)) : undefined
  const execArgv = ['--expose-gc', ...TSX, '--import', probe.url, ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])]
  let child: Child
  let dataDir: string | undefined
  if (server === 'tidekv') {
    dataDir = mkdtempSync(join(os.tmpdir(), 'tidekv-bench-relay-'))
    child = new Child(`tidekv relay (${section})`, RELAY_CLI, ['--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--allow-anonymous'], { execArgv, cpus: RELAY_CPUS })
  } else {
    child = new Child(`stock server (${section})`, benchFile('stock-server.ts').path, [], { execArgv, cpus: RELAY_CPUS })
  }
  const handle: RelayHandle = {
    server,
    url: '',
    child,
    dataDir,
    profileDir,
    stats: (gc = false) => child.call<ProbeStats>('stats', { gc }, 30_000),
  }
  relays.add(handle)
  const [, address] = await child.waitForOutput(/listening on http:\/\/([\d.]+:\d+)/, 30_000)
  handle.url = `ws://${address}`
  return handle
}

async function stopRelay(relay: RelayHandle, section: string): Promise<void> {
  relays.delete(relay)
  await relay.child.stop()
  if (relay.dataDir !== undefined) rmSync(relay.dataDir, { recursive: true, force: true })
  if (relay.profileDir !== undefined) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the others: tsx's loader).
    for (const file of readdirSync(relay.profileDir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))) {
      const path = join(relay.profileDir, file)
      profiles.push({ server: relay.server, section, path, summary: summarizeProfile(path, 20) })
    }
  }
}

const workers: Child[] = []

function startWorkers(n: number): Child[] {
  const started: Child[] = []
  for (let i = 0; i < n; i++) started.push(new Child(`reader process ${workers.length + i}`, benchFile('reader-worker.ts').path, [], { execArgv: TSX }))
  workers.push(...started)
  return started
}

/** Waits until the relay has at most `n` open sockets. */
async function socketsAtMost(relay: RelayHandle, n: number, timeoutMs = 15_000): Promise<void> {
  const deadline = now() + timeoutMs
  for (;;) {
    const { sockets } = await relay.stats()
    if (sockets <= n) return
    if (now() > deadline) throw new Error(`${relay.server}: still ${sockets} sockets open after ${timeoutMs} ms`)
    await sleep(100)
  }
}

/** Splits `items` into `parts` nearly equal slices. */
function split<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, i) => items.filter((_, j) => j % parts === i))
}

function percentile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

// ---- memory ---------------------------------------------------------------------

interface MemoryStep {
  before: ProbeStats
  after: ProbeStats
  /** Connections or rooms added between before and after. */
  added: number
  heapPer: number
  rssPer: number
}

interface MemoryResult {
  baseline: ProbeStats
  idle: MemoryStep
  rooms: MemoryStep
}

const step = (before: ProbeStats, after: ProbeStats, added: number): MemoryStep => ({
  before,
  after,
  added,
  heapPer: (after.heapUsed - before.heapUsed) / added,
  rssPer: (after.rss - before.rss) / added,
})

/** Opens `rooms` (one connection each) spread over the reader processes; optionally writes a small document in each. */
async function openSpread(pool: Child[], url: string, rooms: string[], write: boolean): Promise<void> {
  const parts = split(rooms, pool.length)
  await Promise.all(parts.map((part, i) => pool[i]!.call('open', { url, rooms: part }, RUN_TIMEOUT_MS)))
  if (write) await Promise.all(pool.map((w) => w.call('write', { keys: ROOM_KEYS })))
}

/**
 * Memory of a fresh relay. Each figure is a slope: the first connections (or
 * rooms) of a kind also pay for one-time costs (code compiled, pools and
 * buffers grown), so a first step is made and measured from, and the
 * per-connection (per-room) figure is the growth from there to the full count.
 */
async function memory(server: Server, pool: Child[]): Promise<MemoryResult> {
  const relay = await startRelay(server, 'memory')
  try {
    const baseline = await relay.stats(true)
    const closeAll = async () => {
      await Promise.all(pool.map((w) => w.call('close')))
      await socketsAtMost(relay, 0)
    }

    log(`${server}: memory, ${IDLE_CONNS} idle connections over ${IDLE_ROOMS} rooms (slope over the last ${IDLE_CONNS - IDLE_FIRST})`)
    const idleRooms = Array.from({ length: IDLE_CONNS }, (_, i) => `idle-${i % IDLE_ROOMS}`)
    await openSpread(pool, relay.url, idleRooms.slice(0, IDLE_FIRST), false)
    await sleep(300)
    const idleBefore = await relay.stats(true)
    await openSpread(pool, relay.url, idleRooms.slice(IDLE_FIRST), false)
    await sleep(300)
    const idleAfter = await relay.stats(true)
    check(idleAfter.sockets >= IDLE_CONNS, `${server}: ${idleAfter.sockets} sockets open, expected ${IDLE_CONNS}`)
    await closeAll()

    log(`${server}: memory, ${LOADED_ROOMS} rooms with a small document each, no connection (after ${ROOMS_FIRST} first)`)
    await openSpread(
      pool,
      relay.url,
      Array.from({ length: ROOMS_FIRST }, (_, i) => `first-${i}`),
      true,
    )
    await sleep(300)
    await closeAll()
    const roomsBefore = await relay.stats(true)
    await openSpread(
      pool,
      relay.url,
      Array.from({ length: LOADED_ROOMS }, (_, i) => `loaded-${i}`),
      true,
    )
    await sleep(300)
    await closeAll()
    // The TideKV relay keeps a room without connections loaded for 30 s (idleRoomMs); the stock server for good.
    const roomsAfter = await relay.stats(true)
    return { baseline, idle: step(idleBefore, idleAfter, IDLE_CONNS - IDLE_FIRST), rooms: step(roomsBefore, roomsAfter, LOADED_ROOMS) }
  } finally {
    await stopRelay(relay, 'memory')
  }
}

// ---- latency ----------------------------------------------------------------------

/** A writer and a reader of one room: `write(v)` sets a value, `seen(v)` resolves with now() once the reader has it. */
interface LatencyPair {
  seen(value: number): Promise<number>
  write(value: number): void
  close(): Promise<void>
}

/** Resolves `seen(v)` promises from the reader's observations. */
function observer(label: string): { seen: (value: number) => Promise<number>; saw: (value: unknown) => void } {
  let waiting: { value: number; resolve: (t: number) => void } | null = null
  return {
    seen: (value) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${label}: write ${value} not observed within 10 s`)), 10_000)
        waiting = {
          value,
          resolve: (t) => {
            clearTimeout(timer)
            resolve(t)
          },
        }
      }),
    saw: (value) => {
      if (waiting === null || value !== waiting.value) return
      const w = waiting
      waiting = null
      w.resolve(now())
    },
  }
}

/** Two y-websocket providers; one sets a Y.Map key, the other observes the map. */
async function providerPair(relay: RelayHandle, room: string): Promise<LatencyPair> {
  const writer = openProvider(relay.url, room)
  const reader = openProvider(relay.url, room)
  await Promise.all([whenSynced(writer), whenSynced(reader)])
  const out = writer.doc.getMap<number>('m')
  const seen = reader.doc.getMap<number>('m')
  const o = observer(`${relay.server}, y-websocket clients`)
  seen.observe(() => o.saw(seen.get('k')))
  return {
    seen: o.seen,
    write: (value) => out.set('k', value),
    close: async () => {
      closeProvider(writer)
      closeProvider(reader)
    },
  }
}

function statusIs(store: Store, status: Store['status'], timeoutMs = 30_000): Promise<void> {
  if (store.status === status) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`store not ${status} after ${timeoutMs} ms (${store.status})`))
    }, timeoutMs)
    const off = store.on('status', (s) => {
      if (s !== status) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

/** Two TideKV stores (memory only, synced to the relay); one sets a key, the other's watch sees it. */
async function storePair(relay: RelayHandle, room: string): Promise<LatencyPair> {
  const sync = { url: relay.url, room, WebSocket, maxBackoffMs: 1_000 }
  const writer = await openStore(`${room}-w`, { persist: false, tabs: false, sync })
  const reader = await openStore(`${room}-r`, { persist: false, tabs: false, sync })
  await Promise.all([statusIs(writer, 'synced'), statusIs(reader, 'synced')])
  const o = observer(`${relay.server}, TideKV clients`)
  reader.watch('k', ({ value }) => o.saw(value))
  return {
    seen: o.seen,
    write: (value) => writer.set('k', value),
    close: async () => {
      await writer.close().catch(() => undefined)
      await reader.close().catch(() => undefined)
    },
  }
}

interface LatencyRun {
  rep: number
  p50: number
  p99: number
  mean: number
  max: number
}

type LatencyResult = Record<'yjs' | 'tidekv', Record<Server, LatencyRun[]>>

/**
 * The writes alternate between the servers one by one (which goes first
 * alternates too), so a burst of load from elsewhere on the machine hits
 * both alike. Returns ms per write.
 */
async function interleavedLatency(pairs: Record<Server, LatencyPair>): Promise<Record<Server, number[]>> {
  const samples: Record<Server, number[]> = { tidekv: [], stock: [] }
  for (let i = -LAT_WARMUP; i < LAT_WRITES; i++) {
    for (const server of (i & 1) === 0 ? SERVERS : [...SERVERS].reverse()) {
      const pair = pairs[server]
      const seen = pair.seen(i)
      const t0 = now()
      pair.write(i)
      const t1 = await seen
      if (i >= 0) samples[server].push(t1 - t0)
      await sleep(LAT_GAP_MS)
    }
  }
  return samples
}

async function latency(): Promise<LatencyResult> {
  const result: LatencyResult = { yjs: { tidekv: [], stock: [] }, tidekv: { tidekv: [], stock: [] } }
  const running = { tidekv: await startRelay('tidekv', 'latency'), stock: await startRelay('stock', 'latency') }
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const client of ['yjs', 'tidekv'] as const) {
        const open = client === 'yjs' ? providerPair : storePair
        const room = `lat-${client}-${rep}`
        const pairs = { tidekv: await open(running.tidekv, room), stock: await open(running.stock, room) }
        try {
          fullGC()
          await Promise.all(SERVERS.map((server) => running[server].stats(true)))
          const samples = await interleavedLatency(pairs)
          for (const server of SERVERS) {
            const xs = samples[server]
            check(xs.length === LAT_WRITES, 'every write observed')
            const r: LatencyRun = { rep, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) }
            result[client][server].push(r)
            log(`latency ${client === 'yjs' ? 'y-websocket' : 'TideKV'} clients, ${server}, rep ${rep}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`)
          }
        } finally {
          await pairs.tidekv.close()
          await pairs.stock.close()
        }
      }
    }
  } finally {
    await stopRelay(running.tidekv, 'latency')
    await stopRelay(running.stock, 'latency')
  }
  return result
}

// ---- pub/sub ------------------------------------------------------------------------

type PubSubResult = Record<'publish' | 'set', LatencyRun[]>

/**
 * TideKV clients on the TideKV relay (the stock server has no pub/sub): one
 * store publishes on a channel another subscribes to, and sets a key the other
 * watches, alternating one by one as the latency section does. Returns the
 * runs of each.
 */
async function pubsubLatency(): Promise<PubSubResult> {
  const result: PubSubResult = { publish: [], set: [] }
  const relay = await startRelay('tidekv', 'pubsub')
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const room = `pubsub-${rep}`
      const sync = { url: relay.url, room, WebSocket, maxBackoffMs: 1_000 }
      const writer = await openStore(`${room}-w`, { persist: false, tabs: false, sync })
      const reader = await openStore(`${room}-r`, { persist: false, tabs: false, sync })
      try {
        await Promise.all([statusIs(writer, 'synced'), statusIs(reader, 'synced')])
        const watched = observer('set→watch')
        const heard = observer('publish→subscribe')
        reader.watch('k', ({ value }) => watched.saw(value))
        reader.subscribe('c', (message) => heard.saw(message))
        // The subscription travels to the relay after the store is synced: let it arrive before timing.
        await sleep(100)
        const samples: Record<'publish' | 'set', number[]> = { publish: [], set: [] }
        const kinds = ['publish', 'set'] as const
        fullGC()
        for (let i = -LAT_WARMUP; i < LAT_WRITES; i++) {
          for (const kind of (i & 1) === 0 ? kinds : [...kinds].reverse()) {
            const seen = (kind === 'set' ? watched : heard).seen(i)
            const t0 = now()
            if (kind === 'set') writer.set('k', i)
            else writer.publish('c', i)
            const t1 = await seen
            if (i >= 0) samples[kind].push(t1 - t0)
            await sleep(LAT_GAP_MS)
          }
        }
        for (const kind of kinds) {
          const xs = samples[kind]
          check(xs.length === LAT_WRITES, 'every message observed')
          const r: LatencyRun = { rep, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) }
          result[kind].push(r)
          log(`pub/sub, ${kind === 'set' ? 'set→watch' : 'publish→subscribe'}, rep ${rep}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`)
        }
      } finally {
        await writer.close().catch(() => undefined)
        await reader.close().catch(() => undefined)
      }
    }
  } finally {
    await stopRelay(relay, 'pubsub')
  }
  return result
}

// ---- fan-out ------------------------------------------------------------------------

interface FanRun {
  rep: number
  ms: number
  updatesPerSecond: number
  /** Median time until a reader had every write, ms. */
  medianReaderMs: number
  /** Relay CPU time (user + system) per delivered update, µs. */
  relayCpuUsPerUpdate: number
  relayCpuMs: number
  /** CPU time of the reader processes during the run. */
  readersCpuMs: number
}

type ReaderKind = 'provider' | 'raw'
const READER_KINDS = (process.env.BENCH_RELAY_READERS ?? 'provider,raw').split(',').map((k): ReaderKind => {
  const kind = k.trim()
  if (kind !== 'provider' && kind !== 'raw') throw new Error(`BENCH_RELAY_READERS: "${kind}" is neither provider nor raw`)
  return kind
})
const fanKey = (kind: ReaderKind, readers: number): string => `${kind}-${readers}`

type FanResult = Record<string, Record<Server, FanRun[]>>

async function fanOut(pool: Record<Server, Child[]>): Promise<FanResult> {
  const result: FanResult = {}
  const running = { tidekv: await startRelay('tidekv', 'fanout'), stock: await startRelay('stock', 'fanout') }
  try {
    for (const kind of READER_KINDS) {
      for (const readers of FAN_READERS) {
        const key = fanKey(kind, readers)
        const room = `fan-${key}`
        result[key] = { tidekv: [], stock: [] }
        const writers = {} as Record<Server, ReturnType<typeof openProvider>> // reason: filled for every server by the loop right below, before any read
        for (const server of SERVERS) {
          log(`fan-out: ${readers} ${kind} readers in ${pool[server].length} processes on ${server}`)
          const rooms = Array.from({ length: readers }, () => room)
          await Promise.all(
            split(rooms, pool[server].length).map((part, i) => pool[server][i]!.call('open', { url: running[server].url, rooms: part, raw: kind === 'raw' }, RUN_TIMEOUT_MS)),
          )
          writers[server] = openProvider(running[server].url, room)
          await whenSynced(writers[server])
        }
        const written: Record<Server, number> = { tidekv: 0, stock: 0 }
        for (let rep = -1; rep < REPS; rep++) {
          const order = rep % 2 === 0 ? SERVERS : [...SERVERS].reverse()
          for (const server of order) {
            const relay = running[server]
            const workersOf = pool[server]
            written[server] += FAN_WRITES
            await Promise.all(workersOf.map((w) => w.call('arm', { expected: written[server] })))
            const done = Promise.all(workersOf.map((w) => w.call<{ times: number[]; cpuMs: number }>('done', {}, RUN_TIMEOUT_MS)))
            fullGC()
            const before = await relay.stats(true)
            const array = writers[server].doc.getArray<number>('a')
            const t0 = absNow()
            for (let i = 0; i < FAN_WRITES; i++) array.push([i])
            const replies = await done
            const after = await relay.stats()
            const times = replies.flatMap((r) => r.times)
            check(times.length === readers && times.every((t) => t > 0), `${server}: every reader done`)
            const ms = Math.max(...times) - t0
            const relayCpuMs = (after.cpuUser + after.cpuSystem - before.cpuUser - before.cpuSystem) / 1000
            const run: FanRun = {
              rep,
              ms,
              updatesPerSecond: (readers * FAN_WRITES) / (ms / 1000),
              medianReaderMs: median(times) - t0,
              relayCpuMs,
              relayCpuUsPerUpdate: (relayCpuMs * 1000) / (readers * FAN_WRITES),
              readersCpuMs: replies.reduce((n, r) => n + r.cpuMs, 0),
            }
            log(
              `fan-out ${readers} ${kind} readers, ${server}, ${rep < 0 ? 'warm-up' : `rep ${rep}`}: ${ms.toFixed(0)} ms, ` +
                `${Math.round(run.updatesPerSecond).toLocaleString('en-US')} updates/s, relay CPU ${relayCpuMs.toFixed(0)} ms ` +
                `(${run.relayCpuUsPerUpdate.toFixed(2)} µs/update), readers' CPU ${run.readersCpuMs.toFixed(0)} ms`,
            )
            if (rep >= 0) result[key][server].push(run)
          }
        }
        for (const server of SERVERS) {
          const closed = await Promise.all(pool[server].map((w) => w.call<{ disconnects: number }>('close')))
          const disconnects = closed.reduce((n, c) => n + c.disconnects, 0)
          check(disconnects === 0, `${server}: ${disconnects} reader connections dropped during the fan-out runs`)
          closeProvider(writers[server])
          await socketsAtMost(running[server], 0)
        }
      }
    }
  } finally {
    await stopRelay(running.tidekv, 'fanout')
    await stopRelay(running.stock, 'fanout')
  }
  return result
}

// ---- table ----------------------------------------------------------------------------

interface Row {
  id: string
  label: string
  unit: 'ms' | 'updates/s' | 'µs' | 'bytes'
  tidekv: number | null
  stock: number | null
  /** TideKV / stock (of the medians). */
  ratio: number | null
  /** Median of TideKV / stock per repeat: the two runs of a repeat are adjacent in time, so they share the machine's load. */
  pairedRatio?: number
  goal: string
  met: boolean | null
  samples?: Record<Server, number[]>
}

function fmt(unit: Row['unit'], v: number | null): string {
  if (v === null) return 'n/a'
  if (unit === 'ms') return `${v.toFixed(3)} ms`
  if (unit === 'updates/s') return `${Math.round(v).toLocaleString('en-US')}/s`
  if (unit === 'µs') return `${v.toFixed(2)} µs`
  return v < 0 ? `-${formatBytes(-v)}` : formatBytes(v)
}

async function main(): Promise<void> {
  if (!gcExposed) log('warning: run with --expose-gc (npm run bench:relay does) for collections between runs')
  log(
    `TideKV relay vs stock @y/websocket-server ${packageVersion('@y/websocket-server')}; ${os.cpus().length} CPUs; reps ${REPS}; sections ${[...SECTIONS].join(', ')}${PROFILE ? '; profiling the relays' : ''}`,
  )
  const rows: Row[] = []
  const raw: Record<string, unknown> = {}
  const pool = startWorkers(SERVERS.length * FAN_WORKERS)
  try {
    if (SECTIONS.has('memory')) {
      const mem = { tidekv: await memory('tidekv', pool.slice(0, FAN_WORKERS)), stock: await memory('stock', pool.slice(0, FAN_WORKERS)) }
      raw.memory = mem
      const memRow = (id: string, label: string, pick: (m: MemoryResult) => number): Row => ({
        id,
        label,
        unit: 'bytes',
        tidekv: pick(mem.tidekv),
        stock: pick(mem.stock),
        ratio: pick(mem.tidekv) / pick(mem.stock),
        goal: 'reported',
        met: true,
      })
      rows.push(
        memRow('mem-conn-heap', `memory per idle connection, heap (${IDLE_CONNS} over ${IDLE_ROOMS} rooms)`, (m) => m.idle.heapPer),
        memRow('mem-conn-rss', `memory per idle connection, RSS`, (m) => m.idle.rssPer),
        memRow('mem-room-heap', `memory per loaded room, heap (${LOADED_ROOMS} rooms, ${ROOM_KEYS} keys each)`, (m) => m.rooms.heapPer),
        memRow('mem-room-rss', `memory per loaded room, RSS`, (m) => m.rooms.rssPer),
        memRow('mem-base-rss', 'relay RSS at start (no connection)', (m) => m.baseline.rss),
      )
    }
    if (SECTIONS.has('latency')) {
      const lat = await latency()
      raw.latency = lat
      for (const client of ['yjs', 'tidekv'] as const) {
        for (const q of ['p50', 'p99'] as const) {
          const tidekv = median(lat[client].tidekv.map((r) => r[q]))
          const stock = median(lat[client].stock.map((r) => r[q]))
          const yjs = client === 'yjs'
          rows.push({
            id: `latency-${client}-${q}`,
            label: `write→observe latency ${q}, ${yjs ? 'y-websocket clients' : 'TideKV clients (set→watch)'}`,
            unit: 'ms',
            tidekv,
            stock,
            ratio: tidekv / stock,
            goal: yjs ? '≤ 1.00× stock' : '(info)',
            met: yjs ? tidekv <= stock : null,
            samples: { tidekv: lat[client].tidekv.map((r) => r[q]), stock: lat[client].stock.map((r) => r[q]) },
          })
        }
      }
    }
    if (SECTIONS.has('fanout')) {
      const fan = await fanOut({ tidekv: pool.slice(0, FAN_WORKERS), stock: pool.slice(FAN_WORKERS, 2 * FAN_WORKERS) })
      raw.fanout = fan
      for (const kind of READER_KINDS) {
        for (const readers of FAN_READERS) {
          const runs = fan[fanKey(kind, readers)]!
          const tidekv = median(runs.tidekv.map((r) => r.updatesPerSecond))
          const stock = median(runs.stock.map((r) => r.updatesPerSecond))
          rows.push({
            id: `fanout-${fanKey(kind, readers)}`,
            label: `fan-out ${readers} ${kind === 'raw' ? 'raw-socket' : 'y-websocket'} readers × ${FAN_WRITES} writes, updates/s`,
            unit: 'updates/s',
            tidekv,
            stock,
            ratio: tidekv / stock,
            goal: '≥ 1.50× stock',
            met: tidekv >= 1.5 * stock,
            samples: { tidekv: runs.tidekv.map((r) => r.updatesPerSecond), stock: runs.stock.map((r) => r.updatesPerSecond) },
          })
          const cpuT = median(runs.tidekv.map((r) => r.relayCpuUsPerUpdate))
          const cpuS = median(runs.stock.map((r) => r.relayCpuUsPerUpdate))
          rows.push({
            id: `fanout-${fanKey(kind, readers)}-cpu`,
            label: `  relay CPU per delivered update`,
            unit: 'µs',
            tidekv: cpuT,
            stock: cpuS,
            ratio: cpuT / cpuS,
            goal: '(info)',
            met: null,
            samples: { tidekv: runs.tidekv.map((r) => r.relayCpuUsPerUpdate), stock: runs.stock.map((r) => r.relayCpuUsPerUpdate) },
          })
        }
      }
    }
  } finally {
    for (const relay of [...relays]) await stopRelay(relay, 'aborted').catch(() => undefined)
    await Promise.all(workers.map((w) => w.stop()))
  }

  let pubsubTable = ''
  if (SECTIONS.has('pubsub')) {
    const pub = await pubsubLatency()
    raw.pubsub = pub
    pubsubTable = formatTable(
      ['TideKV clients on the TideKV relay', 'publish→subscribe', 'set→watch', 'ratio'],
      (['p50', 'p99'] as const).map((q) => {
        const p = median(pub.publish.map((r) => r[q]))
        const s = median(pub.set.map((r) => r[q]))
        return [`remote latency ${q}`, fmt('ms', p), fmt('ms', s), `${(p / s).toFixed(2)}×`]
      }),
    )
  }

  for (const row of rows) {
    if (row.samples !== undefined && row.samples.tidekv.length === row.samples.stock.length && row.samples.tidekv.length > 0) {
      row.pairedRatio = median(row.samples.tidekv.map((t, i) => t / row.samples!.stock[i]!))
    }
  }
  const table = formatTable(
    ['row', 'TideKV relay', 'stock server', 'ratio', 'goal', 'met'],
    rows.map((r) => [r.label, fmt(r.unit, r.tidekv), fmt(r.unit, r.stock), r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`, r.goal, r.met === null ? '-' : r.met ? 'yes' : 'NO']),
  )
  const totalMs = now() - started
  console.log(
    [
      '',
      `TideKV relay (SQLite in a temp folder, every update appended before it is acknowledged) vs stock @y/websocket-server ${packageVersion('@y/websocket-server')} (in memory)`,
      `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; medians of ${REPS} repeats; ratio = TideKV / stock`,
      '',
      table,
      ...(pubsubTable === '' ? [] : ['', 'pub/sub: a message to a remote subscriber against a key to a remote watcher, alternating (medians of the repeats)', '', pubsubTable]),
      '',
      `total ${(totalMs / 1000).toFixed(1)} s · results in ${RESULTS.pathname}`,
    ].join('\n'),
  )
  for (const p of profiles) console.log(`\n${formatProfile(`CPU profile of the ${SERVER_LABEL[p.server]} (${p.section}), ${p.path}`, p.summary)}`)

  mkdirSync(new URL('./', RESULTS), { recursive: true })
  const json = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      reps: REPS,
      sections: [...SECTIONS],
      profiled: PROFILE,
      relayCpus: RELAY_CPUS ?? null,
      relayCli: RELAY_CLI,
      versions: {
        '@y/websocket-server': packageVersion('@y/websocket-server'),
        'y-websocket': packageVersion('y-websocket'),
        yjs: packageVersion('yjs'),
        ws: packageVersion('ws'),
        'better-sqlite3': packageVersion('better-sqlite3'),
      },
      parameters: { LAT_WRITES, LAT_WARMUP, LAT_GAP_MS, FAN_WRITES, FAN_READERS, FAN_WORKERS, IDLE_CONNS, IDLE_FIRST, IDLE_ROOMS, LOADED_ROOMS, ROOMS_FIRST, ROOM_KEYS },
      notes: [
        'TideKV relay: node --import tsx packages/relay/src/cli.ts --data <tmp> --allow-anonymous; SQLite (WAL, synchronous=NORMAL) append per update is on the measured path.',
        'stock server: @y/websocket-server setupWSConnection on ws WebSocketServer, in memory (no YPERSISTENCE).',
        'clients: y-websocket WebsocketProvider (disableBc, ws, awareness state null); fan-out readers and memory connections in reader processes.',
        'rows[].pairedRatio: median over repeats of TideKV / stock within a repeat (the two runs are adjacent in time); rows[].samples: the per-repeat figures.',
        'fan-out relay CPU: process.cpuUsage() of the relay over the run (user + system, all threads) / delivered updates.',
        'memory: growth of the relay process (heapUsed after two full GCs; RSS) from IDLE_FIRST to IDLE_CONNS idle connections, and from ROOMS_FIRST to ROOMS_FIRST + LOADED_ROOMS rooms left loaded after their client disconnected.',
      ],
      durationMs: Math.round(totalMs),
    },
    rows,
    raw,
    profiles: profiles.map((p) => ({ server: p.server, section: p.section, path: p.path, summary: p.summary })),
  }
  writeFileSync(RESULTS, `${JSON.stringify(json, null, 2)}\n`)
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: stopping the children`)
    // The 'exit' handler of children.ts kills whatever is left.
    process.exit(130)
  })
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
