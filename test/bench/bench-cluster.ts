/**
 * `npm run bench:cluster`: relays that share rooms through one Redis (issue
 * 11) against the single-process SQLite relay, in one run, on one throwaway
 * `redis-server` with AOF and `appendfsync always` (test/helpers/redis.ts,
 * durable: every update on disk before the relay acknowledges it).
 *
 * Configurations: the SQLite relay (one process, `--data <tmp>`, the
 * default), then 1, 2 and 3 relay processes on the Redis (`--redis`). The
 * relays run as in bench-relay.ts: child processes (node --expose-gc
 * --import tsx, plus relay-probe.ts, which reports CPU time and open sockets
 * over IPC). Four relay processes run for the whole fan-out and latency
 * sections: the SQLite relay and Redis relays A, B, C; configuration "Redis
 * ×n" is A..n, each configuration with rooms of its own, so the runs of all
 * configurations can alternate and share the machine's load alike. All on
 * 127.0.0.1.
 *
 * Sections:
 * - fan-out: one writer (a y-websocket provider in this process, on the
 *   configuration's first relay) and R readers in one room, reader i on
 *   relay i mod n, in reader processes of the configuration's own
 *   (reader-worker.ts; raw-socket readers by default, which leave the relays
 *   as the bottleneck). The writer pushes FAN_WRITES items as fast as it can;
 *   delivered updates/s = R × FAN_WRITES / (first write → last reader done);
 *   relay CPU per delivered update = the CPU time (process.cpuUsage, all
 *   threads) of every relay of the configuration over the run / delivered
 *   updates. Redis commands per written update: the delta of INFO
 *   commandstats over the run / FAN_WRITES (the bench's own INFO calls left
 *   out), with how many of them the relays sent (the others run inside the
 *   relay's Lua scripts: Redis counts those too); Redis CPU per written update
 *   from INFO cpu. The run ends once the readers have every write and Redis
 *   has been quiet for SETTLE_MS (the relay stores after it broadcasts); in
 *   every configuration alike, so each relay's CPU window is as long. Before
 *   a run the relays collect garbage and GC_SETTLE_MS pass before the CPU
 *   baseline is read (V8 sweeps on helper threads after a full collection,
 *   which process.cpuUsage counts, once per process). The relays' CPU while
 *   idle, readers connected, is logged (a few ms/s).
 * - latency: write→observe, one y-websocket provider sets a Y.Map key, the
 *   other observes it: both on the SQLite relay, both on Redis relay A, and
 *   A → B (different relays: through Redis). Writes alternate one by one
 *   between the three pairs; p50 and p99 over LAT_WRITES (after LAT_WARMUP).
 *   The Redis commands and CPU per written update over these spaced-out
 *   writes are reported too: no burst to merge, the worst case per update.
 * - memory: a Redis relay of its own; TideKV clients (openStore, persist:
 *   false) write MEM_SMALL_ROOMS rooms of one key and MEM_BIG_ROOMS rooms of
 *   MEM_BIG_KEYS keys (`user:<i>:prefs` → { theme, lang, n }, one key per
 *   event-loop turn, as an app sets them one by one). MEMORY USAGE (SAMPLES
 *   0) of each room's keys (`tidekv:{r<base64url>}:seq|log|snap` and
 *   `:owners:seq|log|snap`), plus the room's member of `tidekv:rooms`, and
 *   INFO memory used_memory growth, as written (relay running, rooms loaded)
 *   and after compaction (the relay stopped with SIGTERM: it unloads every
 *   room, and unloading compacts a room whose log grew, as an idle room's
 *   unload after idleRoomMs does).
 *
 * Each fan-out figure is the median of FAN_REPS runs (the runs are short),
 * each latency figure the median over REPS repeats, after a warm-up run or
 * warm-up writes. Results: tables and a capacity sketch on
 * stdout, JSON in test/bench/results/bench-cluster.json. Not part of `npm
 * test`; about 80 seconds.
 *
 * Environment: BENCH_CLUSTER_REPS (default 5); BENCH_CLUSTER_SECTIONS
 * (default 'memory,latency,fanout'); BENCH_CLUSTER_READERS (fan-out reader
 * kinds, 'raw' and/or 'provider', default 'raw'); BENCH_CLUSTER_PROFILE=1
 * (the relays run with --cpu-prof; a summary of each profile's main thread is
 * printed); BENCH_CLUSTER_FAN_WRITES (default 200); BENCH_CLUSTER_FAN_REPS
 * (fan-out runs per configuration, default 15); BENCH_CLUSTER_DURABLE=0
 * (diagnosis only: Redis without AOF, to see what the fsync of each write
 * costs).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import WebSocket from 'ws'
import { openStore, type Store } from '../../packages/client/src/index.js'
import { roomTag } from '../../packages/relay/src/redis-storage.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'
import { benchFile, Child, TSX } from './children.js'
import { formatBytes, formatTable, fullGC, gcExposed, median, now, packageVersion } from './measure.js'
import { formatProfile, type ProfileSummary, summarizeProfile } from './profile-summary.js'
import { absNow, type BenchProvider, closeProvider, openProvider, sleep, whenSynced } from './providers.js'
import type { ProbeStats } from './relay-probe.js'

// ---- parameters -------------------------------------------------------------

const REPS = Number(process.env.BENCH_CLUSTER_REPS ?? 5)
/** Fan-out runs are short (tens of ms): more of them, for a steadier median. */
const FAN_REPS = Number(process.env.BENCH_CLUSTER_FAN_REPS ?? 15)
const SECTIONS = new Set((process.env.BENCH_CLUSTER_SECTIONS ?? 'memory,latency,fanout').split(',').map((s) => s.trim()))
const PROFILE = process.env.BENCH_CLUSTER_PROFILE === '1'
/** For diagnosis only: BENCH_CLUSTER_DURABLE=0 runs Redis without AOF, to see what the fsync of every write costs. */
const DURABLE = process.env.BENCH_CLUSTER_DURABLE !== '0'
const PERSISTENCE = DURABLE ? 'appendonly yes, appendfsync always' : 'appendonly no: NOT DURABLE, diagnosis only'
const RELAY_CLI = 'packages/relay/src/cli.ts'
/** Relay processes on Redis in the largest configuration. */
const REDIS_RELAYS = 3
const FAN_WRITES = Number(process.env.BENCH_CLUSTER_FAN_WRITES ?? 200)
const FAN_READERS = [100, 500] as const
/** Reader processes per configuration. */
const FAN_WORKERS = 2
/** How long the relays' idle CPU is measured before the fan-out runs. */
const IDLE_MS = 2_000
/** Pause after the relays' full collections before a fan-out run's CPU baseline is read. */
const GC_SETTLE_MS = 200
/** Round trips timed from the bench to Redis (PING, and a durable append like the relay's). */
const RTT_SAMPLES = 1_000
/** How long Redis must see no command before a fan-out run counts as over (the relay stores after it broadcasts). */
const SETTLE_MS = 50
const LAT_WRITES = 1_000
const LAT_WARMUP = 100
/** Pause between latency writes, ms (keeps the writers under the relay's 500 messages/s average). */
const LAT_GAP_MS = 1
const MEM_SMALL_ROOMS = 200
const MEM_BIG_ROOMS = 5
const MEM_BIG_KEYS = 1_000
/** Stores writing at once in the memory section. */
const MEM_BATCH = 20
/** The capacity sketch: rooms, and keys per room. */
const SKETCH_ROOMS = 1_000_000
const SKETCH_KEYS = [1, 20, 1_000] as const
const RUN_TIMEOUT_MS = 60_000
/** The relay's key prefix (redis-storage.ts's default; the CLI has no option for it). */
const PREFIX = 'tidekv'

const RESULTS = new URL('./results/bench-cluster.json', import.meta.url)
const started = now()

function log(message: string): void {
  process.stderr.write(`[bench:cluster ${((now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench sanity check failed: ${message}`)
}

/** Rejects with `label` if `promise` has not settled within `ms`: every wait of the bench is bounded. */
function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: not done within ${ms} ms`)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')

// ---- what the 'exit' handler removes ---------------------------------------------

/** Temporary folders (relay data, profiles) and redis-server's pid and folder: removed however the bench ends. */
const leftovers: { dirs: Set<string>; redis: { pid: number; dir: string } | null } = { dirs: new Set(), redis: null }

process.on('exit', () => {
  // children.ts SIGKILLs the relays and readers; redis-server is test/helpers/redis.ts's child, not one of those.
  if (leftovers.redis !== null) {
    try {
      process.kill(leftovers.redis.pid, 'SIGKILL')
    } catch {
      // reason: already gone
    }
    if (leftovers.redis.dir !== '') rmSync(leftovers.redis.dir, { recursive: true, force: true })
  }
  for (const dir of leftovers.dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), prefix))
  leftovers.dirs.add(dir)
  return dir
}

// ---- relays and reader processes ------------------------------------------------

interface RelayHandle {
  name: string
  /** ws://127.0.0.1:PORT */
  url: string
  child: Child
  dataDir: string
  profileDir?: string
  /** Open TCP sockets with no client connected (a Redis relay's two Redis connections). */
  baseSockets: number
  stats(gc?: boolean): Promise<ProbeStats>
}

const relays = new Set<RelayHandle>()
const profiles: { relay: string; section: string; path: string; summary: ProfileSummary }[] = []

/** A relay process: SQLite in a temp folder, or on the Redis at `redisUrl`. */
async function startRelay(name: string, redisUrl?: string): Promise<RelayHandle> {
  const probe = benchFile('relay-probe.ts')
  const profileDir = PROFILE ? tempDir(`tidekv-bench-prof-${name}-`) : undefined
  const execArgv = ['--expose-gc', ...TSX, '--import', probe.url, ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])]
  // A Redis relay still takes --data (unused): one command line works either way.
  const dataDir = tempDir('tidekv-bench-cluster-relay-')
  const args = ['--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--allow-anonymous', ...(redisUrl === undefined ? [] : ['--redis', redisUrl])]
  const child = new Child(`relay ${name}`, RELAY_CLI, args, { execArgv })
  const handle: RelayHandle = { name, url: '', child, dataDir, profileDir, baseSockets: 0, stats: (gc = false) => child.call<ProbeStats>('stats', { gc }, 30_000) }
  relays.add(handle)
  const [, address] = await child.waitForOutput(/listening on http:\/\/([\d.]+:\d+)/, 30_000)
  handle.url = `ws://${address}`
  handle.baseSockets = (await handle.stats()).sockets
  return handle
}

/** SIGTERM: the relay unloads (and so compacts) every room before it exits. */
async function stopRelay(relay: RelayHandle, section: string): Promise<void> {
  relays.delete(relay)
  await relay.child.stop()
  rmSync(relay.dataDir, { recursive: true, force: true })
  if (relay.profileDir !== undefined) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the others: tsx's loader).
    for (const file of readdirSync(relay.profileDir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))) {
      const path = join(relay.profileDir, file)
      profiles.push({ relay: relay.name, section, path, summary: summarizeProfile(path, 20) })
    }
  }
}

const workers: Child[] = []

function startWorkers(n: number, label: string): Child[] {
  const pool = Array.from({ length: n }, (_, i) => new Child(`reader process ${label}.${i}`, benchFile('reader-worker.ts').path, [], { execArgv: TSX }))
  workers.push(...pool)
  return pool
}

/** Waits until the relay has no client socket open. */
async function noClients(relay: RelayHandle, timeoutMs = 15_000): Promise<void> {
  const deadline = now() + timeoutMs
  for (;;) {
    const { sockets } = await relay.stats()
    if (sockets <= relay.baseSockets) return
    if (now() > deadline) throw new Error(`relay ${relay.name}: still ${sockets - relay.baseSockets} client sockets open after ${timeoutMs} ms`)
    await sleep(100)
  }
}

function percentile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

const cpuMs = (s: ProbeStats): number => (s.cpuUser + s.cpuSystem) / 1000

// ---- Redis: commands, CPU, memory ----------------------------------------------------

let redis: RedisServer

/** INFO <section> as key → value. */
async function info(section: string): Promise<Map<string, string>> {
  const text = await redis.client.info(section)
  const fields = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

/** Commands the bench sends itself: not the relays' work. */
const BENCH_COMMANDS = new Set(['info', 'memory', 'xlen', 'ping'])
/**
 * Commands the relays run only inside their Lua scripts (redis-storage.ts's
 * APPEND, LOAD and COMPACT). Redis counts them in commandstats as well as the
 * EVAL around them; the rest is what the relays send. (GET is also sent on its
 * own before a compaction whose bound is not a positive integer, which the
 * relay never asks for.)
 */
const SCRIPT_COMMANDS = new Set(['incr', 'xadd', 'get', 'hgetall', 'xrange', 'hkeys', 'hdel', 'hset', 'xtrim'])

interface RedisSample {
  /** Calls per command (lower case), the bench's own left out. */
  calls: Record<string, number>
  /** used_cpu_user and used_cpu_sys, ms. */
  userMs: number
  sysMs: number
}

async function redisSample(): Promise<RedisSample> {
  const [stats, cpu] = await Promise.all([info('commandstats'), info('cpu')])
  const calls: Record<string, number> = {}
  for (const [key, value] of stats) {
    const command = key.replace(/^cmdstat_/, '')
    if (BENCH_COMMANDS.has(command)) continue
    calls[command] = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0)
  }
  return { calls, userMs: Number(cpu.get('used_cpu_user')) * 1000, sysMs: Number(cpu.get('used_cpu_sys')) * 1000 }
}

interface RedisWork {
  /** Every command Redis ran, those inside scripts included. */
  commands: number
  /** The commands the relays sent (EVAL, SADD, SPUBLISH, ...). */
  sent: number
  /** Redis CPU time, user and system. */
  userMs: number
  sysMs: number
  byCommand: Record<string, number>
}

function redisWork(before: RedisSample, after: RedisSample): RedisWork {
  const byCommand: Record<string, number> = {}
  let commands = 0
  let sent = 0
  for (const [command, calls] of Object.entries(after.calls)) {
    const n = calls - (before.calls[command] ?? 0)
    if (n === 0) continue
    byCommand[command] = n
    commands += n
    if (!SCRIPT_COMMANDS.has(command)) sent += n
  }
  return { commands, sent, userMs: after.userMs - before.userMs, sysMs: after.sysMs - before.sysMs, byCommand }
}

const totalCalls = (s: RedisSample): number => Object.values(s.calls).reduce((a, b) => a + b, 0)

/** Waits until Redis has run no relay command for SETTLE_MS (bounded); returns the last sample. */
async function redisQuiet(timeoutMs = 5_000): Promise<RedisSample> {
  const deadline = now() + timeoutMs
  let last = await redisSample()
  for (;;) {
    await sleep(SETTLE_MS)
    const next = await redisSample()
    if (totalCalls(next) === totalCalls(last) || now() > deadline) return next
    last = next
  }
}

/** Per written update, from the Redis work of `updates` written updates. */
function perUpdate(work: RedisWork, updates: number): { commands: number; sent: number; cpuUs: number; userUs: number; sysUs: number; byCommand: Record<string, number> } {
  const byCommand = Object.fromEntries(Object.entries(work.byCommand).map(([c, n]) => [c, n / updates]))
  const us = (ms: number) => (ms * 1000) / updates
  return { commands: work.commands / updates, sent: work.sent / updates, cpuUs: us(work.userMs + work.sysMs), userUs: us(work.userMs), sysUs: us(work.sysMs), byCommand }
}

interface RoundTrips {
  pingP50: number
  pingP99: number
  /** An EVAL of INCR + XADD (the relay's append) on a scratch key: with appendfsync always, its reply waits for the AOF's fsync. */
  appendP50: number
  appendP99: number
  /** Redis's CPU while idle (serverCron), ms per second. */
  idleCpuMsPerS: number
}

const SCRATCH_APPEND = `
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], seq .. '-1', 'u', ARGV[1])
return seq`

/** Times round trips from this process to Redis, one at a time, and Redis's idle CPU: what the cross-relay path adds, measured on its own. */
async function roundTrips(): Promise<RoundTrips> {
  const time = async (n: number, op: () => Promise<unknown>): Promise<number[]> => {
    const xs: number[] = []
    for (let i = 0; i < n; i++) {
      const t0 = now()
      await op()
      xs.push(now() - t0)
    }
    return xs
  }
  const keys = ['bench:rtt:{x}:seq', 'bench:rtt:{x}:log']
  const payload = Buffer.alloc(40, 1)
  await time(100, () => redis.client.ping())
  const ping = await time(RTT_SAMPLES, () => redis.client.ping())
  await time(100, () => redis.client.eval(SCRATCH_APPEND, 2, ...keys, payload))
  const append = await time(RTT_SAMPLES, () => redis.client.eval(SCRATCH_APPEND, 2, ...keys, payload))
  await redis.client.del(...keys)
  const idleBefore = await redisSample()
  await sleep(2_000)
  const idleAfter = await redisSample()
  return {
    pingP50: percentile(ping, 0.5),
    pingP99: percentile(ping, 0.99),
    appendP50: percentile(append, 0.5),
    appendP99: percentile(append, 0.99),
    idleCpuMsPerS: (idleAfter.userMs + idleAfter.sysMs - idleBefore.userMs - idleBefore.sysMs) / 2,
  }
}

// ---- configurations ----------------------------------------------------------------------

const CONFIG_IDS = ['sqlite', 'redis-1', 'redis-2', 'redis-3'] as const
type ConfigId = (typeof CONFIG_IDS)[number]
const CONFIG_LABEL: Record<ConfigId, string> = { sqlite: 'SQLite relay', 'redis-1': 'Redis ×1', 'redis-2': 'Redis ×2', 'redis-3': 'Redis ×3' }

interface Config {
  id: ConfigId
  /** Its relay processes; the writer is on the first. */
  relays: RelayHandle[]
  redis: boolean
}

// ---- fan-out --------------------------------------------------------------------------------

interface FanRun {
  rep: number
  ms: number
  updatesPerSecond: number
  /** CPU time of the configuration's relays during the run, ms, each and summed. */
  relayCpuMs: number[]
  relayCpuUsPerUpdate: number
  /** CPU time of the reader processes. */
  readersCpuMs: number
  /** Redis configurations: Redis's work per written update. */
  redis?: ReturnType<typeof perUpdate>
}

type ReaderKind = 'provider' | 'raw'
const READER_KINDS = (process.env.BENCH_CLUSTER_READERS ?? 'raw').split(',').map((k): ReaderKind => {
  const kind = k.trim()
  if (kind !== 'provider' && kind !== 'raw') throw new Error(`BENCH_CLUSTER_READERS: "${kind}" is neither provider nor raw`)
  return kind
})
const fanKey = (kind: ReaderKind, readers: number): string => `${kind}-${readers}`

type FanResult = Record<string, Record<ConfigId, FanRun[]>>

/** Opens `readers` readers of `room`: reader i on relay i mod n, spread over the configuration's reader processes. */
async function openReaders(config: Config, pool: Child[], room: string, readers: number, raw: boolean): Promise<void> {
  const urls = Array.from({ length: readers }, (_, i) => config.relays[i % config.relays.length]!.url)
  await Promise.all(
    pool.map(async (worker, w) => {
      const mine = urls.filter((_, i) => i % pool.length === w)
      for (const url of new Set(mine)) await worker.call('open', { url, rooms: mine.filter((u) => u === url).map(() => room), raw }, RUN_TIMEOUT_MS)
    }),
  )
}

/** One timed run: FAN_WRITES pushes by the writer until every reader has all `expected` writes. */
async function fanRun(config: Config, pool: Child[], writer: BenchProvider, expected: number, readers: number, rep: number): Promise<FanRun> {
  await Promise.all(pool.map((w) => w.call('arm', { expected })))
  const done = Promise.all(pool.map((w) => w.call<{ times: number[]; cpuMs: number }>('done', {}, RUN_TIMEOUT_MS)))
  fullGC()
  // A full collection leaves sweeping to V8's helper threads, which process.cpuUsage counts: once per
  // process, so it would weigh on the configurations of more processes. Collect, let it finish, then read.
  await Promise.all(config.relays.map((r) => r.stats(true)))
  await sleep(GC_SETTLE_MS)
  const before = await Promise.all(config.relays.map((r) => r.stats()))
  const redisBefore = config.redis ? await redisSample() : null
  const array = writer.doc.getArray<number>('a')
  const t0 = absNow()
  for (let i = 0; i < FAN_WRITES; i++) array.push([i])
  const replies = await done
  // The writer's relay stores the burst after it has sent it: the run is over once Redis is quiet.
  // Waited for in every configuration alike, so each relay's window is as long.
  const quiet = await redisQuiet()
  const redisAfter = config.redis ? quiet : null
  const after = await Promise.all(config.relays.map((r) => r.stats()))
  const times = replies.flatMap((r) => r.times)
  check(times.length === readers && times.every((t) => t > 0), `${config.id}: every reader done`)
  const ms = Math.max(...times) - t0
  const relayCpuMs = config.relays.map((_, i) => cpuMs(after[i]!) - cpuMs(before[i]!))
  const total = relayCpuMs.reduce((a, b) => a + b, 0)
  return {
    rep,
    ms,
    updatesPerSecond: (readers * FAN_WRITES) / (ms / 1000),
    relayCpuMs,
    relayCpuUsPerUpdate: (total * 1000) / (readers * FAN_WRITES),
    readersCpuMs: replies.reduce((n, r) => n + r.cpuMs, 0),
    ...(redisBefore === null || redisAfter === null ? {} : { redis: perUpdate(redisWork(redisBefore, redisAfter), FAN_WRITES) }),
  }
}

function describeFanRun(config: Config, kind: ReaderKind, readers: number, run: FanRun): string {
  const redisPart =
    run.redis === undefined ? '' : `; Redis ${run.redis.commands.toFixed(2)} commands (${run.redis.sent.toFixed(2)} sent), ${run.redis.cpuUs.toFixed(1)} µs CPU per write`
  return (
    `fan-out ${readers} ${kind} readers, ${CONFIG_LABEL[config.id]}, ${run.rep < 0 ? 'warm-up' : `rep ${run.rep}`}: ${run.ms.toFixed(0)} ms, ` +
    `${Math.round(run.updatesPerSecond).toLocaleString('en-US')} updates/s, relay CPU ${run.relayCpuMs.map((c) => c.toFixed(0)).join('+')} ms ` +
    `(${run.relayCpuUsPerUpdate.toFixed(2)} µs/update)${redisPart}`
  )
}

/** Each relay's CPU time per second while its readers are connected and nothing is written, ms/s. */
async function idleCpu(configs: Config[]): Promise<Map<string, number>> {
  const all = [...new Set(configs.flatMap((c) => c.relays))]
  const before = await Promise.all(all.map((r) => r.stats()))
  const t0 = now()
  await sleep(IDLE_MS)
  const after = await Promise.all(all.map((r) => r.stats()))
  const seconds = (now() - t0) / 1000
  return new Map(all.map((r, i) => [r.name, (cpuMs(after[i]!) - cpuMs(before[i]!)) / seconds]))
}

async function fanOut(configs: Config[], pools: Record<ConfigId, Child[]>): Promise<FanResult> {
  const result: FanResult = {}
  for (const kind of READER_KINDS) {
    for (const readers of FAN_READERS) {
      const key = fanKey(kind, readers)
      const runs = Object.fromEntries(configs.map((c) => [c.id, [] as FanRun[]])) as Record<ConfigId, FanRun[]> // reason: one entry per configuration, made right here
      result[key] = runs
      const writers = new Map<ConfigId, BenchProvider>()
      const written = new Map<ConfigId, number>()
      try {
        for (const config of configs) {
          log(`fan-out: ${readers} ${kind} readers on ${CONFIG_LABEL[config.id]} (${config.relays.length} relay process${config.relays.length > 1 ? 'es' : ''})`)
          const room = `fan-${key}-${config.id}`
          await openReaders(config, pools[config.id], room, readers, kind === 'raw')
          const writer = openProvider(config.relays[0]!.url, room)
          writers.set(config.id, writer)
          await whenSynced(writer)
          written.set(config.id, 0)
        }
        const idle = await idleCpu(configs)
        log(`fan-out ${key}: relays' CPU while idle with the readers connected: ${[...idle].map(([r, ms]) => `${r} ${ms.toFixed(1)}`).join(', ')} ms/s`)
        for (let rep = -1; rep < FAN_REPS; rep++) {
          // Which configuration goes first rotates, so none always runs right after another's burst.
          const shift = (rep + 1) % configs.length
          for (const config of [...configs.slice(shift), ...configs.slice(0, shift)]) {
            const expected = written.get(config.id)! + FAN_WRITES
            written.set(config.id, expected)
            const run = await fanRun(config, pools[config.id], writers.get(config.id)!, expected, readers, rep)
            log(describeFanRun(config, kind, readers, run))
            if (rep >= 0) runs[config.id].push(run)
          }
        }
        for (const config of configs) {
          const closed = await Promise.all(pools[config.id].map((w) => w.call<{ disconnects: number }>('close')))
          const disconnects = closed.reduce((n, c) => n + c.disconnects, 0)
          check(disconnects === 0, `${config.id}: ${disconnects} reader connections dropped during the fan-out runs`)
        }
      } finally {
        for (const writer of writers.values()) closeProvider(writer)
      }
      for (const config of configs) for (const relay of config.relays) await noClients(relay)
    }
  }
  return result
}

// ---- latency --------------------------------------------------------------------------------

const PAIRS = ['sqlite-same', 'redis-same', 'redis-cross'] as const
type PairId = (typeof PAIRS)[number]
const PAIR_LABEL: Record<PairId, string> = { 'sqlite-same': 'SQLite relay', 'redis-same': 'Redis, same relay', 'redis-cross': 'Redis, different relays' }

/** A writer and a reader of one room: `write(v)` sets a value, `seen(v)` resolves with now() once the reader has it. */
interface LatencyPair {
  seen(value: number): Promise<number>
  write(value: number): void
  close(): void
}

/** Two y-websocket providers, the writer on `writerUrl` and the reader on `readerUrl`; one sets a Y.Map key, the other observes the map. */
async function providerPair(writerUrl: string, readerUrl: string, room: string): Promise<LatencyPair> {
  const writer = openProvider(writerUrl, room)
  const reader = openProvider(readerUrl, room)
  await Promise.all([whenSynced(writer), whenSynced(reader)])
  const out = writer.doc.getMap<number>('m')
  const seen = reader.doc.getMap<number>('m')
  let waiting: { value: number; resolve: (t: number) => void } | null = null
  seen.observe(() => {
    if (waiting === null || seen.get('k') !== waiting.value) return
    const w = waiting
    waiting = null
    w.resolve(now())
  })
  return {
    seen: (value) => within(new Promise<number>((resolve) => (waiting = { value, resolve })), 10_000, `${room}: write ${value} observed`),
    write: (value) => out.set('k', value),
    close: () => {
      closeProvider(writer)
      closeProvider(reader)
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

interface LatencyResult {
  runs: Record<PairId, LatencyRun[]>
  /** Redis's work per written update of the two Redis pairs, per repeat. */
  redis: ReturnType<typeof perUpdate>[]
}

/** Writes alternate one by one between the pairs (the order rotates), so a burst of load elsewhere hits all alike. Returns ms per write. */
async function interleavedLatency(pairs: Record<PairId, LatencyPair>): Promise<Record<PairId, number[]>> {
  const samples: Record<PairId, number[]> = { 'sqlite-same': [], 'redis-same': [], 'redis-cross': [] }
  for (let i = -LAT_WARMUP; i < LAT_WRITES; i++) {
    const shift = (i + LAT_WARMUP) % PAIRS.length
    for (const id of [...PAIRS.slice(shift), ...PAIRS.slice(0, shift)]) {
      const pair = pairs[id]
      const seen = pair.seen(i)
      const t0 = now()
      pair.write(i)
      const t1 = await seen
      if (i >= 0) samples[id].push(t1 - t0)
      await sleep(LAT_GAP_MS)
    }
  }
  return samples
}

async function latency(sqlite: RelayHandle, a: RelayHandle, b: RelayHandle): Promise<LatencyResult> {
  const result: LatencyResult = { runs: { 'sqlite-same': [], 'redis-same': [], 'redis-cross': [] }, redis: [] }
  const ends: Record<PairId, [RelayHandle, RelayHandle]> = { 'sqlite-same': [sqlite, sqlite], 'redis-same': [a, a], 'redis-cross': [a, b] }
  for (let rep = 0; rep < REPS; rep++) {
    const opened: LatencyPair[] = []
    try {
      const pairs = {} as Record<PairId, LatencyPair> // reason: filled for every pair by the loop right below, before any read
      for (const id of PAIRS) {
        pairs[id] = await providerPair(ends[id][0].url, ends[id][1].url, `lat-${id}-${rep}`)
        opened.push(pairs[id])
      }
      fullGC()
      const before = await redisSample()
      const samples = await interleavedLatency(pairs)
      const after = await redisQuiet()
      // Every write of the two Redis pairs, warm-up included, went through Redis.
      result.redis.push(perUpdate(redisWork(before, after), 2 * (LAT_WARMUP + LAT_WRITES)))
      for (const id of PAIRS) {
        const xs = samples[id]
        check(xs.length === LAT_WRITES, 'every write observed')
        const r: LatencyRun = { rep, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), mean: xs.reduce((s, x) => s + x, 0) / xs.length, max: Math.max(...xs) }
        result.runs[id].push(r)
        log(`latency ${PAIR_LABEL[id]}, rep ${rep}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`)
      }
    } finally {
      for (const pair of opened) pair.close()
    }
  }
  for (const relay of new Set([sqlite, a, b])) await noClients(relay)
  return result
}

// ---- Redis memory ------------------------------------------------------------------------

const ROOM_KEYS = ['seq', 'log', 'snap', 'owners:seq', 'owners:log', 'owners:snap'] as const
type RoomKey = (typeof ROOM_KEYS)[number]

/** A room's Redis keys (redis-storage.ts's layout). */
function redisKeys(room: string): Record<RoomKey, string> {
  const base = `${PREFIX}:{${roomTag(room)}}`
  return Object.fromEntries(ROOM_KEYS.map((k) => [k, `${base}:${k}`])) as Record<RoomKey, string> // reason: one entry per ROOM_KEYS name, made right here
}

interface RoomBytes {
  /** Mean over the rooms of MEMORY USAGE summed over the room's keys, plus its share of `tidekv:rooms`. */
  perRoom: number
  /** Mean MEMORY USAGE per key kind (0 where the key does not exist). */
  byKey: Record<RoomKey, number>
  /** Growth of `tidekv:rooms` per room. */
  roomsSetPerRoom: number
  /** Growth of INFO memory used_memory per room. */
  usedMemoryPerRoom: number
  /** Mean entries in the room's update stream (XLEN of :log). */
  logEntries: number
}

interface MemoryPhase {
  rooms: number
  keysPerRoom: number
  /** As written: the relay running, the rooms loaded (their sharded channels subscribed). */
  written: RoomBytes
  /** After the relay unloaded every room (compacting those whose log grew) and disconnected. */
  compacted: RoomBytes
}

const usedMemory = async (): Promise<number> => Number((await info('memory')).get('used_memory'))

async function memoryUsage(key: string): Promise<number> {
  const bytes = await redis.client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')
  return typeof bytes === 'number' ? bytes : 0
}

/** What the rooms take in Redis now, against `base` (used_memory and the size of `tidekv:rooms` before they were written). */
async function roomBytes(rooms: readonly string[], base: { used: number; roomsSet: number }): Promise<RoomBytes> {
  const byKey = Object.fromEntries(ROOM_KEYS.map((k) => [k, 0])) as Record<RoomKey, number> // reason: one entry per ROOM_KEYS name, made right here
  let logEntries = 0
  for (const room of rooms) {
    const keys = redisKeys(room)
    const sizes = await Promise.all(ROOM_KEYS.map((k) => memoryUsage(keys[k])))
    ROOM_KEYS.forEach((k, i) => (byKey[k] += sizes[i]! / rooms.length))
    logEntries += Number(await redis.client.call('XLEN', keys.log)) / rooms.length
  }
  const roomsSetPerRoom = ((await memoryUsage(`${PREFIX}:rooms`)) - base.roomsSet) / rooms.length
  const usedMemoryPerRoom = ((await usedMemory()) - base.used) / rooms.length
  const perRoom = Object.values(byKey).reduce((a, b) => a + b, 0) + roomsSetPerRoom
  return { perRoom, byKey, roomsSetPerRoom, usedMemoryPerRoom, logEntries }
}

/** A TideKV store (memory only) on `room` through `url` that writes `keys` keys, one per event-loop turn, until the relay has stored them all. */
async function writeRoom(url: string, room: string, keys: number): Promise<Store> {
  const store = await openStore(`store-${room}`, { persist: false, tabs: false, sync: { url, room, WebSocket, maxBackoffMs: 1_000 } })
  for (let k = 0; k < keys; k++) {
    store.set(`user:${k}:prefs`, { theme: k % 2 === 0 ? 'dark' : 'light', lang: 'en', n: k })
    await nextTurn()
  }
  await within(store.whenSynced(), RUN_TIMEOUT_MS, `${room}: whenSynced`)
  return store
}

/** Writes `rooms` rooms of `keys` keys through a relay of its own, measures, stops the relay (which compacts), measures again. */
async function memoryPhase(redisUrl: string, name: string, rooms: number, keys: number): Promise<MemoryPhase> {
  const names = Array.from({ length: rooms }, (_, i) => `mem-${name}-${i}`)
  const base = { used: await usedMemory(), roomsSet: await memoryUsage(`${PREFIX}:rooms`) }
  const relay = await startRelay(`memory-${name}`, redisUrl)
  const stores: Store[] = []
  let written: RoomBytes
  try {
    log(`memory: ${rooms} rooms of ${keys} key${keys > 1 ? 's' : ''}, written by TideKV clients`)
    for (let i = 0; i < names.length; i += MEM_BATCH) stores.push(...(await Promise.all(names.slice(i, i + MEM_BATCH).map((room) => writeRoom(relay.url, room, keys)))))
    written = await roomBytes(names, base)
  } finally {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)))
    await stopRelay(relay, 'memory')
  }
  const compacted = await roomBytes(names, base)
  log(`memory: ${name} rooms, ${written.perRoom.toFixed(0)} B per room as written (${written.logEntries.toFixed(1)} log entries), ${compacted.perRoom.toFixed(0)} B compacted`)
  return { rooms, keysPerRoom: keys, written, compacted }
}

interface MemoryResult {
  small: MemoryPhase
  big: MemoryPhase
  /** Bytes per key: (a big room − a small room) / (MEM_BIG_KEYS − 1), from MEMORY USAGE and from used_memory. */
  perKey: { written: number; compacted: number; writtenUsed: number; compactedUsed: number }
}

async function memory(redisUrl: string): Promise<MemoryResult> {
  const small = await memoryPhase(redisUrl, 'small', MEM_SMALL_ROOMS, 1)
  const big = await memoryPhase(redisUrl, 'big', MEM_BIG_ROOMS, MEM_BIG_KEYS)
  const slope = (pick: (p: MemoryPhase) => number) => (pick(big) - pick(small)) / (MEM_BIG_KEYS - 1)
  return {
    small,
    big,
    perKey: {
      written: slope((p) => p.written.perRoom),
      compacted: slope((p) => p.compacted.perRoom),
      writtenUsed: slope((p) => p.written.usedMemoryPerRoom),
      compactedUsed: slope((p) => p.compacted.usedMemoryPerRoom),
    },
  }
}

// ---- tables -----------------------------------------------------------------------------------

const fmtRate = (v: number): string => `${Math.round(v).toLocaleString('en-US')}/s`
const fmtUs = (v: number): string => `${v.toFixed(2)} µs`
const fmtMs = (v: number): string => `${v.toFixed(3)} ms`
const fmtCount = (v: number): string => v.toFixed(2)
const fmtBytes = (v: number): string => (v < 0 ? `-${formatBytes(Math.round(-v))}` : formatBytes(Math.round(v)))

interface FanRow {
  id: string
  label: string
  values: Partial<Record<ConfigId, number>>
  unit: 'updates/s' | 'µs' | 'count'
  /** Redis ×n / SQLite, for each Redis configuration. */
  ratios?: Partial<Record<ConfigId, number>>
  goal: string
  met: boolean | null
}

function fanRows(fan: FanResult, configs: Config[]): FanRow[] {
  const rows: FanRow[] = []
  const pick = (runs: Record<ConfigId, FanRun[]>, f: (r: FanRun) => number | undefined): Partial<Record<ConfigId, number>> => {
    const out: Partial<Record<ConfigId, number>> = {}
    for (const c of configs) {
      const xs = runs[c.id].map(f).filter((x): x is number => x !== undefined)
      if (xs.length > 0) out[c.id] = median(xs)
    }
    return out
  }
  for (const kind of READER_KINDS) {
    for (const readers of FAN_READERS) {
      const key = fanKey(kind, readers)
      const runs = fan[key]!
      rows.push({
        id: `fanout-${key}`,
        label: `fan-out ${readers} ${kind === 'raw' ? 'raw-socket' : 'y-websocket'} readers × ${FAN_WRITES} writes, updates/s`,
        values: pick(runs, (r) => r.updatesPerSecond),
        unit: 'updates/s',
        goal: '(info)',
        met: null,
      })
      const cpu = pick(runs, (r) => r.relayCpuUsPerUpdate)
      const ratios: Partial<Record<ConfigId, number>> = {}
      for (const c of configs) if (c.redis && cpu[c.id] !== undefined && cpu.sqlite !== undefined) ratios[c.id] = cpu[c.id]! / cpu.sqlite
      rows.push({
        id: `fanout-${key}-cpu`,
        label: '  relay CPU per delivered update (all relays)',
        values: cpu,
        unit: 'µs',
        ratios,
        goal: '≤ 1.50× SQLite',
        met: Object.values(ratios).every((r) => r <= 1.5),
      })
      rows.push(
        {
          id: `fanout-${key}-redis-commands`,
          label: '  Redis commands per written update',
          values: pick(runs, (r) => r.redis?.commands),
          unit: 'count',
          goal: '(info)',
          met: null,
        },
        {
          id: `fanout-${key}-redis-sent`,
          label: '    of which sent by relays (not in scripts)',
          values: pick(runs, (r) => r.redis?.sent),
          unit: 'count',
          goal: '(info)',
          met: null,
        },
        { id: `fanout-${key}-redis-cpu`, label: '  Redis CPU per written update', values: pick(runs, (r) => r.redis?.cpuUs), unit: 'µs', goal: '(info)', met: null },
      )
    }
  }
  return rows
}

/** 'yes' or 'NO' for each Redis configuration's ratio, in order. */
function metCell(row: FanRow): string {
  if (row.met === null) return '-'
  return Object.values(row.ratios ?? {})
    .map((r) => (r <= 1.5 ? 'yes' : 'NO'))
    .join(' ')
}

function fanTable(rows: FanRow[], configs: Config[]): string {
  const cell = (row: FanRow, id: ConfigId): string => {
    const v = row.values[id]
    if (v === undefined) return '-'
    return row.unit === 'updates/s' ? fmtRate(v) : row.unit === 'µs' ? fmtUs(v) : fmtCount(v)
  }
  return formatTable(
    ['row', ...configs.map((c) => CONFIG_LABEL[c.id]), 'Redis / SQLite', 'goal', 'met'],
    rows.map((r) => [
      r.label,
      ...configs.map((c) => cell(r, c.id)),
      r.ratios === undefined
        ? ''
        : Object.values(r.ratios)
            .map((x) => `${x.toFixed(2)}×`)
            .join(' '),
      r.goal,
      metCell(r),
    ]),
  )
}

interface LatencyRow {
  id: string
  label: string
  values: Record<PairId, number>
  /** Different relays / same relay (Redis). */
  ratio: number
  goal: string
  met: boolean | null
}

function latencyRows(lat: LatencyResult): LatencyRow[] {
  return (['p50', 'p99'] as const).map((q) => {
    const values = Object.fromEntries(PAIRS.map((id) => [id, median(lat.runs[id].map((r) => r[q]))])) as Record<PairId, number> // reason: one entry per pair, made right here
    const ratio = values['redis-cross'] / values['redis-same']
    return {
      id: `latency-${q}`,
      label: `write→observe latency ${q}, y-websocket clients`,
      values,
      ratio,
      goal: q === 'p50' ? '≤ 2.00×' : '(info)',
      met: q === 'p50' ? ratio <= 2 : null,
    }
  })
}

function latencyTable(rows: LatencyRow[], lat: LatencyResult): string {
  const m = (f: (r: LatencyResult['redis'][number]) => number) => median(lat.redis.map(f))
  const redisRows = [
    ['Redis commands per written update (spaced-out writes)', fmtCount(m((r) => r.commands))],
    ['  of which sent by relays (not in scripts)', fmtCount(m((r) => r.sent))],
    ['Redis CPU per written update (user + sys)', `${fmtUs(m((r) => r.cpuUs))} (${m((r) => r.userUs).toFixed(0)} + ${m((r) => r.sysUs).toFixed(0)})`],
  ] as const
  return formatTable(
    ['row', ...PAIRS.map((id) => PAIR_LABEL[id]), 'different / same', 'goal', 'met'],
    [
      ...rows.map((r) => [r.label, ...PAIRS.map((id) => fmtMs(r.values[id])), `${r.ratio.toFixed(2)}×`, r.goal, r.met === null ? '-' : r.met ? 'yes' : 'NO']),
      ...redisRows.map(([label, v]) => [label, '-', v, '', '', '(info)', '-']),
    ],
  )
}

function roundTripLine(rtt: RoundTrips): string {
  return (
    `Redis round trips from the bench process, one at a time (${RTT_SAMPLES} each): PING p50 ${fmtMs(rtt.pingP50)} (p99 ${fmtMs(rtt.pingP99)}); ` +
    `a durable append like the relay's (EVAL of INCR + XADD, the reply after the AOF fsync) p50 ${fmtMs(rtt.appendP50)} (p99 ${fmtMs(rtt.appendP99)}). ` +
    `Redis idle CPU: ${rtt.idleCpuMsPerS.toFixed(1)} ms/s.`
  )
}

function memoryTable(mem: MemoryResult): string {
  const row = (label: string, written: number, compacted: number, writtenUsed: number, compactedUsed: number) => [
    label,
    fmtBytes(written),
    fmtBytes(compacted),
    fmtBytes(writtenUsed),
    fmtBytes(compactedUsed),
  ]
  const { small, big, perKey } = mem
  return formatTable(
    ['Redis memory', 'MEMORY USAGE, as written', 'compacted', 'used_memory, as written', 'compacted'],
    [
      row(`per room of 1 key (${small.rooms} rooms)`, small.written.perRoom, small.compacted.perRoom, small.written.usedMemoryPerRoom, small.compacted.usedMemoryPerRoom),
      row(`per room of ${big.keysPerRoom} keys (${big.rooms} rooms)`, big.written.perRoom, big.compacted.perRoom, big.written.usedMemoryPerRoom, big.compacted.usedMemoryPerRoom),
      row(`per key (slope, 1 → ${big.keysPerRoom} keys)`, perKey.written, perKey.compacted, perKey.writtenUsed, perKey.compactedUsed),
    ],
  )
}

function memoryDetail(mem: MemoryResult): string {
  const keys = (b: RoomBytes) =>
    ROOM_KEYS.filter((k) => b.byKey[k] > 0)
      .map((k) => `${k} ${fmtBytes(b.byKey[k])}`)
      .join(', ')
  return [
    `room of 1 key, as written: ${keys(mem.small.written)}, rooms set ${fmtBytes(mem.small.written.roomsSetPerRoom)} (log ${mem.small.written.logEntries.toFixed(1)} entries)`,
    `room of 1 key, compacted:  ${keys(mem.small.compacted)}, rooms set ${fmtBytes(mem.small.compacted.roomsSetPerRoom)} (log ${mem.small.compacted.logEntries.toFixed(1)} entries)`,
    `room of ${mem.big.keysPerRoom} keys, as written: ${keys(mem.big.written)} (log ${mem.big.written.logEntries.toFixed(1)} entries)`,
    `room of ${mem.big.keysPerRoom} keys, compacted:  ${keys(mem.big.compacted)} (log ${mem.big.compacted.logEntries.toFixed(1)} entries)`,
  ].join('\n')
}

// ---- capacity sketch ---------------------------------------------------------------------------

const GiB = 1024 ** 3

/** The sketch, on paper, from the measured figures (whichever sections ran). */
function capacitySketch(mem: MemoryResult | undefined, fan: FanRow[], lat: LatencyResult | undefined, rtt: RoundTrips | undefined): string[] {
  const lines: string[] = []
  const perSecond = (us: number | undefined): string => (us === undefined ? 'n/a' : Math.round(1e6 / us).toLocaleString('en-US'))
  if (mem !== undefined) {
    const room = mem.small.compacted.perRoom
    const key = mem.perKey.compacted
    const sizes = SKETCH_KEYS.map((k) => `${k} key${k > 1 ? 's' : ''} each: ${((SKETCH_ROOMS * (room + (k - 1) * key)) / GiB).toFixed(1)} GiB`)
    lines.push(
      `Redis memory, ${SKETCH_ROOMS.toLocaleString('en-US')} compacted rooms at ${fmtBytes(room)} per room of 1 key + ${fmtBytes(key)} per further key (MEMORY USAGE): ` +
        `${sizes.join('; ')}. used_memory grew by ${fmtBytes(mem.small.compacted.usedMemoryPerRoom)} per room of 1 key (allocator and main dictionary overhead on top). ` +
        `A room being written also holds its log since its last compaction (up to compactAfterUpdates = 500 updates; as written here: ` +
        `${fmtBytes(mem.small.written.perRoom)} for a room of 1 key, ${fmtBytes(mem.big.written.perRoom)} for one of ${mem.big.keysPerRoom} keys with ` +
        `${mem.big.written.logEntries.toFixed(0)} log entries), so size for the rooms active at once at the as-written figures. ` +
        `On a Redis Cluster the rooms spread over the masters by hash slot: divide by the masters.`,
    )
  }
  // The largest fan-out: the per-update fixed costs weigh least there.
  const cpu = fan.filter((r) => r.id.endsWith('-cpu') && r.ratios !== undefined).at(-1)
  if (cpu !== undefined) {
    const { sqlite, 'redis-1': one, 'redis-2': two, 'redis-3': three } = cpu.values
    lines.push(
      `Relay CPU (${cpu.id.replace(/^fanout-|-cpu$/g, '').replace('-', ' × ')} readers): ${one === undefined ? 'n/a' : fmtUs(one)} per delivered update on one relay process on Redis ` +
        `(SQLite relay ${sqlite === undefined ? 'n/a' : fmtUs(sqlite)}), so one core delivers at most ~${perSecond(one)} updates/s (SQLite: ~${perSecond(sqlite)}). ` +
        `Spread over 2 and 3 processes the same fan-out costs ${two === undefined ? 'n/a' : fmtUs(two)} and ${three === undefined ? 'n/a' : fmtUs(three)} of CPU in total per update: ` +
        `each relay applies every update it is told of once, whatever its readers. This machine has ${os.cpus().length} cores shared by the relays, Redis, the reader ` +
        `processes and the writer, so more relay processes cannot add capacity here: the 2- and 3-process rows measure what sharing a room costs, not how far it scales. ` +
        `With a core per relay process, delivery capacity would add up per process (each one's readers cost it alone) until Redis, the network or the writer's relay is the limit.`,
    )
  }
  if (lat !== undefined) {
    const spaced = median(lat.redis.map((r) => r.cpuUs))
    const burst = fan.filter((r) => r.id.endsWith('-redis-cpu')).at(-1)?.values['redis-1']
    lines.push(
      `Redis CPU per written update: ${fmtUs(spaced)} when updates come one at a time (${median(lat.redis.map((r) => r.commands)).toFixed(2)} commands each; ` +
        `${median(lat.redis.map((r) => r.sysUs)).toFixed(0)} µs of it system time: the AOF write and fsync of appendfsync always` +
        `${rtt === undefined ? '' : `, and ${rtt.idleCpuMsPerS.toFixed(1)} ms/s of idle background work`}), ${burst === undefined ? 'n/a' : fmtUs(burst)} per update in a burst ` +
        `the relay merges (fan-out). One Redis thread so takes at most ~${perSecond(spaced)} updates/s written one at a time (more when writes arrive together: ` +
        `one fsync covers every write of an event-loop turn); the readers cost Redis nothing (one SPUBLISH per stored update, whatever their number).`,
    )
  }
  return lines
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!gcExposed) log('warning: run with --expose-gc (npm run bench:cluster does) for collections between runs')
  const loadAtStart = loadAverage()
  log(
    `relays on Redis vs the SQLite relay; ${os.cpus().length} CPUs; load average ${loadAtStart}; reps ${REPS}; sections ${[...SECTIONS].join(', ')}${PROFILE ? '; profiling the relays' : ''}`,
  )
  redis = await startRedis({ durable: DURABLE })
  const server = await info('server')
  const dir: unknown = await redis.client.call('CONFIG', 'GET', 'dir')
  leftovers.redis = { pid: Number(server.get('process_id')), dir: Array.isArray(dir) ? String(dir[1]) : '' }
  const redisUrl = `redis://127.0.0.1:${redis.port}`
  const redisVersion = server.get('redis_version') ?? 'unknown'
  log(`redis-server ${redisVersion} on ${redisUrl} (${PERSISTENCE}) in ${leftovers.redis.dir}`)

  const raw: Record<string, unknown> = {}
  let mem: MemoryResult | undefined
  let lat: LatencyResult | undefined
  let fan: FanResult | undefined
  let rtt: RoundTrips | undefined
  let configs: Config[] = []
  try {
    if (SECTIONS.has('memory')) raw.memory = mem = await memory(redisUrl)
    if (SECTIONS.has('latency') || SECTIONS.has('fanout')) {
      const sqlite = await startRelay('sqlite')
      const onRedis: RelayHandle[] = []
      for (let i = 0; i < REDIS_RELAYS; i++) onRedis.push(await startRelay(String.fromCharCode(65 + i), redisUrl))
      configs = [{ id: 'sqlite', relays: [sqlite], redis: false }, ...onRedis.map((_, i): Config => ({ id: CONFIG_IDS[i + 1]!, relays: onRedis.slice(0, i + 1), redis: true }))]
      if (SECTIONS.has('latency')) {
        raw.roundTrips = rtt = await roundTrips()
        raw.latency = lat = await latency(sqlite, onRedis[0]!, onRedis[1]!)
      }
      if (SECTIONS.has('fanout')) {
        const pools = Object.fromEntries(configs.map((c) => [c.id, startWorkers(FAN_WORKERS, c.id)])) as Record<ConfigId, Child[]> // reason: one pool per configuration, made right here
        raw.fanout = fan = await fanOut(configs, pools)
      }
    }
  } finally {
    for (const relay of [...relays]) await stopRelay(relay, 'end').catch(() => undefined)
    await Promise.all(workers.map((w) => w.stop()))
    await redis.stop()
    leftovers.redis = null
  }

  const loadAtEnd = loadAverage()
  const fanRowsOut = fan === undefined ? [] : fanRows(fan, configs)
  const latRows = lat === undefined ? [] : latencyRows(lat)
  const sketch = capacitySketch(mem, fanRowsOut, lat, rtt)
  const totalMs = now() - started
  const out = [
    '',
    `Relays sharing rooms through one Redis ${redisVersion} (${PERSISTENCE}) vs the SQLite relay (one process); node ${process.version}, ` +
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; medians of ${FAN_REPS} fan-out runs and ${REPS} latency runs; load average ${loadAtStart} at the start, ${loadAtEnd} at the end`,
  ]
  if (fan !== undefined) out.push('', fanTable(fanRowsOut, configs))
  if (lat !== undefined) out.push('', latencyTable(latRows, lat))
  if (rtt !== undefined) out.push('', roundTripLine(rtt))
  if (mem !== undefined) out.push('', memoryTable(mem), '', memoryDetail(mem))
  if (sketch.length > 0) out.push('', 'Capacity sketch (extrapolated from the figures above, not measured):', ...sketch.map((s) => `- ${s}`))
  out.push('', `total ${(totalMs / 1000).toFixed(1)} s · results in ${RESULTS.pathname}`)
  console.log(out.join('\n'))
  for (const p of profiles) console.log(`\n${formatProfile(`CPU profile of relay ${p.relay} (${p.section}), ${p.path}`, p.summary)}`)

  mkdirSync(new URL('./', RESULTS), { recursive: true })
  const json = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAverage: { start: loadAtStart, end: loadAtEnd },
      reps: REPS,
      fanReps: FAN_REPS,
      sections: [...SECTIONS],
      readerKinds: READER_KINDS,
      profiled: PROFILE,
      redis: redisVersion,
      redisPersistence: PERSISTENCE,
      versions: { ioredis: packageVersion('ioredis'), 'y-websocket': packageVersion('y-websocket'), yjs: packageVersion('yjs'), ws: packageVersion('ws') },
      parameters: { REDIS_RELAYS, FAN_WRITES, FAN_READERS, FAN_WORKERS, SETTLE_MS, LAT_WRITES, LAT_WARMUP, LAT_GAP_MS, MEM_SMALL_ROOMS, MEM_BIG_ROOMS, MEM_BIG_KEYS },
      notes: [
        'SQLite relay: node --import tsx packages/relay/src/cli.ts --data <tmp> --allow-anonymous; Redis relays: the same with --redis redis://127.0.0.1:PORT.',
        'redis-server with --appendonly yes --appendfsync always --save "" in a temp folder (test/helpers/redis.ts startRedis({ durable: true })).',
        'fan-out relay CPU: process.cpuUsage() (user + system, all threads) of every relay of the configuration over the run, summed, / delivered updates.',
        'Redis commands: INFO commandstats delta (info, memory, xlen, ping left out: the bench sends those), including commands run inside the relay Lua scripts; "sent" leaves those out.',
        'Redis CPU: INFO cpu used_cpu_user + used_cpu_sys delta, idle background work (serverCron) included (roundTrips.idleCpuMsPerS says how much).',
        'latency: the writes of the three pairs alternate one by one; the Redis figures of the latency section divide by the writes of the two Redis pairs, warm-up included.',
        'memory: MEMORY USAGE <key> SAMPLES 0 of each room key, plus the growth of tidekv:rooms per room; used_memory growth per room. "compacted": after the relay was stopped with SIGTERM (it unloads and compacts every room whose log grew).',
      ],
      durationMs: Math.round(totalMs),
    },
    fanout: fanRowsOut,
    latency: latRows,
    memory: mem ?? null,
    capacitySketch: sketch,
    raw,
    profiles: profiles.map((p) => ({ relay: p.relay, section: p.section, path: p.path, summary: p.summary })),
  }
  writeFileSync(RESULTS, `${JSON.stringify(json, null, 2)}\n`)
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: stopping the children`)
    // The 'exit' handlers (here and in children.ts) kill whatever is left.
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
