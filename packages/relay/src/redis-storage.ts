/**
 * RelayStorage on Redis, through ioredis: the storage half of relays that
 * scale out (issue 11). Every key of a room carries one hash tag, so a room
 * lives in one slot of a Redis Cluster and its scripts touch one node:
 *
 *   <prefix>:{r<name>}:seq    string   the room's last seq (INCR)
 *   <prefix>:{r<name>}:log    stream   one entry per update, id `<seq>-1`, field `u`
 *   <prefix>:{r<name>}:snap   hash     seq → snapshot: the compacted state up to that seq
 *                                     (one, unless a compaction up to an earlier seq
 *                                     came after one up to a later seq)
 *   <prefix>:rooms            set      every room's `r<name>`, for `rooms()`; one key for all
 *                                     rooms, so on a Cluster one master: it is written when a
 *                                     room's seq is 1, or once per storage when it first
 *                                     appends to a room, not on every append
 *
 * The relay stores a room's client-id owners as the room `<room>` U+0000
 * `owners` (client-owners.ts): those go under the room's own tag, as
 * `<prefix>:{r<name>}:owners:seq` etc., so they share its slot, and are not
 * listed as a room.
 *
 * `<name>` is the room name's UTF-8 in base64url: room names are untrusted,
 * and base64url has no `{` or `}`, so no name can break the tag or reach
 * another room's keys; the `r` keeps the tag non-empty. Appending and
 * compacting are Lua scripts, so each is atomic: a compaction never drops an
 * update appended after `upToSeq`, by this relay or another.
 *
 * Durability is Redis's: a reply means the command is in the AOF, on disk
 * only with `appendfsync always` (the setting the relay's docs require for
 * "an acknowledged write survives a crash").
 */
import type { Redis } from 'ioredis'
import type { RelayStorage, StoredRoom } from './storage.js'
import { checkRoom, checkUpToSeq } from './storage-checks.js'

/** Options of {@link redisRelayStorage}. */
export interface RedisRelayStorageOptions {
  /** A connected ioredis client (a `Redis` or a `Cluster`); the storage does not close it. */
  client: RedisClient
  /** Prefix of every key. Default `tidekv`. */
  prefix?: string
  /**
   * Replicas that must have an update before `append` resolves (`WAIT`): an
   * acknowledged write then survives the primary's loss too. Default 0.
   */
  waitReplicas?: number
  /** How long `WAIT` may take, ms; fewer replicas by then fails the append (not acknowledged). Default 1,000. */
  waitTimeoutMs?: number
}

/** What the storage uses of an ioredis `Redis` or `Cluster`. */
export type RedisClient = Pick<Redis, 'eval' | 'get' | 'sadd' | 'srem' | 'smembers' | 'del' | 'callBuffer' | 'call'>

// KEYS: seq, log. ARGV: update. Returns the new seq.
const APPEND = `
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], seq .. '-1', 'u', ARGV[1])
return seq`

// KEYS: seq, log, snap. ARGV: the first stream id to read ('-' for all).
// Returns { last seq or false, { seq, snapshot, ... }, { [id, { 'u', update }], ... } }.
const LOAD = `
return { redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[3]), redis.call('XRANGE', KEYS[2], ARGV[1], '+') }`

// KEYS: seq, log, snap. ARGV: snapshot, upToSeq. Returns the last seq; compacts only when upToSeq is not past it.
// An emptied stream is deleted (an empty one still takes ~400 B); the next XADD makes it again.
const COMPACT = `
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local up = tonumber(ARGV[2])
if up > last then return last end
for _, seq in ipairs(redis.call('HKEYS', KEYS[3])) do
  if tonumber(seq) <= up then redis.call('HDEL', KEYS[3], seq) end
end
redis.call('HSET', KEYS[3], up, ARGV[1])
redis.call('XTRIM', KEYS[2], 'MINID', (up + 1) .. '-0')
if redis.call('XLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
return last`

/**
 * A RelayStorage in Redis (one node or a Cluster), on a client you connect
 * and close.
 *
 * @throws (as rejections) the client's errors when Redis fails; Error after
 * `close()`, for a room name with a lone surrogate, and for a compaction past
 * the room's last seq.
 * @example
 * import { Redis } from 'ioredis'
 * import { redisRelayStorage } from '@tidekv/relay'
 * const client = new Redis('redis://127.0.0.1:6379', { lazyConnect: true }) // connects on first use; run Redis with appendonly yes, appendfsync always
 * const storage = redisRelayStorage({ client })
 */
export function redisRelayStorage(options: RedisRelayStorageOptions): RelayStorage {
  return new RedisRelayStorage(options.client, options.prefix ?? 'tidekv', options.waitReplicas ?? 0, options.waitTimeoutMs ?? 1000)
}

/** How the relay names a room's client-id owners record (client-owners.ts `ownersKey`). */
const OWNERS_SUFFIX = '\u0000owners'

/** The hash tag's content for a room: `r` + base64url of its UTF-8 (no braces, never empty). */
export function roomTag(room: string): string {
  return `r${Buffer.from(room, 'utf8').toString('base64url')}`
}

/** Rooms a storage remembers having listed in `<prefix>:rooms`; past this many it starts over. */
const LISTED_CACHE = 100_000

class RedisRelayStorage implements RelayStorage {
  #closed = false
  /** Rooms this storage has listed (or seen listed) since it opened. */
  readonly #listed = new Set<string>()

  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly waitReplicas: number,
    private readonly waitTimeoutMs: number,
  ) {}

  load(room: string): Promise<StoredRoom> {
    return this.loadSince(room, 0)
  }

  async loadSince(room: string, afterSeq: number): Promise<StoredRoom> {
    const [seq, log, snap] = this.#keys(room)
    const from = afterSeq >= 1 ? `${Math.floor(afterSeq) + 1}-0` : '-'
    // reason: LOAD's reply shape, as the script above builds it (bulk strings as Buffers with callBuffer)
    const [last, snapshots, entries] = (await this.client.callBuffer('EVAL', [LOAD, 3, seq, log, snap, from])) as [Buffer | null, Buffer[], [Buffer, Buffer[]][]]
    // Snapshots and updates in seq order: a snapshot at seq n stands where update n was.
    const rows: [number, Buffer][] = entries.map(([id, fields]) => [Number.parseInt(id.toString(), 10), fields[1]!])
    for (let i = 0; i < snapshots.length; i += 2) {
      const at = Number(snapshots[i]!.toString())
      if (at > afterSeq) rows.push([at, snapshots[i + 1]!])
    }
    rows.sort((a, b) => a[0] - b[0])
    return { updates: rows.map(([, data]) => new Uint8Array(data)), lastSeq: last === null ? 0 : Number(last.toString()) }
  }

  async append(room: string, update: Uint8Array): Promise<number> {
    const [seq, log] = this.#keys(room)
    const appended = Number(await this.client.eval(APPEND, 2, seq, log, Buffer.from(update)))
    // Seq 1: the room is new, or new again after deleteRoom (perhaps by another relay).
    if (!room.endsWith(OWNERS_SUFFIX) && (appended === 1 || !this.#listed.has(room))) {
      // The update is stored: a failure here (on a Cluster, the list's master may be down) must not fail the append.
      // The room stays out of #listed, so the next append lists it.
      const listed = await this.client.sadd(this.#roomsKey(), roomTag(room)).then(
        () => true,
        () => false,
      )
      if (listed) {
        if (this.#listed.size >= LISTED_CACHE) this.#listed.clear()
        this.#listed.add(room)
      }
    }
    if (this.waitReplicas > 0) {
      const replicas = Number(await this.client.call('WAIT', this.waitReplicas, this.waitTimeoutMs))
      if (replicas < this.waitReplicas) {
        throw new Error(`Only ${replicas} of ${this.waitReplicas} Redis replicas had update ${appended} of room ${JSON.stringify(room)} within ${this.waitTimeoutMs} ms`)
      }
    }
    return appended
  }

  async compact(room: string, snapshot: Uint8Array, upToSeq: number): Promise<void> {
    const [seq, log, snap] = this.#keys(room)
    if (!Number.isSafeInteger(upToSeq) || upToSeq < 1) checkUpToSeq(room, upToSeq, Number((await this.client.get(seq)) ?? 0))
    const last = Number(await this.client.eval(COMPACT, 3, seq, log, snap, Buffer.from(snapshot), String(upToSeq)))
    checkUpToSeq(room, upToSeq, last)
  }

  async deleteRoom(room: string): Promise<void> {
    this.#listed.delete(room)
    await Promise.all([this.client.del(...this.#keys(room)), this.client.srem(this.#roomsKey(), roomTag(room))])
  }

  async rooms(): Promise<string[]> {
    this.#checkOpen()
    const tags = await this.client.smembers(this.#roomsKey())
    return tags.map((tag) => Buffer.from(tag.slice(1), 'base64url').toString('utf8'))
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  /** The room's keys: seq, log, snap. */
  #keys(room: string): [string, string, string] {
    this.#checkOpen()
    checkRoom(room)
    const owners = room.endsWith(OWNERS_SUFFIX)
    const tag = roomTag(owners ? room.slice(0, -OWNERS_SUFFIX.length) : room)
    const base = `${this.prefix}:{${tag}}${owners ? ':owners' : ''}`
    return [`${base}:seq`, `${base}:log`, `${base}:snap`]
  }

  #roomsKey(): string {
    return `${this.prefix}:rooms`
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('The Redis relay storage is closed')
  }
}
