/**
 * `createRelay` refuses a bad option with a TideKVError of code INVALID_VALUE
 * whose message names the option, before it opens storage or a port; good
 * options get their defaults.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TideKVError } from '@tidekv/core'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from './limits.js'
import { memoryRelayBus } from './bus.js'
import { memoryRelayStorage } from './memory-storage.js'
import { createRelay } from './relay.js'
import { type RelayOptions, resolveRelayOptions } from './relay-options.js'
import { DEFAULT_UPDATE_BUDGET } from './update-budget.js'

const anonymous = { auth: { anonymous: 'write' } } as const

/** The error `fn` throws; fails when it throws none. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('did not throw')
}

/** Expects `error` to be a TideKVError of code INVALID_VALUE with a message matching `message`. */
function expectInvalidValue(error: unknown, message: RegExp): void {
  expect(error).toBeInstanceOf(TideKVError)
  if (!(error instanceof TideKVError)) return
  expect(error.code).toBe('INVALID_VALUE')
  expect(error.message).toMatch(message)
}

/** Expects `options` to be refused with INVALID_VALUE and a message matching `message`. */
function expectRefused(options: unknown, message: RegExp): void {
  expectInvalidValue(
    thrown(() => resolveRelayOptions(options as RelayOptions)), // reason: the point is options the types would not allow
    message,
  )
}

describe('createRelay options', () => {
  it('createRelay rejects with INVALID_VALUE before it opens anything (no SQLite file is created)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tidekv-options-'))
    try {
      const error = await createRelay({ ...anonymous, dataDir, port: 80.5 }).then(
        () => new Error('createRelay resolved'),
        (e: unknown) => e,
      )
      expectInvalidValue(error, /option port must be an integer from 0 to 65535.*got 80\.5/)
      expect(readdirSync(dataDir)).toEqual([])
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('a port that is not an integer from 0 to 65535', () => {
    expectRefused({ ...anonymous, port: 80.5 }, /option port must be an integer from 0 to 65535 \(0: a free one\), got 80\.5$/)
    expectRefused({ ...anonymous, port: -1 }, /option port .* got -1$/)
    expectRefused({ ...anonymous, port: 65536 }, /option port .* got 65536$/)
    expectRefused({ ...anonymous, port: '8787' }, /option port .* got "8787"$/)
    expectRefused({ ...anonymous, port: Number.NaN }, /option port .* got NaN$/)
  })

  it('a negative, fractional, infinite or mistyped limit, naming it and what it must be', () => {
    expectRefused({ ...anonymous, limits: { maxConnections: -5 } }, /option limits\.maxConnections must be an integer ≥ 1, got -5$/)
    expectRefused({ ...anonymous, limits: { maxMessageBytes: 0 } }, /option limits\.maxMessageBytes must be an integer ≥ 1, got 0$/)
    expectRefused({ ...anonymous, limits: { maxBufferedBytes: 1.5 } }, /option limits\.maxBufferedBytes must be an integer ≥ 0, got 1\.5$/)
    expectRefused({ ...anonymous, limits: { messagesPerSecond: 0 } }, /option limits\.messagesPerSecond must be a number > 0, got 0$/)
    expectRefused({ ...anonymous, limits: { messagesPerSecond: Infinity } }, /option limits\.messagesPerSecond .* got Infinity$/)
    expectRefused({ ...anonymous, limits: { messageBurst: 0.5 } }, /option limits\.messageBurst must be a number ≥ 1, got 0\.5$/)
    expectRefused({ ...anonymous, limits: { compactAfterUpdates: '500' } }, /option limits\.compactAfterUpdates must be an integer ≥ 1, got "500"$/)
    // Node fires a timer longer than 2^31 - 1 ms at once: a relay would ping every millisecond.
    expectRefused({ ...anonymous, limits: { heartbeatMs: 2 ** 31 } }, /option limits\.heartbeatMs must be an integer from 1 to 2147483647, got 2147483648$/)
    expectRefused({ ...anonymous, limits: { idleRoomMs: -1 } }, /option limits\.idleRoomMs must be an integer from 0 to 2147483647, got -1$/)
    expectRefused({ ...anonymous, limits: 100 }, /option limits must be an object, got 100$/)
  })

  it('a misspelt option is refused, not ignored, listing the known ones', () => {
    expectRefused(
      { ...anonymous, limit: { maxConnections: 10 } },
      /unknown option limit \(known: port, host, storage, dataDir, bus, redis, auth, limits, updateBudget, allowedOrigins, static, webhooks, onError\)$/,
    )
    expectRefused({ ...anonymous, limits: { maxConnection: 10 } }, /unknown option limits\.maxConnection \(known: limits\.maxMessageBytes, /)
    expectRefused({ ...anonymous, updateBudget: { maxStruct: 10 } }, /unknown option updateBudget\.maxStruct /)
    expectRefused({ auth: { anonymus: 'write' } }, /unknown option auth\.anonymus /)
  })

  it('a bad update budget value', () => {
    expectRefused({ ...anonymous, updateBudget: { maxTypes: -1 } }, /option updateBudget\.maxTypes must be an integer ≥ 0, got -1$/)
    expectRefused({ ...anonymous, updateBudget: { maxBytes: 1e100 } }, /option updateBudget\.maxBytes must be an integer ≥ 0, got 1e\+100$/)
  })

  it('auth: missing, with neither a secret nor anonymous access, or with a bad secret or mode', () => {
    expectRefused({ port: 0 }, /option auth must be an object, got undefined$/)
    expectRefused({ auth: {} }, /give auth\.secret, or auth\.anonymous to let anyone in/)
    expectRefused({ auth: { anonymous: 'none' } }, /give auth\.secret, or auth\.anonymous/)
    expectRefused({ auth: { secret: '' } }, /option auth\.secret must be a non-empty string or Uint8Array, got ""$/)
    expectRefused({ auth: { secret: new Uint8Array(0) } }, /option auth\.secret .* got a Uint8Array of 0 bytes$/)
    expectRefused({ auth: { secret: 42 } }, /option auth\.secret .* got 42$/)
    expectRefused({ auth: { anonymous: 'admin' } }, /option auth\.anonymous must be one of none, read, write, got "admin"$/)
  })

  it('the other options: host, dataDir, storage, allowedOrigins, static, onError', () => {
    expectRefused({ ...anonymous, host: '' }, /option host must be a non-empty string, got ""$/)
    expectRefused({ ...anonymous, dataDir: 7 }, /option dataDir must be a non-empty string, got 7$/)
    expectRefused({ ...anonymous, storage: { load() {} } }, /option storage must be a RelayStorage \(append is missing\), got an object$/)
    expectRefused({ ...anonymous, allowedOrigins: 'https://app.example' }, /option allowedOrigins must be an array of strings, got "https:\/\/app\.example"$/)
    expectRefused({ ...anonymous, allowedOrigins: [new URL('https://app.example')] }, /option allowedOrigins must be an array of strings, got an array$/)
    expectRefused({ ...anonymous, static: '' }, /option static must be a non-empty string/)
    expectRefused({ ...anonymous, onError: 'log' }, /option onError must be a function, got "log"$/)
    expectRefused(null, /option options must be an object, got null$/)
  })

  it('relays sharing rooms: redis is a redis URL, alone; a bus needs a storage with loadSince', () => {
    expectRefused({ ...anonymous, redis: 'http://127.0.0.1:6379' }, /option redis must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/127\.0\.0\.1:6379"$/)
    expectRefused(
      { ...anonymous, redis: 'redis://127.0.0.1:6379', storage: memoryRelayStorage() },
      /redis keeps the rooms and joins the relays itself; give it without storage and bus$/,
    )
    expectRefused({ ...anonymous, redis: { url: 'redis://127.0.0.1:6379', waitReplicas: -1 } }, /option redis\.waitReplicas must be an integer ≥ 0, got -1$/)
    expectRefused({ ...anonymous, redis: { url: 'redis://x', wait: 1 } }, /unknown option redis\.wait/)
  })

  it('a Redis Cluster: host:port entries or redis URLs, agreeing on user and TLS, without waitReplicas', () => {
    const cluster = (nodes: unknown) => resolveRelayOptions({ ...anonymous, redis: { cluster: nodes as string[] } }).redis // reason: the hostile shapes are the point
    expect(cluster(['127.0.0.1:7000', 'redis-2.internal:7001', '[::1]:7002'])).toEqual({
      cluster: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    })
    expect(cluster(['rediss://relay:s%40cret@10.0.0.1:7000', '10.0.0.2:7000'])).toEqual({
      cluster: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7000 },
      ],
      username: 'relay',
      password: 's@cret',
      tls: true,
    })
    expectRefused({ ...anonymous, redis: { cluster: [] } }, /option redis\.cluster must be a non-empty array of host:port strings, got an array$/)
    expectRefused({ ...anonymous, redis: { cluster: '127.0.0.1:7000' } }, /option redis\.cluster must be a non-empty array/)
    expectRefused({ ...anonymous, redis: { cluster: ['127.0.0.1'] } }, /option redis\.cluster must be host:port or redis:\/\/\[user:pass@\]host:port entries, got "127\.0\.0\.1"$/)
    expectRefused({ ...anonymous, redis: { cluster: ['redis://h:7000/2'] } }, /option redis\.cluster must be host:port/)
    expectRefused({ ...anonymous, redis: { cluster: ['redis://h:7000', 'rediss://h2:7000'] } }, /the redis\.cluster URLs disagree on TLS, user or password/)
    expectRefused({ ...anonymous, redis: { cluster: ['redis://u:p1@h:7000', 'redis://u:p2@h2:7000'] } }, /disagree on TLS, user or password/)
    // A password is never echoed back, even in an entry that is otherwise wrong.
    expectRefused({ ...anonymous, redis: { cluster: ['rediss://relay:S3cretPw@10.0.0.1:7000/2'] } }, /got "rediss:\/\/relay:\*\*\*@10\.0\.0\.1:7000\/2"$/)
    expectRefused({ ...anonymous, redis: { cluster: ['h:7000'], waitReplicas: 1 } }, /redis\.waitReplicas works with one Redis \(redis\.url\), not with redis\.cluster$/)
    expectRefused({ ...anonymous, redis: { cluster: ['h:7000'] }, storage: memoryRelayStorage() }, /give it without storage and bus$/)
    expectRefused({ ...anonymous, bus: { publish() {} } }, /option bus must be a RelayBus \(publish, subscribe, onGap, close\), got an object$/)
    expectRefused({ ...anonymous, bus: memoryRelayBus() }, /a bus needs the storage the relays share \(option storage\)$/)
    const { loadSince: _, ...withoutLoadSince } = Object.fromEntries(['load', 'loadSince', 'append', 'compact', 'deleteRoom', 'rooms', 'close'].map((m) => [m, () => undefined]))
    expectRefused({ ...anonymous, bus: memoryRelayBus(), storage: withoutLoadSince }, /option storage must be a RelayStorage with loadSince/)
  })

  it('never copies a long string (a secret pasted in the wrong place, say) into the message', () => {
    expectRefused({ auth: { anonymous: 's3cr3t'.repeat(20) } }, /option auth\.anonymous must be one of none, read, write, got a string of 120 characters$/)
  })

  it('undefined counts as not given: the defaults apply', () => {
    const resolved = resolveRelayOptions({
      auth: { secret: 'k', anonymous: undefined },
      port: undefined,
      limits: { maxConnections: undefined },
      static: undefined,
      allowedOrigins: undefined,
    })
    expect(resolved).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      dataDir: '.tidekv-data',
      secret: 'k',
      anonymous: 'none',
      static: undefined,
      allowedOrigins: undefined,
      storage: undefined,
    })
    expect(resolved.limits).toEqual(DEFAULT_LIMITS)
    expect(resolved.budget).toEqual(DEFAULT_UPDATE_BUDGET)
  })

  it('good values are taken, the rest default', () => {
    const storage = memoryRelayStorage()
    const resolved = resolveRelayOptions({
      port: 0,
      host: '::1',
      storage,
      auth: { anonymous: 'read' },
      limits: { messagesPerSecond: 0.5, idleRoomMs: 0, maxBufferedBytes: 0 },
      updateBudget: { maxTypes: 0 },
      allowedOrigins: ['https://app.example'],
    })
    expect(resolved).toMatchObject({ port: 0, host: '::1', storage, anonymous: 'read', allowedOrigins: ['https://app.example'] })
    expect(resolved.limits).toEqual({ ...DEFAULT_LIMITS, messagesPerSecond: 0.5, idleRoomMs: 0, maxBufferedBytes: 0 })
    expect(resolved.budget).toEqual({ ...DEFAULT_UPDATE_BUDGET, maxTypes: 0 })
  })
})
