/**
 * The options of `createRelay`: their types, their defaults, and the checks
 * that refuse a bad one with a `TideKVError` (INVALID_VALUE) naming it,
 * before the relay opens anything. Config files and JavaScript callers get
 * past the types, and a misspelt limit would otherwise be ignored without a
 * word, a negative one turn the relay off.
 */
import { checkWebhooks, type WebhookOptions } from './webhooks.js'
import { TideKVError } from '@tidekv/core'
import type { AccessMode } from './auth.js'
import { DEFAULT_LIMITS, type RelayLimits } from './limits.js'
import type { RelayBus } from './bus.js'
import type { RelayStorage } from './storage.js'
import { DEFAULT_UPDATE_BUDGET, type UpdateBudget } from './update-budget.js'

export interface RelayAuth {
  /** The secret tokens are signed with (see `createToken`). */
  secret?: string | Uint8Array
  /** Access without a token: 'none' (default when a secret is set), 'read' or 'write'. */
  anonymous?: 'none' | AccessMode
}

export interface RelayOptions {
  /** Port to listen on; 0 picks a free one (read it from `relay.port`). Default 8787. */
  port?: number
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string
  /** Room storage. Default: SQLite in `dataDir`. */
  storage?: RelayStorage
  /** Folder of the default SQLite storage. Default `./.tidekv-data`. */
  dataDir?: string
  /**
   * The bus to other relays that share `storage` (and the secret): each
   * update this relay stores is announced to them, theirs to it. With a bus,
   * `storage` is required (a shared one: Redis) and must have `loadSince`;
   * the relay does not close such a storage (or the bus) when it closes.
   */
  bus?: RelayBus
  /**
   * Relays that share rooms through Redis (ioredis, loaded only then). The
   * relay then keeps rooms in Redis and talks to the other relays through it.
   * Not with `storage` or `bus`.
   * - one Redis: its URL (`redis://[user:pass@]host:port[/db]`, `rediss://`
   *   for TLS), or `{ url, waitReplicas, waitTimeoutMs }`: `waitReplicas`
   *   replicas must have each update before it is acknowledged (`WAIT`),
   *   within `waitTimeoutMs` (default 1,000; fewer: not acknowledged);
   * - a Redis Cluster: `{ cluster: ['host:port', ...] }`, any of its nodes
   *   (the client finds the rest); an entry may be a `redis://` or
   *   `rediss://` URL to give a user, password or TLS, which apply to every
   *   node. `waitReplicas` is refused there (see the relay's docs).
   */
  redis?: string | { url: string; waitReplicas?: number; waitTimeoutMs?: number } | { cluster: readonly string[] }
  /** Who may connect. Without a secret, `anonymous` must say what strangers may do. */
  auth: RelayAuth
  /** Limits; each defaults to `DEFAULT_LIMITS`. */
  limits?: Partial<RelayLimits>
  /** Decode budget for updates from clients. */
  updateBudget?: Partial<UpdateBudget>
  /** Allowed `Origin` headers for browser connections; unset: any origin (non-browser clients send none). */
  allowedOrigins?: readonly string[]
  /** A folder served over HTTP (the demo). */
  static?: string
  /**
   * Signed webhooks: a POST per room after changes (see the relay's docs,
   * "Webhooks"). Their outbox is a SQLite file in `dataDir`.
   */
  webhooks?: readonly WebhookOptions[]
  /** Background errors (storage failures); default: ignored after counting. */
  onError?: (error: unknown, room?: string) => void
}

/** The options, checked, with their defaults. */
export interface ResolvedRelayOptions {
  readonly port: number
  readonly host: string
  /** Given storage; without it, SQLite in `dataDir`. */
  readonly storage: RelayStorage | undefined
  readonly bus: RelayBus | undefined
  readonly redis: RedisSettings | undefined
  readonly dataDir: string
  readonly secret: string | Uint8Array | undefined
  readonly anonymous: 'none' | AccessMode
  readonly limits: Readonly<RelayLimits>
  readonly budget: Readonly<UpdateBudget>
  readonly allowedOrigins: readonly string[] | undefined
  readonly static: string | undefined
  readonly webhooks: readonly WebhookOptions[]
  readonly onError: (error: unknown, room?: string) => void
}

/** Where the relay's Redis is, checked: one server (`url`) or the nodes of a cluster. */
export type RedisSettings =
  | { readonly url: string; readonly waitReplicas: number; readonly waitTimeoutMs: number }
  | { readonly cluster: readonly RedisNode[]; readonly username?: string; readonly password?: string; readonly tls: boolean }

/** One cluster node to start from. */
export interface RedisNode {
  readonly host: string
  readonly port: number
}

/** Longest delay Node's timers take (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Each limit: the least it may be, and whether it must be an integer. */
const LIMIT_RULES: { readonly [K in keyof RelayLimits]: { readonly min: number; readonly integer: boolean; readonly max?: number } } = {
  maxMessageBytes: { min: 1, integer: true },
  maxConnections: { min: 1, integer: true },
  maxConnectionsPerRoom: { min: 1, integer: true },
  // A rate: fractions are fine (one message every two seconds is 0.5).
  messagesPerSecond: { min: Number.MIN_VALUE, integer: false },
  // The bucket must hold one message, or none is ever accepted.
  messageBurst: { min: 1, integer: false },
  maxBufferedBytes: { min: 0, integer: true },
  heartbeatMs: { min: 1, integer: true, max: MAX_TIMER_MS },
  idleRoomMs: { min: 0, integer: true, max: MAX_TIMER_MS },
  compactAfterUpdates: { min: 1, integer: true },
  maxHeapBytes: { min: 0, integer: true },
  maxBacklogBytes: { min: 0, integer: true },
}

const ANONYMOUS = ['none', 'read', 'write'] as const
const STORAGE_METHODS = ['load', 'append', 'compact', 'deleteRoom', 'rooms', 'close'] as const
const OPTION_NAMES: readonly (keyof RelayOptions)[] = [
  'port',
  'host',
  'storage',
  'dataDir',
  'bus',
  'redis',
  'auth',
  'limits',
  'updateBudget',
  'allowedOrigins',
  'static',
  'webhooks',
  'onError',
]

/**
 * Checks `options` and fills in the defaults.
 * @throws TideKVError INVALID_VALUE naming the first bad option
 */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const given = record(options, 'options')
  knownKeys(given, OPTION_NAMES, '')
  const port = given.port ?? 8787
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) fail('port', 'an integer from 0 to 65535 (0: a free one)', port)
  const host = given.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host.length === 0) fail('host', 'a non-empty string', host)
  const dataDir = given.dataDir ?? '.tidekv-data'
  if (typeof dataDir !== 'string' || dataDir.length === 0) fail('dataDir', 'a non-empty string', dataDir)
  const storage = given.storage
  if (storage !== undefined && !isRelayStorage(storage)) {
    const methods = record(storage, 'storage')
    const missing = STORAGE_METHODS.find((method) => typeof methods[method] !== 'function')
    fail('storage', `a RelayStorage (${missing} is missing)`, storage)
  }
  const givenRedis = given.redis
  let redis: ResolvedRelayOptions['redis']
  if (givenRedis !== undefined) {
    redis = resolveRedis(givenRedis)
    if (storage !== undefined || given.bus !== undefined)
      throw new TideKVError('INVALID_VALUE', 'createRelay: redis keeps the rooms and joins the relays itself; give it without storage and bus')
  }
  const bus = given.bus
  if (bus !== undefined) {
    if (!isRelayBus(bus)) fail('bus', 'a RelayBus (publish, subscribe, onGap, close)', bus)
    if (storage === undefined) throw new TideKVError('INVALID_VALUE', 'createRelay: a bus needs the storage the relays share (option storage)')
    if (typeof Reflect.get(storage, 'loadSince') !== 'function') fail('storage', 'a RelayStorage with loadSince (a bus needs it to catch up)', storage)
  }

  const auth = record(given.auth, 'auth')
  knownKeys(auth, ['secret', 'anonymous'], 'auth.')
  const { secret, anonymous = 'none' } = auth
  if (secret !== undefined && !((typeof secret === 'string' || secret instanceof Uint8Array) && secret.length > 0)) {
    fail('auth.secret', 'a non-empty string or Uint8Array', secret)
  }
  if (!isAnonymousMode(anonymous)) fail('auth.anonymous', `one of ${ANONYMOUS.join(', ')}`, anonymous)
  if (secret === undefined && anonymous === 'none') {
    throw new TideKVError('INVALID_VALUE', 'createRelay: give auth.secret, or auth.anonymous to let anyone in')
  }

  const limits: RelayLimits = { ...DEFAULT_LIMITS }
  const givenLimits = record(given.limits ?? {}, 'limits')
  knownKeys(givenLimits, Object.keys(LIMIT_RULES), 'limits.')
  for (const [name, rule] of Object.entries(LIMIT_RULES)) {
    const value = givenLimits[name]
    if (value === undefined) continue
    const ok = typeof value === 'number' && (rule.integer ? Number.isSafeInteger(value) : Number.isFinite(value)) && value >= rule.min && value <= (rule.max ?? Infinity)
    if (!ok) fail(`limits.${name}`, describeRule(rule), value)
    limits[name as keyof RelayLimits] = value // reason: Object.entries types the keys of LIMIT_RULES as string
  }

  const budget: UpdateBudget = { ...DEFAULT_UPDATE_BUDGET }
  const givenBudget = record(given.updateBudget ?? {}, 'updateBudget')
  knownKeys(givenBudget, Object.keys(DEFAULT_UPDATE_BUDGET), 'updateBudget.')
  for (const [name, value] of Object.entries(givenBudget)) {
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`updateBudget.${name}`, 'an integer ≥ 0', value)
    budget[name as keyof UpdateBudget] = value // reason: knownKeys let only the budget's names through
  }

  const origins = given.allowedOrigins
  if (origins !== undefined && !isStringArray(origins)) fail('allowedOrigins', 'an array of strings', origins)
  const staticDir = given.static
  if (staticDir !== undefined && (typeof staticDir !== 'string' || staticDir.length === 0)) fail('static', 'a non-empty string', staticDir)
  const onError = given.onError ?? (() => undefined)
  if (!isErrorHandler(onError)) fail('onError', 'a function', onError)

  return {
    port,
    host,
    storage,
    bus,
    redis,
    dataDir,
    secret,
    anonymous,
    limits,
    budget,
    allowedOrigins: origins,
    static: staticDir,
    webhooks: given.webhooks === undefined ? [] : checkWebhooks(given.webhooks),
    onError,
  }
}

function isAnonymousMode(value: unknown): value is (typeof ANONYMOUS)[number] {
  return ANONYMOUS.some((mode) => mode === value)
}

/** An object with every method of RelayStorage (what each does is the adapter's promise, checked by its conformance suite). */
function isRelayBus(value: unknown): value is RelayBus {
  if (typeof value !== 'object' || value === null) return false
  return ['publish', 'subscribe', 'onGap', 'close'].every((method) => typeof Reflect.get(value, method) === 'function')
}

function isRelayStorage(value: unknown): value is RelayStorage {
  if (typeof value !== 'object' || value === null) return false
  return STORAGE_METHODS.every((method) => typeof Reflect.get(value, method) === 'function')
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** A function: what it does with the error and room it is given is the caller's business. */
function isErrorHandler(value: unknown): value is (error: unknown, room?: string) => void {
  return typeof value === 'function'
}

/** `value` as a record of unknown values, or INVALID_VALUE naming `name`. */
function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, 'an object', value)
  return value as Record<string, unknown> // reason: checked a non-null, non-array object above
}

/** Refuses a key not in `known` (a misspelt option would otherwise be ignored). */
function knownKeys(value: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TideKVError('INVALID_VALUE', `createRelay: unknown option ${prefix}${key} (known: ${known.map((k) => prefix + k).join(', ')})`)
    }
  }
}

function describeRule(rule: { readonly min: number; readonly integer: boolean; readonly max?: number }): string {
  const kind = rule.integer ? 'an integer' : 'a number'
  const min = rule.min === Number.MIN_VALUE ? '> 0' : `≥ ${rule.min}`
  return rule.max === undefined ? `${kind} ${min}` : `${kind} from ${rule.min} to ${rule.max}`
}

function fail(option: string, expected: string, got: unknown): never {
  throw new TideKVError('INVALID_VALUE', `createRelay: option ${option} must be ${expected}, got ${show(got)}`)
}

/** A short, safe rendering of a bad value for an error message (never a secret's bytes). */
function show(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function resolveRedis(given: unknown): RedisSettings {
  const r = typeof given === 'string' ? { url: given } : record(given, 'redis')
  if ('cluster' in r && r.cluster !== undefined) {
    if (r.waitReplicas !== undefined) {
      // WAIT counts the replicas of the connection that wrote; a cluster client spreads writes over one connection per master.
      throw new TideKVError('INVALID_VALUE', 'createRelay: redis.waitReplicas works with one Redis (redis.url), not with redis.cluster')
    }
    knownKeys(r, ['cluster'], 'redis.')
    return resolveCluster(r.cluster)
  }
  if (typeof given !== 'string') knownKeys(r, ['url', 'waitReplicas', 'waitTimeoutMs'], 'redis.')
  const { url, waitReplicas = 0, waitTimeoutMs = 1000 } = r
  if (typeof url !== 'string' || !/^rediss?:\/\/./.test(url)) fail(typeof given === 'string' ? 'redis' : 'redis.url', 'a redis:// or rediss:// URL', url)
  if (typeof waitReplicas !== 'number' || !Number.isSafeInteger(waitReplicas) || waitReplicas < 0) fail('redis.waitReplicas', 'an integer ≥ 0', waitReplicas)
  if (typeof waitTimeoutMs !== 'number' || !Number.isSafeInteger(waitTimeoutMs) || waitTimeoutMs < 1) fail('redis.waitTimeoutMs', 'an integer ≥ 1', waitTimeoutMs)
  return { url, waitReplicas, waitTimeoutMs }
}

/** `host:port` or a redis(s):// URL per node; credentials and TLS must agree across the entries that give them. */
function resolveCluster(given: unknown): RedisSettings {
  if (!isStringArray(given) || given.length === 0) fail('redis.cluster', 'a non-empty array of host:port strings', given)
  const nodes: RedisNode[] = []
  let username: string | undefined
  let password: string | undefined
  let tls: boolean | undefined
  for (const entry of given) {
    const url = parseUrl(/^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`)
    const port = Number(url?.port)
    if (url === null || url.hostname === '' || !Number.isInteger(port) || port < 1 || url.pathname.length > 1 || url.search !== '') {
      fail('redis.cluster', 'host:port or redis://[user:pass@]host:port entries', redactUrl(entry))
    }
    nodes.push({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port })
    const entryTls = url.protocol === 'rediss:'
    if (/^rediss?:\/\//.test(entry)) {
      const disagree = (given: string, known: string | undefined) => given !== '' && known !== undefined && known !== decodeURIComponent(given)
      if ((tls !== undefined && tls !== entryTls) || disagree(url.username, username) || disagree(url.password, password)) {
        throw new TideKVError('INVALID_VALUE', 'createRelay: the redis.cluster URLs disagree on TLS, user or password; give them once, the same for every node')
      }
      tls = entryTls
      if (url.username !== '') username = decodeURIComponent(url.username)
      if (url.password !== '') password = decodeURIComponent(url.password)
    }
  }
  return { cluster: nodes, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), tls: tls ?? false }
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text)
  } catch {
    return null // reason: the caller names the entry in its error
  }
}

/** A Redis URL without its password, for messages (never echo what may hold a password). */
export function redactUrl(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@')
}
