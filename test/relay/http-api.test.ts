/**
 * The relay's HTTP API for backends: every route, both directions with a
 * connected client, the refusals (401/403/404/405/400/413), CORS, and a write
 * that is on disk before its 2xx (the relay killed with SIGKILL right after).
 */
import { describe, expect, it, vi } from 'vitest'
import type { Change } from '@tidekv/client'
import { createToken, memoryRelayStorage, type RelayStorage } from '@tidekv/relay'
import { newClient, newRelay, statusIs, tempDir } from '../helpers/relay.js'
import { startRelayProcess } from '../helpers/relay-process.js'

const secret = 'test-secret-of-at-least-32-bytes!!'
const wait = { timeout: 10_000, interval: 5 }

/** A JSON request; resolves with the status and the parsed body (undefined when empty). */
async function call(base: string, method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await res.text()
  // reason: the API answers JSON objects (or nothing); the tests check their shape
  const parsed = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>)
  return { status: res.status, body: parsed, headers: res.headers }
}

describe('HTTP API', () => {
  it('reads what a client wrote: keys and entries in pages, each key with its type, value and ttl', async () => {
    const relay = await newRelay({ auth: { secret } })
    const token = await createToken({ secret, room: 'team', mode: 'read' })
    const client = await newClient(relay.ws, 'team', { token: await createToken({ secret, room: 'team', mode: 'write' }) })
    client.set('todo:1', { title: 'tea' })
    client.set('todo:2', 'milk', { ttl: 60_000 })
    client.set('todo:3', new Uint8Array([1, 2]))
    client.set('path/with/slashes', true)
    client.incr('visits', 3)
    client.hash('user:1').set('name', 'Ada')
    client.list('queue').pushRight('a', 'b')
    client.collection('tags').add('x', 'y')
    client.sortedSet('board').add('ada', 10)
    const id = client.stream('log').add({ event: 'joined' })
    await client.whenSynced()
    const api = (path: string) => call(relay.url, 'GET', path, { token })

    const first = await api('/v1/rooms/team/keys?prefix=todo:&limit=2')
    expect(first).toMatchObject({ status: 200, body: { keys: ['todo:1', 'todo:2'], next: 'todo:2' } })
    expect((await api('/v1/rooms/team/keys?prefix=todo:&limit=2&after=todo:2')).body).toEqual({ keys: ['todo:3'] })
    expect((await api('/v1/rooms/team/entries?prefix=todo:')).body).toEqual({
      entries: [
        ['todo:1', { title: 'tea' }],
        ['todo:2', 'milk'],
        ['todo:3', { $base64: 'AQI=' }],
      ],
    })
    const todo2 = await api('/v1/rooms/team/keys/todo%3A2')
    expect(todo2.body).toMatchObject({ key: 'todo:2', type: 'string', value: 'milk' })
    expect(todo2.body?.ttl).toBeGreaterThan(50_000)
    const expectKey = async (key: string, type: string, value: unknown) =>
      expect((await api(`/v1/rooms/team/keys/${encodeURIComponent(key)}`)).body).toEqual({ key, type, value, ttl: null })
    await expectKey('path/with/slashes', 'string', true)
    await expectKey('visits', 'counter', 3)
    await expectKey('user:1', 'hash', { name: 'Ada' })
    await expectKey('queue', 'list', ['a', 'b'])
    await expectKey('tags', 'set', ['x', 'y'])
    await expectKey('board', 'zset', [['ada', 10]])
    await expectKey('log', 'stream', [{ id, fields: { event: 'joined' } }])
    expect(await api('/v1/rooms/team/keys/missing')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } })
  })

  it('writes that a connected client sees at once as remote changes', async () => {
    const relay = await newRelay({ auth: { secret } })
    const token = await createToken({ secret, room: 'team', mode: 'write' })
    const client = await newClient(relay.ws, 'team', { token })
    await statusIs(client, 'synced')
    const changes: Change[] = []
    client.watch({ prefix: '' }, (c) => changes.push(c))
    expect((await call(relay.url, 'PUT', '/v1/rooms/team/keys/a%2Fb', { token, body: { value: { n: 1 }, ttl: 60_000 } })).status).toBe(204)
    expect((await call(relay.url, 'POST', '/v1/rooms/team/incr/hits', { token, body: { by: 5 } })).body).toEqual({ value: 5 })
    expect((await call(relay.url, 'POST', '/v1/rooms/team/incr/hits', { token })).body).toEqual({ value: 6 })
    await vi.waitFor(() => expect([client.get('a/b'), client.get('hits')]).toEqual([{ n: 1 }, 6]), wait)
    expect(client.ttl('a/b')).toBeGreaterThan(50_000)
    expect((await call(relay.url, 'DELETE', '/v1/rooms/team/keys/a%2Fb', { token })).body).toEqual({ deleted: true })
    expect((await call(relay.url, 'DELETE', '/v1/rooms/team/keys/a%2Fb', { token })).body).toEqual({ deleted: false })
    await vi.waitFor(() => expect(client.get('a/b')).toBeUndefined(), wait)
    expect(changes.length).toBeGreaterThan(0)
    expect(changes.every((c) => c.origin === 'remote')).toBe(true)
    // And the other way: the API reads what the client writes next.
    client.set('from:client', 1)
    await client.whenSynced()
    expect((await call(relay.url, 'GET', '/v1/rooms/team/keys/from%3Aclient', { token })).body).toMatchObject({ value: 1 })
  })

  it('refuses what the token does not allow: 401 without a valid token, 403 for another room, a read token or a key outside the rules', async () => {
    const relay = await newRelay({ auth: { secret } })
    const put = (token: string | undefined, key = 'user:42:x') =>
      call(relay.url, 'PUT', `/v1/rooms/team/keys/${key}`, { ...(token === undefined ? {} : { token }), body: { value: 1 } })
    expect(await put(undefined)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } })
    expect(await put('garbage')).toMatchObject({ status: 401 })
    expect(await put(await createToken({ secret, room: 'team', mode: 'write', expiresIn: -10 }))).toMatchObject({ status: 401 })
    expect(await put(await createToken({ secret, room: 'other', mode: 'write' }))).toMatchObject({ status: 403, body: { code: 'WRONG_ROOM' } })
    expect(await put(await createToken({ secret, room: 'team', mode: 'read' }))).toMatchObject({ status: 403, body: { code: 'READ_ONLY' } })
    const ruled = await createToken({ secret, room: 'team', mode: 'write', rules: { write: ['user:42:*'] } })
    expect(await put(ruled, 'user:43:x')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(await call(relay.url, 'POST', '/v1/rooms/team/incr/admin', { token: ruled })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(await call(relay.url, 'DELETE', '/v1/rooms/team/keys/admin', { token: ruled })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect((await put(ruled)).status).toBe(204)
    const reader = await call(relay.url, 'GET', '/v1/rooms/team/keys', { token: ruled })
    expect(reader.body).toEqual({ keys: ['user:42:x'] })
  })

  it('answers bad input with 400 and a TideKVError code, and changes nothing', async () => {
    const relay = await newRelay({ limits: { maxMessageBytes: 64 * 1024 } })
    const api = (method: string, path: string, options: { body?: unknown; raw?: string } = {}) => call(relay.url, method, path, options)
    expect(await api('PUT', '/v1/rooms/r/keys/k', { raw: '{not json' })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect(await api('PUT', '/v1/rooms/r/keys/k', { body: ['value'] })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect(await api('PUT', '/v1/rooms/r/keys/k', { body: { nothing: 1 } })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect(await api('PUT', '/v1/rooms/r/keys/k', { body: { value: 1, ttl: 'soon' } })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect(await api('PUT', '/v1/rooms/r/keys/k', { body: { value: 1, ttl: -5 } })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect(await api('PUT', '/v1/rooms/r/keys/k', { raw: JSON.stringify({ value: 'x'.repeat(70_000) }) })).toMatchObject({ status: 413, body: { code: 'VALUE_TOO_LARGE' } })
    expect(await api('PUT', '/v1/rooms/r/keys/%E0%A4%A', { body: { value: 1 } })).toMatchObject({ status: 400, body: { code: 'INVALID_KEY' } })
    expect(await api('GET', '/v1/rooms/r/keys?limit=0')).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect(await api('GET', '/v1/rooms/r/keys?limit=5000')).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE' } })
    expect((await api('PUT', '/v1/rooms/r/keys/text', { body: { value: 'abc' } })).status).toBe(204)
    expect(await api('POST', '/v1/rooms/r/incr/text')).toMatchObject({ status: 400, body: { code: 'NOT_AN_INTEGER' } })
    expect(await api('POST', '/v1/rooms/r/incr/n', { body: { by: 1.5 } })).toMatchObject({ status: 400, body: { code: 'NOT_AN_INTEGER' } })
    expect(await api('PATCH', '/v1/rooms/r/keys/k')).toMatchObject({ status: 405 })
    expect(await api('GET', '/v1/rooms/r/nothing')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } })
    expect(await api('GET', '/v1/rooms/r/keys/k')).toMatchObject({ status: 404 })
    expect((await api('GET', '/v1/rooms/r/keys')).body).toEqual({ keys: ['text'] })
  })

  it('sends CORS headers only for allowed origins', async () => {
    const closed = await newRelay()
    const plain = await call(closed.url, 'GET', '/v1/rooms/r/keys', { headers: { Origin: 'https://app.example' } })
    expect(plain.status).toBe(200)
    expect(plain.headers.get('access-control-allow-origin')).toBeNull()
    const open = await newRelay({ allowedOrigins: ['https://app.example'] })
    const preflight = await fetch(`${open.url}/v1/rooms/r/keys/k`, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PUT' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT')
    const allowed = await call(open.url, 'GET', '/v1/rooms/r/keys', { headers: { Origin: 'https://app.example' } })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(await call(open.url, 'GET', '/v1/rooms/r/keys', { headers: { Origin: 'https://evil.example' } })).toMatchObject({ status: 403 })
  })

  it('answers a write only after the storage has taken it (a slow storage holds the answer back)', async () => {
    const inner = memoryRelayStorage()
    let appended = 0
    const slow: RelayStorage = {
      ...inner,
      load: (room) => inner.load(room),
      loadSince: (room, after) => inner.loadSince(room, after),
      compact: (room, snapshot, upTo) => inner.compact(room, snapshot, upTo),
      deleteRoom: (room) => inner.deleteRoom(room),
      rooms: () => inner.rooms(),
      close: () => inner.close(),
      append: async (room, update) => {
        await new Promise((r) => setTimeout(r, 150))
        const seq = await inner.append(room, update)
        appended++
        return seq
      },
    }
    const relay = await newRelay({ storage: slow })
    const res = await call(relay.url, 'PUT', '/v1/rooms/slow/keys/k', { body: { value: 1 } })
    expect(res.status).toBe(204)
    expect(appended).toBeGreaterThan(0)
    expect((await inner.load('slow')).updates.length).toBeGreaterThan(0)
  })

  it('counts requests in progress like connections: past maxConnections, 503', async () => {
    const inner = memoryRelayStorage()
    // reason: Object.create keeps every method of the memory storage; append is replaced below
    const slow: RelayStorage = Object.assign(Object.create(inner) as RelayStorage, {
      append: async (room: string, update: Uint8Array) => {
        await new Promise((r) => setTimeout(r, 200))
        return inner.append(room, update)
      },
    })
    const relay = await newRelay({ storage: slow, limits: { maxConnections: 1 } })
    const [first, second] = await Promise.all([
      call(relay.url, 'PUT', '/v1/rooms/r/keys/a', { body: { value: 1 } }),
      new Promise((r) => setTimeout(r, 50)).then(() => call(relay.url, 'PUT', '/v1/rooms/r/keys/b', { body: { value: 2 } })),
    ])
    expect([first.status, second.status]).toEqual([204, 503])
    expect(second.body).toMatchObject({ code: 'BUSY' })
    expect((await call(relay.url, 'GET', '/v1/rooms/r/keys')).body).toEqual({ keys: ['a'] })
  })

  it('answers a write only once it is stored: a relay killed right after the 2xx still has it', async () => {
    const dataDir = tempDir()
    let relay = await startRelayProcess(dataDir)
    for (let i = 0; i < 20; i++) {
      expect((await call(relay.http, 'PUT', `/v1/rooms/durable/keys/k${i}`, { body: { value: i } })).status).toBe(204)
    }
    expect((await call(relay.http, 'POST', '/v1/rooms/durable/incr/n', { body: { by: 7 } })).body).toEqual({ value: 7 })
    await relay.kill()
    relay = await startRelayProcess(dataDir)
    const keys = await call(relay.http, 'GET', '/v1/rooms/durable/keys?limit=100')
    expect(keys.body?.keys).toHaveLength(21)
    expect((await call(relay.http, 'GET', '/v1/rooms/durable/keys/k19')).body).toMatchObject({ value: 19 })
    expect((await call(relay.http, 'GET', '/v1/rooms/durable/keys/n')).body).toMatchObject({ type: 'counter', value: 7 })
  })
})
