/**
 * `npm run bench:attacks`: replays the attacks of issue 10 (items 1–16)
 * against a relay in a process of its own and measures, for each, how the
 * relay held up while it ran: `/healthz` latency, the relay's RSS, how the
 * attacking socket ended, and whether the relay is still alive.
 *
 * The relay is the CLI (`node --import tsx packages/relay/src/cli.ts`,
 * through test/helpers/relay-cli.ts) with `--secret` (tokens from
 * `createToken`), `--allow-anonymous` and `--static` on a temporary folder
 * that holds a dotfile and symlinks leading out of it (item 14). The attacks
 * are raw `ws` sockets (and raw `node:net` / `fetch` requests for items 12
 * and 14) sending messages built byte by byte with lib0's encoder.
 *
 * For each attack:
 * 1. prepare, outside the measured window: tokens, payloads (the 600,000-item
 *    update, the 2,000,000-client state vector...), honest peers, and rooms
 *    filled beforehand (item 8's 60,000 entries, stored and acknowledged);
 * 2. start the probe, a worker thread of this process (so the attack's own
 *    work here does not delay it): every POLL_MS it sends `GET /healthz` on a
 *    new connection without waiting for the previous answer, and reads the
 *    relay's VmRSS from /proc/<pid>/status; it also resets the kernel's peak
 *    RSS (VmHWM, through /proc/<pid>/clear_refs) and reads it at the end;
 * 3. BASELINE_MS of quiet, then the attack (bounded: ATTACK_TIMEOUT_MS), then
 *    SETTLE_MS of quiet; the probe stops, and a request still unanswered
 *    STOP_GRACE_MS later counts as a sample of its age so far;
 * 4. the relay is alive if its process has not exited and answers /healthz
 *    within ALIVE_TIMEOUT_MS; if not, it is killed and a fresh one is started
 *    for the next attack.
 *
 * p99 and max are over every /healthz request of the window (baseline and
 * settle time included); the goal is max < 200 ms. RSS: before = just before
 * the window, peak = the larger of the probe's samples and VmHWM, after = at
 * the end of the window. Results: a table on stdout, JSON in
 * test/bench/results/attacks.json. Not part of `npm test`; about a minute.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import os from 'node:os'
import { join as joinPath } from 'node:path'
import { Worker } from 'node:worker_threads'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CloseCode, MessageType } from '@tidekv/core'
import { type AccessMode, createToken } from '@tidekv/relay'
import { type RelayProcess, spawnRelay } from '../helpers/relay-cli.js'
import { formatTable, now, packageVersion } from './measure.js'
import { awarenessStates, syncMessage } from '../helpers/wire.js'

// ---- parameters -------------------------------------------------------------

/** How often the probe sends GET /healthz (and samples RSS). */
const POLL_MS = 20
/** Quiet time measured before each attack starts. */
const BASELINE_MS = 300
/** Quiet time measured after each attack ends. */
const SETTLE_MS = 1500
/** An attack's own bound (sending, then waiting for what the relay does). */
const ATTACK_TIMEOUT_MS = 10_000
/** How long the probe waits for requests still in flight when it stops. */
const STOP_GRACE_MS = 3000
/** A relay that does not answer /healthz within this after an attack is hung. */
const ALIVE_TIMEOUT_MS = 3000
/** Probe requests in flight at most (a blocked relay would otherwise collect thousands). */
const MAX_IN_FLIGHT = 500
/** Issue 10's goal: /healthz under 200 ms throughout. */
const GOAL_MS = 200
const SECRET = 'bench-attacks-secret-0123456789abcdef'
/** lib0's readVarUint reads this as Infinity (146 × 0x80, then 0x7f). */
const INFINITE_VARINT: readonly number[] = [...new Array<number>(146).fill(0x80), 0x7f]
/** Item 8: entries in the room that step 1 messages ask for. */
const FILL_ENTRIES = 60_000
const STEP_ONE_MESSAGES = 120
/** Item 9: clients named in one state vector. */
const SV_CLIENTS = 2_000_000
/** Item 10: client ids in one awareness message. */
const AWARENESS_IDS = 200_000
/** Item 11: chained items in one sync step 2. */
const BULK_ITEMS = 600_000
/** Item 12: upgrade requests without Sec-WebSocket-Key, and how many at a time. */
const UPGRADES = 3000
const UPGRADE_CONCURRENCY = 100
/** A wall clock stamp near now, for entries that should look honest apart from what the attack changes. */
const WALL_NOW = Date.now()

const RESULTS = new URL('./results/attacks.json', import.meta.url)
const started = now()

function log(message: string): void {
  process.stderr.write(`[bench:attacks ${((now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// ---- messages -------------------------------------------------------------------

function message(type: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** An awareness message announcing `count` states, the i-th from `state(i)` as [client id, clock, JSON text]. */
function awarenessMessage(count: number, state: (i: number) => readonly [number, number, string]): Uint8Array {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, count)
  for (let i = 0; i < count; i++) {
    const [client, clock, json] = state(i)
    encoding.writeVarUint(update, client)
    encoding.writeVarUint(update, clock)
    encoding.writeVarString(update, json)
  }
  return message(MessageType.AWARENESS, (e) => encoding.writeVarUint8Array(e, encoding.toUint8Array(update)))
}

function varUint(n: number): number[] {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, n)
  return [...encoding.toUint8Array(e)]
}

function varString(s: string): number[] {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, s)
  return [...encoding.toUint8Array(e)]
}

function anyValue(value: number | string): number[] {
  const e = encoding.createEncoder()
  encoding.writeAny(e, value)
  return [...encoding.toUint8Array(e)]
}

/**
 * A plain key entry (docs/PROTOCOL.md): header 0x10 (format 1, value, no
 * expiry), varString key, the wall varint, counter varint 0, then the value
 * bytes (lib0 `writeAny`, unless given raw).
 */
function plainEntry(key: string, wall: readonly number[], value: readonly number[] = anyValue(1)): Uint8Array {
  return new Uint8Array([0x10, ...varString(key), ...wall, 0, ...value])
}

/** A Yjs update holding `entries` in the root array 'tidekv', as a TideKV client writes them. */
function entriesDoc(entries: readonly Uint8Array[], clientID?: number): Y.Doc {
  const doc = new Y.Doc()
  if (clientID !== undefined) doc.clientID = clientID
  doc.getArray<Uint8Array>('tidekv').push([...entries])
  return doc
}

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())

const CLOSE_NAMES = new Map<number, string>(Object.entries(CloseCode).map(([name, code]) => [code, name]))

// ---- sockets --------------------------------------------------------------------

/** How a socket ended: a close code, or the HTTP status of a refused upgrade, or an error. */
type Ending = { kind: 'close'; code: number; at: number } | { kind: 'http'; status: number; at: number } | { kind: 'error'; message: string; at: number }

interface Sock {
  readonly ws: WebSocket
  readonly ended: Promise<Ending>
  /** Messages and bytes received so far. */
  readonly received: { messages: number; bytes: number }
  send(bytes: Uint8Array): void
  /** The next message (after this call) that `match` accepts, or null after `timeoutMs`. */
  next(match: (bytes: Uint8Array) => boolean, timeoutMs: number): Promise<Uint8Array | null>
  /** Calls `fn` for every message. */
  onMessage(fn: (bytes: Uint8Array) => void): void
}

const openSockets = new Set<Sock>()

/** Opens a socket to `room`, without waiting. */
function open(relay: RelayProcess, room: string, options: { token?: string; acks?: boolean } = {}): Sock {
  const query = new URLSearchParams()
  if (options.token !== undefined) query.set('token', options.token)
  if (options.acks === true) query.set('acks', '1')
  const ws = new WebSocket(`${relay.ws}/${encodeURIComponent(room)}?${query.toString()}`)
  const listeners = new Set<(bytes: Uint8Array) => void>()
  const received = { messages: 0, bytes: 0 }
  const ended = new Promise<Ending>((resolve) => {
    ws.on('close', (code) => resolve({ kind: 'close', code, at: now() }))
    ws.on('unexpected-response', (req, res) => {
      resolve({ kind: 'http', status: res.statusCode ?? 0, at: now() })
      res.resume()
      req.destroy()
    })
    ws.on('error', (e) => resolve({ kind: 'error', message: e.message, at: now() }))
  })
  ws.on('message', (data: Buffer) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    received.messages++
    received.bytes += bytes.length
    for (const fn of [...listeners]) fn(bytes)
  })
  const sock: Sock = {
    ws,
    ended,
    received,
    send: (bytes) => ws.send(bytes),
    next(match, timeoutMs) {
      return new Promise((resolve) => {
        const done = (bytes: Uint8Array | null) => {
          clearTimeout(timer)
          listeners.delete(listener)
          resolve(bytes)
        }
        const listener = (bytes: Uint8Array) => match(bytes) && done(bytes)
        const timer = setTimeout(() => done(null), timeoutMs)
        listeners.add(listener)
        void ended.then(() => done(null))
      })
    },
    onMessage: (fn) => listeners.add(fn),
  }
  openSockets.add(sock)
  void ended.then(() => openSockets.delete(sock))
  return sock
}

/** Opens a socket to `room`; resolves once the relay has sent its first message (it joined the room), or throws. */
async function join(relay: RelayProcess, room: string, options: { token?: string; acks?: boolean } = {}): Promise<Sock> {
  const sock = open(relay, room, options)
  const first = await sock.next(() => true, 5000)
  if (first === null) {
    sock.ws.terminate()
    const end = await Promise.race([sock.ended, sleep(100).then(() => null)])
    throw new Error(`could not join room ${room}: ${end === null ? 'no message within 5 s' : describeEnding(end, end.at)}`)
  }
  return sock
}

function describeEnding(end: Ending, since: number): string {
  const after = `after ${formatMs(end.at - since)}`
  if (end.kind === 'close') return `${end.code}${CLOSE_NAMES.has(end.code) ? ` ${CLOSE_NAMES.get(end.code)}` : ''} ${after}`
  if (end.kind === 'http') return `HTTP ${end.status} ${after}`
  return `error ${after}: ${end.message}`
}

/** How the socket ended within `timeoutMs` of `since` (when the attack was sent), or `open` with what else happened. */
async function endedWithin(sock: Sock, since: number, timeoutMs: number, open = 'open'): Promise<{ ended: string; code: number | null }> {
  const end = await Promise.race([sock.ended, sleep(Math.max(0, since + timeoutMs - now())).then(() => null)])
  if (end === null) return { ended: open, code: null }
  return { ended: describeEnding(end, since), code: end.kind === 'close' ? end.code : end.kind === 'http' ? end.status : null }
}

const isType = (type: number) => (bytes: Uint8Array) => bytes[0] === type
/** A sync step 2 from the relay (its answer to a step 1). */
const isStepTwo = (bytes: Uint8Array) => bytes[0] === MessageType.SYNC && bytes[1] === 1

/** Sends `bytes` and waits for the relay's PERSISTED acknowledgement (the socket joined with acks=1) or the socket's end. */
async function sendAndAck(sock: Sock, bytes: Uint8Array, timeoutMs: number): Promise<{ acked: boolean; ms: number }> {
  const t0 = now()
  const ack = sock.next(isType(MessageType.PERSISTED), timeoutMs)
  sock.send(bytes)
  const got = await ack
  return { acked: got !== null, ms: now() - t0 }
}

// ---- the relay ----------------------------------------------------------------------

interface RelayInfo {
  status: number
  rooms: number
  connections: number
}

async function healthz(relay: RelayProcess, timeoutMs: number): Promise<RelayInfo | null> {
  try {
    const res = await fetch(`${relay.http}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
    const body: unknown = await res.json()
    const field = (name: string): number => (typeof body === 'object' && body !== null && name in body ? Number((body as Record<string, unknown>)[name]) : Number.NaN) // reason: `name in body` was checked just before
    return { status: res.status, rooms: field('rooms'), connections: field('connections') }
  } catch {
    return null // reason: no answer in time is what the caller measures
  }
}

/** The relay's resident set size in bytes (VmRSS), or null once it is gone. */
function rssOf(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? null : Number(match[1]) * 1024
  } catch {
    return null // reason: the process has exited
  }
}

/** What a room holds, as a new reader sees it: the relay's state vector (its first message) and the entries of its whole state. */
async function roomState(relay: RelayProcess, room: string): Promise<{ clocks: Map<number, number>; entries: number } | null> {
  const token = await createToken({ secret: SECRET, room, mode: 'read' })
  let reader: Sock
  try {
    reader = await join(relay, room, { token })
  } catch {
    return null // reason: a relay that cannot be joined has no state to report; the row says so
  }
  try {
    const svReply = reader.next(isStepTwo, 5000)
    reader.send(syncMessage(0, EMPTY_STATE_VECTOR))
    const reply = await svReply
    if (reply === null) return null
    const doc = new Y.Doc()
    const decoder = decoding.createDecoder(reply.subarray(2))
    Y.applyUpdate(doc, decoding.readVarUint8Array(decoder))
    return { clocks: Y.decodeStateVector(Y.encodeStateVector(doc)), entries: doc.getArray('tidekv').length }
  } finally {
    reader.ws.close()
  }
}

// ---- the probe (a worker thread) ------------------------------------------------------

interface ProbeResult {
  /** Latency of each /healthz request, ms (unanswered ones: their age when the probe gave up). */
  latencies: number[]
  /** Requests not answered within STOP_GRACE_MS of the probe stopping. */
  unanswered: number
  /** Requests that failed (connection refused or reset) or answered with a status other than 200. */
  failed: number
  /** Largest VmRSS sampled, bytes. */
  peakRss: number
  /** VmHWM at the end after a reset at the start (bytes), or null when the reset was not allowed. */
  hwm: number | null
}

const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const fs = require('node:fs')
const { port, pid, pollMs, maxInFlight } = workerData
let timer = null
let latencies = []
let failed = 0
let peakRss = 0
let hwmReset = false
const inFlight = new Set()
function status(field) {
  try {
    const m = new RegExp(field + ':\\\\s+(\\\\d+) kB').exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'))
    return m === null ? 0 : Number(m[1]) * 1024
  } catch {
    return 0
  }
}
function finish(request, ok) {
  if (!inFlight.delete(request)) return
  latencies.push(performance.now() - request.started)
  if (!ok) failed++
}
function probe() {
  const rss = status('VmRSS')
  if (rss > peakRss) peakRss = rss
  if (inFlight.size >= maxInFlight) return
  const request = { started: performance.now(), req: null }
  inFlight.add(request)
  request.req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
    res.resume()
    res.on('end', () => finish(request, res.statusCode === 200))
    res.on('error', () => finish(request, false))
  })
  request.req.on('error', () => finish(request, false))
}
parentPort.on('message', (m) => {
  if (m.type === 'start') {
    latencies = []
    failed = 0
    peakRss = status('VmRSS')
    try {
      fs.writeFileSync('/proc/' + pid + '/clear_refs', '5')
      hwmReset = true
    } catch {
      hwmReset = false
    }
    probe()
    timer = setInterval(probe, pollMs)
  } else if (m.type === 'stop') {
    clearInterval(timer)
    const deadline = performance.now() + m.graceMs
    const wait = () => {
      if (inFlight.size > 0 && performance.now() < deadline) return setTimeout(wait, 10)
      const unanswered = inFlight.size
      for (const request of [...inFlight]) {
        latencies.push(performance.now() - request.started)
        request.req.destroy()
      }
      inFlight.clear()
      const hwm = hwmReset ? status('VmHWM') : null
      parentPort.postMessage({ latencies, unanswered, failed, peakRss, hwm })
    }
    wait()
  }
})
`

class Probe {
  readonly #worker: Worker

  constructor(relay: RelayProcess) {
    this.#worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { port: relay.port, pid: relay.pid, pollMs: POLL_MS, maxInFlight: MAX_IN_FLIGHT } })
  }

  start(): void {
    this.#worker.postMessage({ type: 'start' })
  }

  stop(): Promise<ProbeResult> {
    return new Promise((resolve) => {
      // reason: the worker above posts exactly this shape
      this.#worker.once('message', (result) => resolve(result as ProbeResult))
      this.#worker.postMessage({ type: 'stop', graceMs: STOP_GRACE_MS })
    })
  }

  async close(): Promise<void> {
    await this.#worker.terminate()
  }
}

// ---- the attacks ------------------------------------------------------------------------

interface Outcome {
  /** How the attacking socket (or request) ended. */
  ended: string
  /** Close code or HTTP status, null while open. */
  code: number | null
  /** What else the relay did. */
  note: string
}

interface Context {
  relay: RelayProcess
  /** A token for `room`; `sub` names its subject (items 4 and 5: the victim and the attacker are different users). */
  token: (room: string, mode: AccessMode, options?: { expiresIn?: string; sub?: string }) => Promise<string>
}

interface Attack {
  /** Issue 10's item number. */
  item: number
  label: string
  /** Work done before the measured window; returns the attack itself. */
  prepare(ctx: Context): Promise<() => Promise<Outcome>>
}

/** An entry attack (items 3, 6, 7, 16): a write-token peer sends an update holding `entry` as sync step 2. */
function entryAttack(item: number, label: string, entry: () => Uint8Array): Attack {
  return {
    item,
    label,
    async prepare({ relay, token }) {
      const room = `attack-${item}`
      const sock = await join(relay, room, { token: await token(room, 'write'), acks: true })
      const update = Y.encodeStateAsUpdate(entriesDoc([entry()]))
      return async () => {
        const sent = now()
        const ack = await sendAndAck(sock, syncMessage(1, update), 3000)
        const end = await endedWithin(sock, sent, 0, ack.acked ? `open, acked in ${formatMs(ack.ms)}` : 'open, no ack in 3 s')
        const state = await roomState(relay, room)
        return { ...end, note: state === null ? 'room unreadable afterwards' : state.entries > 0 ? 'stored: a new reader of the room gets it' : 'not stored' }
      }
    },
  }
}

/** A victim (a write token, client id `client`) writes `count` entries, is acknowledged, and goes offline; returns its document. */
async function victimWrites(ctx: Context, room: string, client: number, count: number): Promise<Y.Doc> {
  const victim = await join(ctx.relay, room, { token: await ctx.token(room, 'write', { sub: 'victim' }), acks: true })
  const doc = entriesDoc(
    Array.from({ length: count }, (_, i) => plainEntry(`victim:${i}`, varUint(WALL_NOW))),
    client,
  )
  const ack = await sendAndAck(victim, syncMessage(1, Y.encodeStateAsUpdate(doc)), 5000)
  if (!ack.acked) throw new Error(`the victim's writes in ${room} were not acknowledged`)
  victim.ws.close()
  await victim.ended
  return doc
}

const ATTACKS: readonly Attack[] = [
  {
    item: 1,
    label: 'presence nested 20,000 deep over another socket’s id (read), then a join',
    async prepare({ relay, token }) {
      const room = 'attack-1'
      const owner = await join(relay, room, { token: await token(room, 'write') })
      const echoed = owner.next(isType(MessageType.AWARENESS), 3000)
      owner.send(awarenessMessage(1, () => [7, 1, '{"user":"a"}']))
      if ((await echoed) === null) throw new Error('the owner’s presence was not echoed')
      const read = await token(room, 'read')
      const attacker = await join(relay, room, { token: read })
      const deep = awarenessMessage(1, () => [7, 2, `${'['.repeat(20_000)}${']'.repeat(20_000)}`])
      return async () => {
        const sent = now()
        attacker.send(deep)
        const end = await endedWithin(attacker, sent, 5000)
        // The next join is what made the relay encode the poisoned state (and crash, before the fix).
        let note: string
        try {
          const next = await join(relay, room, { token: read })
          const reply = next.next(isType(MessageType.AWARENESS), 3000)
          next.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
          const got = await reply
          note = got === null ? 'a new join got no presence' : `a new join sees client 7 as ${awarenessStates(got).get(7) ?? 'absent'}`
          next.ws.close()
        } catch (e) {
          note = `a new join failed: ${e instanceof Error ? e.message : String(e)}`
        }
        return { ...end, note }
      }
    },
  },
  {
    item: 2,
    label: 'PERSISTED with a request id varint of Infinity (read, acks=1)',
    async prepare({ relay, token }) {
      const room = 'attack-2'
      const attacker = await join(relay, room, { token: await token(room, 'read'), acks: true })
      return async () => {
        const sent = now()
        attacker.send(new Uint8Array([MessageType.PERSISTED, ...INFINITE_VARINT]))
        return { ...(await endedWithin(attacker, sent, 5000)), note: '' }
      }
    },
  },
  entryAttack(3, 'entry whose wall clock varint is Infinity (write)', () => plainEntry('k', INFINITE_VARINT)),
  {
    item: 4,
    label: 'GC struct of length 2^31 at an offline victim’s clock (write, other sub)',
    async prepare(ctx) {
      const room = 'attack-4'
      const victimId = 0x4_0000
      await victimWrites(ctx, room, victimId, 3)
      const attacker = await join(ctx.relay, room, { token: await ctx.token(room, 'write', { sub: 'mallory' }), acks: true })
      const before = (await roomState(ctx.relay, room))?.clocks.get(victimId) ?? 0
      // A V1 update: 1 client block of 1 struct, client, clock, GC (info 0) of length 2^31, empty delete set.
      const gc = new Uint8Array([1, 1, ...varUint(victimId), ...varUint(before), 0, ...varUint(2 ** 31), 0])
      return async () => {
        const sent = now()
        const ack = await sendAndAck(attacker, syncMessage(2, gc), 3000)
        const end = await endedWithin(attacker, sent, 0, ack.acked ? `open, acked in ${formatMs(ack.ms)}` : 'open, no ack in 3 s')
        const after = (await roomState(ctx.relay, room))?.clocks.get(victimId)
        return { ...end, note: `${gc.length}-byte update; the victim's clock in the room: ${before} → ${after ?? '?'}` }
      }
    },
  },
  {
    item: 5,
    label: 'entry under an offline victim’s client id at its next clock (write, other sub)',
    async prepare(ctx) {
      const room = 'attack-5'
      const victimId = 0x5_0000
      const victimDoc = await victimWrites(ctx, room, victimId, 1)
      const forger = new Y.Doc()
      Y.applyUpdate(forger, Y.encodeStateAsUpdate(victimDoc))
      // Set after applying: Yjs gives a document a new client id when a remote update touches its own.
      forger.clientID = victimId
      forger.getArray<Uint8Array>('tidekv').push([plainEntry('forged', varUint(WALL_NOW))])
      const forged = Y.encodeStateAsUpdate(forger, Y.encodeStateVector(victimDoc))
      const attacker = await join(ctx.relay, room, { token: await ctx.token(room, 'write', { sub: 'mallory' }), acks: true })
      return async () => {
        const sent = now()
        const ack = await sendAndAck(attacker, syncMessage(2, forged), 3000)
        const end = await endedWithin(attacker, sent, 0, ack.acked ? `open, acked in ${formatMs(ack.ms)}` : 'open, no ack in 3 s')
        const state = await roomState(ctx.relay, room)
        return { ...end, note: `the victim's clock in the room: 1 → ${state?.clocks.get(victimId) ?? '?'}; entries ${state?.entries ?? '?'}` }
      }
    },
  },
  entryAttack(6, 'entry stamped 2^60 ms (write)', () => plainEntry('k', varUint(2 ** 60))),
  entryAttack(7, 'entry stamped now + 100 years (write)', () => plainEntry('k', varUint(WALL_NOW + 100 * 365 * 86_400_000))),
  {
    item: 8,
    label: `${STEP_ONE_MESSAGES} sync step 1, empty state vector, room of ${FILL_ENTRIES.toLocaleString('en-US')} entries (read)`,
    async prepare({ relay, token }) {
      const room = 'attack-8'
      const writer = await join(relay, room, { token: await token(room, 'write'), acks: true })
      const fill = Y.encodeStateAsUpdate(entriesDoc(Array.from({ length: FILL_ENTRIES }, (_, i) => plainEntry(`key:${i}`, varUint(WALL_NOW + i)))))
      const ack = await sendAndAck(writer, syncMessage(1, fill), 20_000)
      if (!ack.acked) throw new Error(`the ${FILL_ENTRIES} entries of ${room} were not acknowledged`)
      writer.ws.close()
      const attacker = await join(relay, room, { token: await token(room, 'read') })
      const step1 = syncMessage(0, EMPTY_STATE_VECTOR)
      let answers = 0
      let answerBytes = 0
      attacker.onMessage((bytes) => {
        if (!isStepTwo(bytes)) return
        answers++
        answerBytes += bytes.length
      })
      return async () => {
        const sent = now()
        for (let i = 0; i < STEP_ONE_MESSAGES; i++) attacker.send(step1)
        const end = await endedWithin(attacker, sent, 8000)
        return { ...end, note: `fill: ${formatMiB(fill.length)} update; ${answers} answers, ${formatMiB(answerBytes)} out for ${STEP_ONE_MESSAGES * step1.length} B in` }
      }
    },
  },
  {
    item: 9,
    label: `sync step 1 naming ${SV_CLIENTS.toLocaleString('en-US')} made-up clients (read)`,
    async prepare({ relay, token }) {
      const room = 'attack-9'
      const attacker = await join(relay, room, { token: await token(room, 'read') })
      const sv = encoding.createEncoder()
      encoding.writeVarUint(sv, SV_CLIENTS)
      for (let i = 1; i <= SV_CLIENTS; i++) {
        encoding.writeVarUint(sv, i)
        encoding.writeVarUint(sv, 1)
      }
      const bytes = syncMessage(0, encoding.toUint8Array(sv))
      return async () => {
        const sent = now()
        attacker.send(bytes)
        return { ...(await endedWithin(attacker, sent, 8000)), note: `${formatMiB(bytes.length)} message` }
      }
    },
  },
  {
    item: 10,
    label: `awareness message with ${AWARENESS_IDS.toLocaleString('en-US')} made-up client ids (read)`,
    async prepare({ relay, token }) {
      const room = 'attack-10'
      const honest = await join(relay, room, { token: await token(room, 'write') })
      const attacker = await join(relay, room, { token: await token(room, 'read') })
      const bytes = awarenessMessage(AWARENESS_IDS, (i) => [1000 + i, 1, '{"name":"mallory"}'])
      let seen = 0
      return async () => {
        honest.onMessage((m) => m[0] === MessageType.AWARENESS && (seen += m.length))
        const sent = now()
        attacker.send(bytes)
        const end = await endedWithin(attacker, sent, 5000)
        await sleep(300)
        return { ...end, note: `${formatMiB(bytes.length)} message; an honest peer in the room received ${seen} B of presence` }
      }
    },
  },
  {
    item: 11,
    label: `sync step 2 of ${BULK_ITEMS.toLocaleString('en-US')} chained items (write)`,
    async prepare({ relay, token }) {
      const room = 'attack-11'
      const attacker = await join(relay, room, { token: await token(room, 'write'), acks: true })
      // Binary items are never merged: one push makes BULK_ITEMS items, each the right neighbour (origin) of the one before.
      const update = Y.encodeStateAsUpdate(
        entriesDoc(
          Array.from({ length: BULK_ITEMS }, (_, i) => new Uint8Array([i & 0xff])),
          11,
        ),
      )
      return async () => {
        const sent = now()
        const ack = await sendAndAck(attacker, syncMessage(1, update), ATTACK_TIMEOUT_MS - 500)
        const end = await endedWithin(attacker, sent, 0, ack.acked ? `open, acked in ${formatMs(ack.ms)}` : 'open, no ack')
        return { ...end, note: `${formatMiB(update.length)} update, accepted${ack.acked ? ' and stored' : ''}` }
      }
    },
  },
  {
    item: 12,
    label: `${UPGRADES.toLocaleString('en-US')} HTTP upgrades without Sec-WebSocket-Key (anonymous)`,
    async prepare({ relay }) {
      return async () => {
        const before = await healthz(relay, 2000)
        const statuses = new Map<string, number>()
        let next = 0
        const one = (i: number): Promise<string> =>
          new Promise((resolve) => {
            const socket = connect(relay.port, '127.0.0.1', () => {
              socket.write(`GET /leak-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`)
            })
            let text = ''
            socket.setTimeout(5000, () => socket.destroy())
            socket.on('data', (d: Buffer) => (text += d.toString('latin1')))
            socket.on('close', () => resolve(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 'no answer'))
            socket.on('error', () => undefined)
          })
        const worker = async (): Promise<void> => {
          while (next < UPGRADES) {
            const status = await one(next++)
            statuses.set(status, (statuses.get(status) ?? 0) + 1)
          }
        }
        await Promise.all(Array.from({ length: UPGRADE_CONCURRENCY }, worker))
        const after = await healthz(relay, 2000)
        return {
          ended: [...statuses].map(([status, n]) => `${/^\d+$/.test(status) ? 'HTTP ' : ''}${status} ×${n}`).join(', '),
          code: statuses.size === 1 && statuses.has('400') ? 400 : null,
          note: `rooms loaded: ${before?.rooms ?? '?'} before, ${after?.rooms ?? '?'} after`,
        }
      }
    },
  },
  {
    item: 13,
    label: 'token that expires in 30 days (write)',
    async prepare({ relay, token }) {
      const room = 'attack-13'
      const long = await token(room, 'write', { expiresIn: '30d' })
      return async () => {
        const sent = now()
        const sock = open(relay, room, { token: long })
        const end = await endedWithin(sock, sent, 1000, 'open after 1 s')
        sock.ws.close()
        return { ...end, note: '' }
      }
    },
  },
  {
    item: 14,
    label: '--static: a dotfile and symlinks out of the folder (anonymous)',
    async prepare({ relay }) {
      const paths = ['/.env', '/leak.txt', '/out/private.txt', '/%2eenv', '/out%2fprivate.txt']
      return async () => {
        const statuses: string[] = []
        for (const path of paths) {
          const res = await fetch(`${relay.http}${path}`, { signal: AbortSignal.timeout(5000) })
          await res.arrayBuffer()
          statuses.push(`${path} ${res.status}`)
        }
        const index = await fetch(`${relay.http}/index.html`, { signal: AbortSignal.timeout(5000) })
        await index.arrayBuffer()
        const counts = new Map<string, number>()
        for (const s of statuses) counts.set(s.split(' ')[1]!, (counts.get(s.split(' ')[1]!) ?? 0) + 1)
        return {
          ended: [...counts].map(([status, n]) => `HTTP ${status} ×${n}`).join(', '),
          code: counts.size === 1 ? Number([...counts.keys()][0]) : null,
          note: `${statuses.join(', ')}; /index.html ${index.status}`,
        }
      }
    },
  },
  {
    item: 15,
    label: 'read-only client sends sync step 2 of nothing new',
    async prepare(ctx) {
      const room = 'attack-15'
      const doc = await victimWrites(ctx, room, 0x15_0000, 1)
      const reader = await join(ctx.relay, room, { token: await ctx.token(room, 'read') })
      let denied = 0
      reader.onMessage((bytes) => bytes[0] === MessageType.AUTH && denied++)
      return async () => {
        const sent = now()
        reader.send(syncMessage(1, Y.encodeStateAsUpdate(new Y.Doc())))
        reader.send(syncMessage(1, Y.encodeStateAsUpdate(doc)))
        const roundTrip = reader.next(isType(MessageType.AWARENESS), 3000)
        reader.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
        await roundTrip
        return { ...(await endedWithin(reader, sent, 0)), note: `permission-denied messages received: ${denied}` }
      }
    },
  },
  entryAttack(16, 'entry whose value has a "__proto__" key (write)', () =>
    // lib0 writeAny of { __proto__: 1 }: object (118), 1 key, varString key, integer (125) 1.
    plainEntry('proto', varUint(WALL_NOW), [118, 1, ...varString('__proto__'), 125, 1]),
  ),
]

// ---- running them ---------------------------------------------------------------------------

interface Row {
  item: number
  attack: string
  ended: string
  code: number | null
  note: string
  healthz: { requests: number; unanswered: number; failed: number; p50Ms: number; p99Ms: number; maxMs: number }
  rssMiB: { before: number | null; peak: number | null; after: number | null }
  /** 'yes', or how it ended ('died: ...', 'hung'). */
  relayAlive: string
  attackMs: number
  goalMet: boolean
  error?: string
  relayStderr?: string
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`
}

function formatMiB(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

const toMiB = (bytes: number | null): number | null => (bytes === null ? null : Math.round((bytes / 1024 / 1024) * 10) / 10)

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown' // reason: the commit is informative only
  }
}

interface Live {
  relay: RelayProcess
  probe: Probe
  exit: { code: number | null; signal: NodeJS.Signals | null } | null
  stderrFrom: number
}

let current: Live | null = null
process.on('exit', () => current?.relay.signal('SIGKILL'))

/** Temporary folders, removed at the end. */
const tempDirs: string[] = []

function tempDir(prefix: string): string {
  const dir = mkdtempSync(joinPath(os.tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

async function startRelay(site: string): Promise<Live> {
  const dataDir = tempDir('tidekv-attacks-data-')
  const relay = await spawnRelay({ dataDir, args: ['--secret', SECRET, '--static', site] })
  const live: Live = { relay, probe: new Probe(relay), exit: null, stderrFrom: 0 }
  void relay.exited.then((exit) => (live.exit = exit))
  // A few requests so the first attack's baseline is not the relay's first request.
  for (let i = 0; i < 5; i++) await healthz(relay, 2000)
  log(`relay pid ${relay.pid} on port ${relay.port}, data in ${dataDir}`)
  return live
}

async function stopRelay(live: Live): Promise<void> {
  await live.probe.close()
  await live.relay.kill()
}

/** A folder for --static: index.html, a dotfile, and symlinks to a file and a folder outside it. */
function staticSite(): string {
  const site = tempDir('tidekv-attacks-site-')
  const outside = tempDir('tidekv-attacks-outside-')
  writeFileSync(joinPath(site, 'index.html'), '<h1>demo</h1>')
  writeFileSync(joinPath(site, '.env'), 'SECRET=1')
  writeFileSync(joinPath(outside, 'private.txt'), 'private')
  symlinkSync(joinPath(outside, 'private.txt'), joinPath(site, 'leak.txt'))
  symlinkSync(outside, joinPath(site, 'out'))
  return site
}

async function runAttack(live: Live, attack: Attack): Promise<Row> {
  const { relay } = live
  const ctx: Context = {
    relay,
    token: (room, mode, options = {}) => createToken({ secret: SECRET, room, mode, ...options }),
  }
  let outcome: Outcome = { ended: '-', code: null, note: '' }
  let error: string | undefined
  const run = await attack.prepare(ctx)
  const before = rssOf(relay.pid)
  live.stderrFrom = relay.stderr().length
  live.probe.start()
  await sleep(BASELINE_MS)
  const t0 = now()
  try {
    const timeout = sleep(ATTACK_TIMEOUT_MS).then(() => {
      throw new Error(`the attack did not finish within ${ATTACK_TIMEOUT_MS} ms`)
    })
    outcome = await Promise.race([run(), timeout])
  } catch (e) {
    error = e instanceof Error ? e.message : String(e)
  }
  const attackMs = now() - t0
  await sleep(SETTLE_MS)
  const probe = await live.probe.stop()
  const after = rssOf(relay.pid)
  for (const sock of [...openSockets]) sock.ws.terminate()
  let relayAlive = 'yes'
  if (live.exit !== null) relayAlive = `died (${live.exit.signal ?? `exit ${live.exit.code}`})`
  else if ((await healthz(relay, ALIVE_TIMEOUT_MS)) === null) relayAlive = live.exit === null ? 'hung' : 'died'
  const sorted = [...probe.latencies].sort((a, b) => a - b)
  const peak = Math.max(probe.peakRss, probe.hwm ?? 0, before ?? 0, after ?? 0)
  const stderr = relay.stderr().slice(live.stderrFrom).trim()
  const maxMs = sorted.at(-1) ?? Number.NaN
  return {
    item: attack.item,
    attack: attack.label,
    ended: error === undefined ? outcome.ended : 'bench error',
    code: outcome.code,
    note: error === undefined ? outcome.note : error,
    healthz: {
      requests: sorted.length,
      unanswered: probe.unanswered,
      failed: probe.failed,
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
      maxMs: round(maxMs),
    },
    rssMiB: { before: toMiB(before), peak: toMiB(peak === 0 ? null : peak), after: toMiB(after) },
    relayAlive,
    attackMs: round(attackMs),
    goalMet: maxMs < GOAL_MS && probe.unanswered === 0 && probe.failed === 0 && relayAlive === 'yes',
    ...(error === undefined ? {} : { error }),
    ...(stderr === '' ? {} : { relayStderr: stderr.slice(0, 2000) }),
  }
}

const round = (x: number): number => Math.round(x * 10) / 10

async function main(): Promise<void> {
  const site = staticSite()
  const rows: Row[] = []
  let restarts = 0
  current = await startRelay(site)
  try {
    for (const attack of ATTACKS) {
      log(`item ${attack.item}: ${attack.label}`)
      let row: Row
      try {
        row = await runAttack(current, attack)
      } catch (e) {
        // Preparing failed (the relay died or hung in an earlier step): a row that says so.
        const message = e instanceof Error ? e.message : String(e)
        row = {
          item: attack.item,
          attack: attack.label,
          ended: 'bench error',
          code: null,
          note: message,
          healthz: { requests: 0, unanswered: 0, failed: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN },
          rssMiB: { before: null, peak: null, after: null },
          relayAlive: current.exit === null ? ((await healthz(current.relay, ALIVE_TIMEOUT_MS)) === null ? 'hung' : 'yes') : 'died',
          attackMs: 0,
          goalMet: false,
          error: message,
        }
        for (const sock of [...openSockets]) sock.ws.terminate()
      }
      rows.push(row)
      log(
        `  ${row.ended}; /healthz p99 ${row.healthz.p99Ms} ms, max ${row.healthz.maxMs} ms; RSS ${row.rssMiB.before} / ${row.rssMiB.peak} / ${row.rssMiB.after} MiB; alive ${row.relayAlive}${row.note === '' ? '' : `; ${row.note}`}`,
      )
      if (row.relayAlive !== 'yes') {
        log('  the relay is down: starting a fresh one for the next attack')
        await stopRelay(current)
        current = await startRelay(site)
        restarts++
      }
    }
  } finally {
    for (const sock of [...openSockets]) sock.ws.terminate()
    await stopRelay(current)
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  }

  const cell = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(1))
  const mib = (x: number | null): string => (x === null ? '-' : x.toFixed(0))
  const table = formatTable(
    ['attack (issue 10 item)', 'attacker ended', '/healthz p99 ms', '/healthz max ms', 'RSS before / peak / after MiB', 'relay alive', `< ${GOAL_MS} ms`],
    rows.map((r) => [
      `${String(r.item).padStart(2)}. ${r.attack}`,
      r.ended,
      cell(r.healthz.p99Ms),
      `${cell(r.healthz.maxMs)}${r.healthz.unanswered > 0 ? ` (${r.healthz.unanswered} unanswered)` : ''}`,
      `${mib(r.rssMiB.before)} / ${mib(r.rssMiB.peak)} / ${mib(r.rssMiB.after)}`,
      r.relayAlive,
      r.goalMet ? 'yes' : 'NO',
    ]),
  )
  const totalMs = now() - started
  const notes = rows.filter((r) => r.note !== '').map((r) => `${String(r.item).padStart(2)}. ${r.note}`)
  console.log(
    [
      '',
      `Attacks of issue 10 against the relay CLI in its own process (--secret, --allow-anonymous, --static; SQLite in a temp folder)`,
      `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; /healthz every ${POLL_MS} ms over ${BASELINE_MS} ms before + the attack + ${SETTLE_MS} ms after`,
      '',
      table,
      '',
      ...notes,
      '',
      `${restarts === 0 ? 'no relay restart' : `${restarts} relay restart(s)`} · total ${(totalMs / 1000).toFixed(1)} s · results in ${RESULTS.pathname}`,
    ].join('\n'),
  )

  mkdirSync(new URL('./', RESULTS), { recursive: true })
  const json = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAverage: os.loadavg().map(round),
      commit: git(['rev-parse', '--short', 'HEAD']),
      uncommittedRelayOrCore: git(['status', '--porcelain', '--', 'packages/relay/src', 'packages/core/src']).split('\n').filter(Boolean),
      versions: { yjs: packageVersion('yjs'), ws: packageVersion('ws'), lib0: packageVersion('lib0'), 'y-protocols': packageVersion('y-protocols') },
      parameters: {
        POLL_MS,
        BASELINE_MS,
        SETTLE_MS,
        ATTACK_TIMEOUT_MS,
        STOP_GRACE_MS,
        ALIVE_TIMEOUT_MS,
        MAX_IN_FLIGHT,
        GOAL_MS,
        FILL_ENTRIES,
        STEP_ONE_MESSAGES,
        SV_CLIENTS,
        AWARENESS_IDS,
        BULK_ITEMS,
        UPGRADES,
        UPGRADE_CONCURRENCY,
      },
      notes: [
        'relay: node --import tsx packages/relay/src/cli.ts --port 0 --host 127.0.0.1 --data <tmp> --allow-anonymous --secret <s> --static <tmp site>, one process, restarted only after an attack that killed or hung it.',
        'healthz: GET /healthz on a new connection every POLL_MS from a worker thread of the bench process, without waiting for earlier answers; latencies over BASELINE_MS before, the attack, and SETTLE_MS after; an unanswered request counts its age when the probe stopped (STOP_GRACE_MS after the window).',
        'rss: before = VmRSS just before the window; peak = max of VmRSS sampled every POLL_MS and VmHWM (reset through /proc/<pid>/clear_refs at the start of the window); after = VmRSS at the end of the window.',
        'goalMet: /healthz max under GOAL_MS, every request answered with 200, relay alive.',
      ],
      restarts,
      durationMs: Math.round(totalMs),
    },
    rows,
  }
  writeFileSync(RESULTS, `${JSON.stringify(json, null, 2)}\n`)
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: killing the relay`)
    process.exit(130) // the 'exit' handler kills the relay
  })
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
