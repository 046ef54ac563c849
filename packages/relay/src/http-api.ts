/**
 * The relay's HTTP API for backends: JSON over the rooms, with the same
 * tokens and write rules as the WebSocket (`Authorization: Bearer <token>`).
 * Each request runs the store API on a replica of the room kept by the relay
 * (room-store.ts); a write answers once the relay has stored it.
 *
 *   GET    /v1/rooms/:room/keys?prefix=&after=&limit=     { keys, next? }
 *   GET    /v1/rooms/:room/entries?prefix=&after=&limit=  { entries: [[key, value]], next? }
 *   GET    /v1/rooms/:room/keys/:key                      { key, type, value, ttl } | 404
 *   PUT    /v1/rooms/:room/keys/:key   { value, ttl? }    204
 *   DELETE /v1/rooms/:room/keys/:key                      { deleted }
 *   POST   /v1/rooms/:room/incr/:key   { by? }            { value }
 *
 * Rooms and keys are URL-encoded path segments (a key may hold `/`). Errors
 * are `{ code, message }` with TideKVError codes: 400 for bad input, 401/403
 * as at the WebSocket upgrade (403 `READ_ONLY` or `FORBIDDEN` for a write the
 * token may not make), 404 `NOT_FOUND`, 405, 413 `VALUE_TOO_LARGE`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { TideKVError, type Value, type WriteRules } from '@tidekv/core'
import { type AccessMode, checkToken } from './auth.js'
import type { RoomStore } from './room-store.js'
import { LATE, within } from './within.js'

/** Most keys or entries one page returns, and the default page. */
export const MAX_PAGE = 1000
const DEFAULT_PAGE = 100

export interface HttpApiOptions {
  /** The relay's token secret; undefined: only anonymous access. */
  secret: string | Uint8Array | undefined
  /** What a request without a token may do. */
  anonymous: 'none' | 'read' | 'write'
  /** Origins whose browsers may call the API (CORS); undefined: none (no CORS headers). */
  allowedOrigins: readonly string[] | undefined
  /** Largest request body, bytes. */
  maxBodyBytes: number
  /** A store on the room, kept by the relay between requests. */
  roomStore: (room: string) => Promise<RoomStore>
  /** Releases what `roomStore` returned (the relay closes idle ones). */
  release: (room: string) => void
  /** Counts a request the API refused (for /metrics). */
  reject: (reason: string) => void
}

interface Access {
  mode: AccessMode
  rules: WriteRules | null
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Handles a request under /v1/; answers every one (never throws). */
export async function handleApi(req: IncomingMessage, res: ServerResponse, options: HttpApiOptions): Promise<void> {
  try {
    if (!cors(req, res, options)) return
    const url = new URL(req.url ?? '/', 'http://relay')
    const [room, route, key] = parsePath(url.pathname)
    const access = await authorize(req, room, options)
    const store = await options.roomStore(room)
    try {
      const answer = await respond(req, url, store, access, route, key, options)
      if (answer === undefined) res.writeHead(204).end()
      else sendJson(res, 200, answer)
    } finally {
      options.release(room)
    }
  } catch (e) {
    const error = toHttpError(e)
    if (error.status !== 404) options.reject(`api-${error.code.toLowerCase().replace(/_/g, '-')}`)
    sendJson(res, error.status, { code: error.code, message: error.message })
  }
}

async function respond(
  req: IncomingMessage,
  url: URL,
  store: RoomStore,
  access: Access,
  route: 'keys' | 'entries' | 'incr',
  key: string | undefined,
  options: HttpApiOptions,
): Promise<unknown> {
  const method = req.method ?? 'GET'
  if (key === undefined) {
    if (route === 'incr') throw new HttpError(404, 'NOT_FOUND', 'POST /v1/rooms/:room/incr/:key')
    allow(method, ['GET'])
    const { prefix, after, limit } = pageOptions(url)
    if (route === 'keys') {
      const keys = store.keys({ prefix, ...(after === undefined ? {} : { after }), limit: limit + 1 })
      return page('keys', keys, limit, (k) => k)
    }
    const entries = store.entries({ prefix, ...(after === undefined ? {} : { after }), limit: limit + 1 })
    return page(
      'entries',
      entries.map(([k, v]) => [k, toJson(v)] as const),
      limit,
      ([k]) => k,
    )
  }
  if (route === 'incr') {
    allow(method, ['POST'])
    const body = await readBody(req, options.maxBodyBytes, false)
    const by = body?.by ?? 1
    checkWrite(access, key)
    const value = store.incr(key, by as number) // reason: incr checks that `by` is a safe integer (NOT_AN_INTEGER)
    await stored(store)
    return { value }
  }
  if (route !== 'keys') throw new HttpError(404, 'NOT_FOUND', 'no such route')
  allow(method, ['GET', 'PUT', 'DELETE'])
  if (method === 'GET') {
    const found = describeKey(store, key)
    if (found === undefined) throw new HttpError(404, 'NOT_FOUND', `no key ${JSON.stringify(key)}`)
    return found
  }
  if (method === 'DELETE') {
    checkWrite(access, key)
    const deleted = store.delete(key)
    await stored(store)
    return { deleted }
  }
  const body = await readBody(req, options.maxBodyBytes, true)
  if (body === undefined || !('value' in body)) throw new TideKVError('INVALID_VALUE', 'The body must be a JSON object { value, ttl? }')
  const ttl = body.ttl
  if (ttl !== undefined && ttl !== null && typeof ttl !== 'number') throw new TideKVError('INVALID_VALUE', 'ttl must be a number of milliseconds')
  checkWrite(access, key)
  store.set(key, body.value as Value, typeof ttl === 'number' ? { ttl } : undefined) // reason: set checks the value (INVALID_VALUE, VALUE_TOO_LARGE)
  await stored(store)
  return undefined
}

/** How long a write waits for storage before the answer is 503 (the write is kept, and stored when storage recovers). */
const STORED_TIMEOUT_MS = 30_000

async function stored(store: RoomStore): Promise<void> {
  if ((await within(store.whenStored(), STORED_TIMEOUT_MS)) === LATE) {
    throw new HttpError(503, 'STORAGE_FAILED', 'the relay did not store the write in time; it may still be stored')
  }
}

/** A key's type, value and ttl as JSON (plain values as stored, data structures as JSON of their contents), or undefined when it holds nothing. */
export function describeKey(store: RoomStore, key: string): { key: string; type: string; value: unknown; ttl: number | null } | undefined {
  const type = store.type(key)
  if (type === 'none') return undefined
  const ttl = store.ttl(key)
  let value: unknown
  switch (type) {
    case 'hash':
      value = toJson(store.hash(key).getAll())
      break
    case 'list':
      value = toJson(store.list(key).range(0, -1))
      break
    case 'set':
      value = store.collection(key).members()
      break
    case 'zset':
      value = store.sortedSet(key).range(0, -1, { withScores: true })
      break
    case 'stream':
      value = store
        .stream(key)
        .range()
        .map((e) => ({ id: e.id, fields: toJson(e.fields) }))
      break
    default:
      value = toJson(store.get(key))
  }
  return { key, type, value, ttl: ttl < 0 ? null : ttl }
}

/** Bytes have no JSON form: they come back as `{ "$base64": "..." }`. */
function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $base64: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return value.map(toJson)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]))
  return value
}

function page<T>(field: 'keys' | 'entries', items: readonly T[], limit: number, keyOf: (item: T) => string): Record<string, unknown> {
  if (items.length <= limit) return { [field]: items }
  const shown = items.slice(0, limit)
  return { [field]: shown, next: keyOf(shown[shown.length - 1]!) }
}

function pageOptions(url: URL): { prefix: string; after: string | undefined; limit: number } {
  const raw = url.searchParams.get('limit')
  const limit = raw === null ? DEFAULT_PAGE : Number(raw)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new TideKVError('INVALID_VALUE', `limit must be an integer from 1 to ${MAX_PAGE}`)
  return { prefix: url.searchParams.get('prefix') ?? '', after: url.searchParams.get('after') ?? undefined, limit }
}

/** `/v1/rooms/:room/(keys|entries)` or `/v1/rooms/:room/(keys|incr)/:key`, segments URL-decoded. */
function parsePath(pathname: string): [string, 'keys' | 'entries' | 'incr', string | undefined] {
  const parts = pathname.split('/')
  // ['', 'v1', 'rooms', room, route, key?]
  if (parts.length < 5 || parts.length > 6 || parts[1] !== 'v1' || parts[2] !== 'rooms') throw new HttpError(404, 'NOT_FOUND', 'no such route')
  const route = parts[4]
  if (route !== 'keys' && route !== 'entries' && route !== 'incr') throw new HttpError(404, 'NOT_FOUND', 'no such route')
  if (route === 'entries' && parts.length === 6) throw new HttpError(404, 'NOT_FOUND', 'no such route')
  try {
    const room = decodeURIComponent(parts[3]!)
    const key = parts.length === 6 ? decodeURIComponent(parts[5]!) : undefined
    if (room === '') throw new HttpError(400, 'INVALID_KEY', 'empty room name')
    if (key === '') throw new HttpError(400, 'INVALID_KEY', 'empty key')
    return [room, route, key]
  } catch (e) {
    if (e instanceof HttpError) throw e
    throw new HttpError(400, 'INVALID_KEY', 'a room or key that is not valid URL encoding')
  }
}

async function authorize(req: IncomingMessage, room: string, options: HttpApiOptions): Promise<Access> {
  const header = req.headers.authorization
  if (header === undefined && options.anonymous !== 'none') return { mode: options.anonymous, rules: null }
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : null
  if (options.secret === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'tokens are not accepted here')
  const check = await checkToken(token, room, options.secret)
  if (check.ok) return { mode: check.mode, rules: check.rules }
  if (check.reason === 'wrong-room') throw new HttpError(403, 'WRONG_ROOM', 'the token is for another room')
  throw new HttpError(401, 'UNAUTHORIZED', `token ${check.reason}`)
}

function checkWrite(access: Access, key: string): void {
  if (access.mode !== 'write') throw new TideKVError('READ_ONLY', 'a read-only token cannot write')
  if (access.rules !== null && !access.rules.allows(key)) throw new TideKVError('FORBIDDEN', `${JSON.stringify(key)} is outside the token's write rules`)
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${methods.join(', ')}`)
}

/** The JSON object body (undefined when empty and not `required`), at most `max` bytes. */
async function readBody(req: IncomingMessage, max: number, required: boolean): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    // reason: an IncomingMessage without setEncoding yields Buffers
    const bytes = chunk as Buffer
    size += bytes.length
    if (size > max) throw new HttpError(413, 'VALUE_TOO_LARGE', `the body is over ${max} bytes`)
    chunks.push(bytes)
  }
  if (size === 0) {
    if (required) throw new TideKVError('INVALID_VALUE', 'a JSON body is required')
    return undefined
  }
  let body: unknown
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new TideKVError('INVALID_VALUE', 'the body is not valid JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TideKVError('INVALID_VALUE', 'the body must be a JSON object')
  return body as Record<string, unknown> // reason: checked to be a plain object just above
}

/** CORS: off unless `allowedOrigins` is set; a preflight is answered here. Returns false when the request was answered. */
function cors(req: IncomingMessage, res: ServerResponse, options: HttpApiOptions): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (options.allowedOrigins === undefined || !options.allowedOrigins.includes(origin)) {
    if (req.method === 'OPTIONS' || options.allowedOrigins !== undefined) throw new HttpError(403, 'ORIGIN_NOT_ALLOWED', `origin ${origin} is not allowed`)
    return true // no CORS headers: a browser keeps the answer from the page
  }
  res.setHeader('Access-Control-Allow-Origin', origin)
  res.setHeader('Vary', 'Origin')
  if (req.method !== 'OPTIONS') return true
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, PUT, DELETE, POST',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
  })
  res.end()
  return false
}

function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e
  if (e instanceof TideKVError) {
    const status = e.code === 'READ_ONLY' || e.code === 'FORBIDDEN' ? 403 : e.code === 'CLOSED' ? 503 : e.code === 'STORAGE_FAILED' ? 500 : 400
    return new HttpError(status, e.code, e.message)
  }
  return new HttpError(500, 'INTERNAL_ERROR', 'internal error')
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const text = status === 204 ? '' : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(text)
}
