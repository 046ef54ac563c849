/**
 * A connection sends a sync answer in pieces as its socket drains: never the
 * whole room into the socket at once, live messages after it in order, and
 * only the peer's own messages count as its backlog. (A fake socket, so the
 * test decides when the socket has drained; the real one is in
 * test/relay/large-states.test.ts.)
 */
import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { Connection } from './connection.js'
import { DEFAULT_LIMITS } from './limits.js'
import { Metrics } from './metrics.js'
import type { Room } from './room.js'

const KiB = 1024

class FakeSocket extends EventEmitter {
  readonly OPEN = 1
  readyState = 1
  bufferedAmount = 0
  binaryType = 'arraybuffer'
  /** Messages written, and their callbacks not yet called. */
  readonly sent: Uint8Array[] = []
  readonly pending: (() => void)[] = []
  closedWith: number | null = null
  send(message: Uint8Array, cb?: () => void): void {
    this.sent.push(message)
    this.bufferedAmount += message.length
    if (cb !== undefined) this.pending.push(cb)
  }
  /** The peer read everything: the buffer empties and each write's callback runs. */
  drain(): void {
    this.bufferedAmount = 0
    for (const cb of this.pending.splice(0)) cb()
  }
  close(code: number): void {
    this.closedWith = code
    this.readyState = 3
  }
  ping(): void {}
  terminate(): void {}
}

const opened: { connection: Connection; metrics: Metrics }[] = []
afterEach(() => {
  for (const { connection, metrics } of opened.splice(0)) {
    connection.close(1000, 'test over')
    metrics.close()
  }
})

function connect(maxBufferedBytes = 32 * 1024 * KiB) {
  const ws = new FakeSocket()
  const metrics = new Metrics({ connections: () => 1, roomsLoaded: () => 1 })
  // reason: the connection only calls these four members of its room
  const room = { ready: Promise.resolve(), join: () => {}, leave: () => {}, receive: () => {} } as unknown as Room
  const connection = new Connection({
    // reason: the fake implements what Connection uses of a ws socket (events, send with a callback, bufferedAmount, close)
    ws: ws as unknown as WebSocket,
    room,
    mode: 'write',
    subject: '',
    acks: true,
    limits: { ...DEFAULT_LIMITS, maxBufferedBytes },
    metrics,
    onClose: () => {},
  })
  opened.push({ connection, metrics })
  return { ws, connection, metrics }
}

const piece = (n: number) => new Uint8Array(300 * KiB).fill(n)
const live = (n: number) => new Uint8Array(10).fill(200 + n)

describe('a sync answer in pieces, sent as the socket drains', () => {
  it('feeds the socket while it holds less than 1 MiB, and the next pieces as each write completes', () => {
    const { ws, connection } = connect()
    connection.sendAnswer(Array.from({ length: 10 }, (_, i) => piece(i)))
    expect(ws.sent.length).toBe(4) // 0, 300, 600, 900 KiB buffered before each: the fifth waits
    ws.drain()
    expect(ws.sent.length).toBe(8)
    ws.drain()
    expect(ws.sent.map((m) => m[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('sends live messages after the answer, in order, and counts only them as the peer’s backlog', () => {
    // A backlog of 64 KiB: the 3 MiB answer alone would pass it many times over.
    const { ws, connection, metrics } = connect(64 * KiB)
    connection.sendAnswer(Array.from({ length: 10 }, (_, i) => piece(i)))
    connection.send(live(1))
    connection.send(live(2))
    expect(ws.closedWith).toBeNull()
    ws.drain()
    ws.drain()
    ws.drain()
    expect(ws.sent.map((m) => m[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 201, 202])
    expect(metrics.snapshot().rejected).toEqual({})
  })

  it('drops a peer whose own messages pile up past maxBufferedBytes behind an answer it does not read', () => {
    const { ws, connection, metrics } = connect(64 * KiB)
    connection.sendAnswer(Array.from({ length: 10 }, (_, i) => piece(i)))
    for (let i = 0; i < 20 && ws.closedWith === null; i++) connection.send(new Uint8Array(8 * KiB))
    expect(ws.closedWith).toBe(1013)
    expect(metrics.snapshot().rejected).toEqual({ 'slow-reader': 1 })
  })

  it('a one-message answer is sent at once, like any message', () => {
    const { ws, connection } = connect()
    connection.sendAnswer([live(0)])
    connection.send(live(1))
    expect(ws.sent.map((m) => m[0])).toEqual([200, 201])
  })

  it('says it is answering until the last piece of an answer is written (the room then leaves a new sync step 1 unanswered)', () => {
    const { ws, connection } = connect()
    expect(connection.answering).toBe(false)
    connection.sendAnswer(Array.from({ length: 10 }, (_, i) => piece(i)))
    expect(connection.answering).toBe(true)
    ws.drain()
    expect(connection.answering).toBe(true)
    ws.drain()
    ws.drain()
    expect(connection.answering).toBe(false)
    expect(ws.sent.length).toBe(10)
  })

  it('lets go of what it sent while a reader keeps pace without ever catching up', () => {
    const { ws, connection } = connect()
    connection.sendAnswer(Array.from({ length: 10 }, (_, i) => piece(i))) // 4 written, 6 wait
    // Each turn: one more live message, and the socket takes one message (it stays just under 1 MiB).
    for (let i = 0; i < 20_000; i++) {
      connection.send(live(i % 50))
      ws.bufferedAmount = 1024 * KiB - 1
      for (const cb of ws.pending.splice(0)) cb()
    }
    expect(ws.sent.length).toBeGreaterThan(19_000)
    // reason: the outbox is private; its length is what this test is about (sent messages must not stay referenced)
    const { outbox, outboxNext } = connection as unknown as { outbox: unknown[]; outboxNext: number }
    expect(outbox.length - outboxNext).toBeLessThan(20) // the backlog: steady
    expect(outbox.length).toBeLessThan(2_100) // what was sent is let go
  })
})
