/**
 * A reader process of `npm run bench:relay`: holds many connections (the
 * readers of the fan-out rows, the idle connections and small rooms of the
 * memory rows) so that none of them runs in a relay's process or in the
 * bench's. Driven over IPC by children.ts's `Child.call`:
 *
 *   open { url, rooms, raw? }    one reader per entry of rooms, synced → { opened }
 *   write { keys }               every provider writes a small doc (one transaction of `keys` entries)
 *   arm { expected }             → { armed }; a later 'done' answers once every reader
 *   done {}                        has `expected` writes → { times (absNow of each), cpuMs }
 *   close {}                     closes every reader → { disconnects }
 *
 * Two kinds of reader:
 * - provider (default): a y-websocket WebsocketProvider (providers.ts); it has
 *   a write once its Y.Array 'a' holds it.
 * - raw: a minimal y-protocols peer on a bare `ws` socket, without a Y.Doc.
 *   It does the sync handshake (its step 1 with an empty state vector, step 2
 *   with an empty update in answer to the server's step 1) and reads how far
 *   the room's clocks have come from the updates it receives. In a fan-out
 *   room the writer's pushes are the only changes, one item of length 1
 *   each, delivered in order, so the header of an update (first client
 *   block: struct count, client, first clock) gives the writes received
 *   without decoding the structs, whether the server sends one update per
 *   write or merges several (Y.mergeUpdates keeps the items apart). An update
 *   whose header cannot tell (several clients, or items squashed into longer
 *   structs, as in a document snapshot) is decoded with Y.parseUpdateMeta once
 *   its reader has been quiet for QUIET_MS; the write counts as received when
 *   its message arrived. A raw reader costs its process a fraction of what
 *   applying every update to a document costs, so on a small machine the
 *   relay, not the readers, bounds the fan-out.
 *
 * Exits when the IPC channel closes.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { Reply, Request } from './children.js'
import { absNow, type BenchProvider, closeProvider, openMany } from './providers.js'

interface Reader {
  /** Writes received so far. */
  count(): number
  close(): void
  disconnects(): number
  /** Called after each received update, with the time the write(s) arrived (default: now). */
  onUpdate: (at?: number) => void
  /** Raw readers: decode the latest update exactly if the reader has been quiet for QUIET_MS. */
  settle?: (now: number) => void
}

let readers: Reader[] = []
let expected = Infinity
let doneTimes: number[] = []
let remaining = 0
let onAllDone: (() => void) | null = null
let cpuAtArm = process.cpuUsage()

function watch(reader: Reader, index: number): void {
  reader.onUpdate = (at) => {
    if (doneTimes[index] !== 0 || reader.count() < expected) return
    doneTimes[index] = at ?? absNow()
    if (--remaining === 0) onAllDone?.()
  }
}

const QUIET_MS = 20
setInterval(() => {
  const t = absNow()
  for (const r of readers) r.settle?.(t)
}, QUIET_MS).unref()

function providerReader(p: BenchProvider): Reader {
  const array = p.doc.getArray<number>('a')
  const reader: Reader = {
    count: () => array.length,
    close: () => closeProvider(p),
    disconnects: () => p.disconnects,
    onUpdate: () => undefined,
  }
  p.doc.on('update', () => reader.onUpdate())
  return reader
}

const SYNC = 0
const STEP1 = 0
const STEP2 = 1
const UPDATE = 2

function message(build: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder()
  build(e)
  return encoding.toUint8Array(e)
}
/** Step 1 with the state vector of an empty document (no clients). */
const EMPTY_STEP1 = message((e) => {
  encoding.writeVarUint(e, SYNC)
  encoding.writeVarUint(e, STEP1)
  encoding.writeVarUint8Array(e, Uint8Array.of(0))
})
/** Step 2 with the update of an empty document (no structs, empty delete set). */
const EMPTY_STEP2 = message((e) => {
  encoding.writeVarUint(e, SYNC)
  encoding.writeVarUint(e, STEP2)
  encoding.writeVarUint8Array(e, Uint8Array.of(0, 0))
})

function rawReader(url: string, room: string, timeoutMs = 30_000): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/${encodeURIComponent(room)}`, { perMessageDeflate: false })
    /** Clock reached per client, and the sum of them: the writes received. */
    const clocks = new Map<number, number>()
    let writes = 0
    /** The latest update and when it arrived, until it has been decoded exactly. */
    let latest: Uint8Array | null = null
    let latestAt = 0
    let closedUnexpectedly = 0
    let closing = false
    const reach = (client: number, clock: number) => {
      const before = clocks.get(client) ?? 0
      if (clock <= before) return
      clocks.set(client, clock)
      writes += clock - before
    }
    const reader: Reader = {
      count: () => writes,
      close: () => {
        closing = true
        ws.close()
      },
      disconnects: () => closedUnexpectedly,
      onUpdate: () => undefined,
      settle: (t) => {
        if (latest === null || t - latestAt < QUIET_MS || writes >= expected) return
        for (const [client, clock] of Y.parseUpdateMeta(latest).to) reach(client, clock)
        latest = null
        reader.onUpdate(latestAt)
      },
    }
    const timer = setTimeout(() => reject(new Error(`raw reader of ${room} not synced after ${timeoutMs} ms`)), timeoutMs)
    ws.on('open', () => ws.send(EMPTY_STEP1))
    ws.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      if (decoding.readVarUint(d) !== SYNC) return
      const kind = decoding.readVarUint(d)
      if (kind === STEP1) {
        ws.send(EMPTY_STEP2)
        return
      }
      if (kind !== STEP2 && kind !== UPDATE) return
      const update = decoding.readVarUint8Array(d)
      latest = update
      latestAt = absNow()
      const u = decoding.createDecoder(update)
      if (decoding.readVarUint(u) === 1) {
        const structs = decoding.readVarUint(u)
        const client = decoding.readVarUint(u)
        reach(client, decoding.readVarUint(u) + structs)
      }
      reader.onUpdate(latestAt)
      if (kind === STEP2) {
        clearTimeout(timer)
        resolve(reader)
      }
    })
    ws.on('close', () => {
      if (!closing) closedUnexpectedly++
    })
    ws.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}

async function openRaw(url: string, rooms: readonly string[], batch = 50): Promise<Reader[]> {
  const out: Reader[] = []
  for (let i = 0; i < rooms.length; i += batch) out.push(...(await Promise.all(rooms.slice(i, i + batch).map((room) => rawReader(url, room)))))
  return out
}

const providers: BenchProvider[] = []

async function handle(request: Request): Promise<unknown> {
  switch (request.cmd) {
    case 'open': {
      const { url, rooms, raw } = request as unknown as { url: string; rooms: string[]; raw?: boolean } // reason: what bench-relay's 'open' calls send
      let added: Reader[]
      if (raw === true) added = await openRaw(url, rooms)
      else {
        const opened = await openMany(url, rooms)
        providers.push(...opened)
        added = opened.map(providerReader)
      }
      added.forEach((r, i) => watch(r, readers.length + i))
      readers.push(...added)
      return { opened: readers.length }
    }
    case 'write': {
      const keys = request.keys as number // reason: what bench-relay's 'write' calls send
      for (const p of providers) {
        const map = p.doc.getMap<string>('m')
        p.doc.transact(() => {
          for (let k = 0; k < keys; k++) map.set(`key:${k}`, `value ${k} of ${p.provider.roomname}`)
        })
      }
      return { written: providers.length }
    }
    case 'arm': {
      expected = request.expected as number // reason: what bench-relay's 'arm' calls send
      doneTimes = new Array<number>(readers.length).fill(0)
      remaining = readers.length
      onAllDone = null
      cpuAtArm = process.cpuUsage()
      return { armed: readers.length }
    }
    case 'done': {
      if (remaining > 0) await new Promise<void>((resolve) => (onAllDone = resolve))
      const cpu = process.cpuUsage(cpuAtArm)
      return { times: doneTimes, cpuMs: (cpu.user + cpu.system) / 1000 }
    }
    case 'close': {
      const disconnects = readers.reduce((n, r) => n + r.disconnects(), 0)
      for (const r of readers) r.close()
      readers = []
      providers.length = 0
      return { disconnects }
    }
    default:
      throw new Error(`unknown command ${request.cmd}`)
  }
}

process.on('message', (request: Request) => {
  handle(request).then(
    (result) => process.send?.({ id: request.id, result } satisfies Reply),
    (error: unknown) => process.send?.({ id: request.id, error: (error instanceof Error ? error.stack : undefined) ?? String(error) } satisfies Reply),
  )
})
process.on('disconnect', () => process.exit(0))
