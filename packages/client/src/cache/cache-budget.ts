/**
 * A cache store's budget (Redis's `maxmemory` and `maxmemory-policy`): the
 * bytes of its live keys, what was read and when, and which keys to evict.
 *
 * What counts: the encoded entries of every live key as the document holds
 * them (key, member, value, stamp and header; every member of a data
 * structure). Not counted: history (deleted entries the document still
 * names), IndexedDB's own overhead, and the in-memory keyspace.
 *
 * The candidates are every key, or for volatile-* the keys with a TTL.
 * LRU is exact: the candidates sit in a list from least to most recently
 * used (a use moves a key to the end in O(1)), and the first goes. The other
 * policies are approximate, as Redis's are: up to `SAMPLES` draws are made at
 * random from the candidates, and the worst drawn goes — the least frequently
 * used (LFU: Redis's logarithmic counter, lowered by one for every
 * `LFU_DECAY_MS` unused), the soonest to expire (volatile-ttl), or the first
 * drawn (random). With no more candidates than `SAMPLES`, every one is looked
 * at, so the choice is exact.
 */
import { TideKVError } from '@tidekv/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const POLICIES = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'volatile-ttl', 'allkeys-random', 'volatile-random'] as const
export type CachePolicy = (typeof POLICIES)[number]

export interface CacheOptions {
  /** The most bytes of live entries the store keeps (see packages/client/README.md, "Cache mode"). */
  maxBytes: number
  /** What goes when a write passes `maxBytes` (Redis's maxmemory-policy). Default 'allkeys-lru'. */
  policy?: CachePolicy
}

export interface CacheStats {
  /** Bytes of live entries now. */
  bytes: number
  /** Live keys now (expired ones until they are swept). */
  keys: number
  /** Reads (`get`, `getOrSet`) that found a value. */
  hits: number
  /** Reads that found none. */
  misses: number
  /** Keys evicted to stay within `maxBytes`. */
  evictions: number
}

/** Keys drawn per eviction (Redis draws 5 into a pool of 16; here 16 at once). */
export const SAMPLES = 16
const LFU_INIT = 5
const LFU_LOG_FACTOR = 10
const LFU_DECAY_MS = 60_000
/** Keys whose use a saved record keeps (the most recently used). */
export const MAX_USAGE_KEYS = 100_000

interface KeyInfo {
  readonly key: string
  /** Where it sits in `#all` (and `#volatile`, or -1). */
  at: number
  vat: number
  bytes: number
  expiresAt: number
  /** The access clock's value at its last use (LFU's tie-break, and the saved record's order). */
  used: number
  /** Its neighbours in the LRU list (LRU policies, candidates only). */
  older: KeyInfo | null
  newer: KeyInfo | null
  listed: boolean
  /** Its LFU counter, and when it was last decayed. */
  freq: number
  freqAt: number
}

/** Checks `cache` options; throws TideKVError `INVALID_VALUE` naming the bad one. */
export function checkCacheOptions(cache: unknown): Required<CacheOptions> {
  if (typeof cache !== 'object' || cache === null) throw new TideKVError('INVALID_VALUE', 'cache must be { maxBytes, policy? }')
  const { maxBytes, policy = 'allkeys-lru' } = cache as Partial<Record<keyof CacheOptions, unknown>> // reason: each field is checked below
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes <= 0)
    throw new TideKVError('INVALID_VALUE', `cache.maxBytes must be a positive integer, got ${String(maxBytes)}`)
  if (!POLICIES.some((p) => p === policy)) throw new TideKVError('INVALID_VALUE', `cache.policy must be one of ${POLICIES.join(', ')}, got ${String(policy)}`)
  return { maxBytes, policy: policy as CachePolicy } // reason: checked to be one of POLICIES just above
}

/** How a policy chooses its victim (worked out once: it is asked on every eviction). */
type Choice = 'none' | 'lru' | 'lfu' | 'ttl' | 'random'

export class CacheBudget {
  readonly #choice: Choice
  readonly #volatileOnly: boolean
  /** LRU policies: the candidates from least to most recently used. */
  #oldest: KeyInfo | null = null
  #newest: KeyInfo | null = null
  readonly #info = new Map<string, KeyInfo>()
  /** Every key, and the keys with a TTL: dense arrays, for drawing at random in O(1). */
  readonly #all: KeyInfo[] = []
  readonly #volatile: KeyInfo[] = []
  /** The draws of one eviction, reused. */
  readonly #sample: KeyInfo[] = []
  #bytes = 0
  #volatileBytes = 0
  #clock = 0
  /** Whether the use of keys changed since the last `exportUsage`. */
  usageChanged = false
  hits = 0
  misses = 0
  evictions = 0

  constructor(
    readonly maxBytes: number,
    readonly policy: CachePolicy,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.#volatileOnly = policy.startsWith('volatile-')
    this.#choice = policy === 'noeviction' ? 'none' : policy.endsWith('-lru') ? 'lru' : policy.endsWith('-lfu') ? 'lfu' : policy.endsWith('-ttl') ? 'ttl' : 'random'
  }

  get bytes(): number {
    return this.#bytes
  }

  get keys(): number {
    return this.#all.length
  }

  /** Whether the store holds more than its budget. */
  get over(): boolean {
    return this.#bytes > this.maxBytes
  }

  /**
   * Refuses (OUT_OF_MEMORY) a write that would take the store past its budget
   * when the policy cannot make room: always for noeviction; for volatile-*
   * when evicting every key with a TTL would not be enough; for any policy
   * when the write alone is larger than the budget.
   */
  admit(key: string, added: number, replaced: number | 'key'): void {
    const old = this.#info.get(key)
    const freed = replaced === 'key' ? (old?.bytes ?? 0) : replaced
    const after = this.#bytes - freed + added
    if (after <= this.maxBytes) return
    // What eviction could free without touching this key.
    const evictable = this.#choice === 'none' ? 0 : this.#volatileOnly ? this.#volatileBytes - (old !== undefined && old.vat >= 0 ? old.bytes : 0) : this.#bytes - (old?.bytes ?? 0)
    if (after - evictable > this.maxBytes || added > this.maxBytes) {
      throw new TideKVError(
        'OUT_OF_MEMORY',
        `This write of ${added} bytes to "${key}" would take the cache to ${after} bytes, past maxBytes ${this.maxBytes}, and policy ${this.policy} cannot make room`,
      )
    }
  }

  /** A key's entries changed (any origin): its bytes now (0: gone) and its expiry. */
  changed(key: string, bytes: number, expiresAt: number): void {
    let info = this.#info.get(key)
    if (bytes === 0) {
      if (info !== undefined) this.#forget(key, info)
      return
    }
    if (info === undefined) {
      info = { key, at: this.#all.length, vat: -1, bytes: 0, expiresAt: 0, used: 0, freq: LFU_INIT, freqAt: this.now(), older: null, newer: null, listed: false }
      this.#all.push(info)
      this.#info.set(key, info)
    }
    this.#bytes += bytes - info.bytes
    if (info.vat >= 0) this.#volatileBytes += bytes - info.bytes
    info.bytes = bytes
    if (expiresAt > 0 && info.vat < 0) {
      info.vat = this.#volatile.length
      this.#volatile.push(info)
      this.#volatileBytes += bytes
    } else if (expiresAt === 0 && info.vat >= 0) {
      this.#volatileBytes -= bytes
      removeAt(this.#volatile, info.vat, 'vat')
      info.vat = -1
      if (this.#volatileOnly && info.listed) this.#unlist(info)
    }
    info.expiresAt = expiresAt
    this.#use(info) // a write is a use, as in Redis
  }

  /** Every key left at once. */
  cleared(): void {
    this.#info.clear()
    this.#all.length = 0
    this.#volatile.length = 0
    this.#bytes = 0
    this.#volatileBytes = 0
    this.#oldest = this.#newest = null
  }

  /** A read or write of `key`: recency, and frequency (Redis's logarithmic counter). */
  touch(key: string): void {
    const info = this.#info.get(key)
    if (info === undefined) return
    this.#use(info)
    if (this.#choice !== 'lfu') return
    this.#decay(info)
    if (info.freq < 255) {
      const p = 1 / ((info.freq - LFU_INIT > 0 ? info.freq - LFU_INIT : 0) * LFU_LOG_FACTOR + 1)
      if (this.random() < p) info.freq++
    }
  }

  /** Marks a use: the access clock, and for LRU the end of the list (candidates only). */
  #use(info: KeyInfo): void {
    info.used = ++this.#clock
    this.usageChanged = true
    if (this.#choice !== 'lru' || (this.#volatileOnly && info.vat < 0) || this.#newest === info) return
    if (info.listed) this.#unlist(info)
    info.older = this.#newest
    info.newer = null
    if (this.#newest === null) this.#oldest = info
    else this.#newest.newer = info
    this.#newest = info
    info.listed = true
  }

  #unlist(info: KeyInfo): void {
    if (info.older === null) this.#oldest = info.newer
    else info.older.newer = info.newer
    if (info.newer === null) this.#newest = info.older
    else info.newer.older = info.older
    info.older = info.newer = null
    info.listed = false
  }

  /**
   * The key to evict next, never `spare` (the key just written), or undefined
   * when the policy has none (noeviction, or no key with a TTL).
   */
  victim(spare?: string): string | undefined {
    const choice = this.#choice
    if (choice === 'none') return undefined
    if (choice === 'lru') {
      const oldest = this.#oldest
      return oldest?.key === spare ? oldest?.newer?.key : oldest?.key
    }
    const pool = this.#volatileOnly ? this.#volatile : this.#all
    if (pool.length === 0 || (pool.length === 1 && pool[0]!.key === spare)) return undefined
    const sample = draw(pool, SAMPLES, this.random, this.#sample)
    let best: string | undefined
    let bestScore = Infinity
    for (const info of sample) {
      if (info.key === spare) continue
      if (choice === 'random') return info.key
      let score: number
      if (choice === 'lfu') {
        this.#decay(info)
        score = info.freq * 2 ** 32 + info.used // equal counts: the least recently used
      } else score = info.expiresAt
      if (score < bestScore) {
        bestScore = score
        best = info.key
      }
    }
    return best
  }

  /**
   * What is kept of the keys' use across a reload: the keys from least to
   * most recently used (at most MAX_USAGE_KEYS, the most recent), each with
   * its LFU counter.
   */
  exportUsage(): Uint8Array {
    const infos = [...this.#all].sort((a, b) => a.used - b.used).slice(-MAX_USAGE_KEYS) // every 30 s at most: a sort is fine
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, infos.length)
    for (const info of infos) {
      this.#decay(info)
      encoding.writeVarString(enc, info.key)
      encoding.writeUint8(enc, info.freq)
    }
    this.usageChanged = false
    return encoding.toUint8Array(enc)
  }

  /**
   * Takes a saved record of use on: its keys become the most recently used,
   * in its order, with its counters; keys it does not name count as the least
   * recently used. A damaged record changes nothing.
   */
  importUsage(usage: Uint8Array): void {
    const updates: [KeyInfo, number][] = []
    try {
      const dec = decoding.createDecoder(usage)
      const n = decoding.readVarUint(dec)
      if (n > MAX_USAGE_KEYS) return
      for (let i = 0; i < n; i++) {
        const key = decoding.readVarString(dec)
        const freq = decoding.readUint8(dec)
        const info = this.#info.get(key)
        if (info !== undefined) updates.push([info, freq])
      }
    } catch {
      return // reason: a damaged record (written by an older version, say): use starts afresh
    }
    const now = this.now()
    for (const [info, freq] of updates) {
      this.#use(info)
      info.freq = freq
      info.freqAt = now
    }
  }

  #decay(info: KeyInfo): void {
    const periods = Math.floor((this.now() - info.freqAt) / LFU_DECAY_MS)
    if (periods <= 0) return
    info.freq = Math.max(0, info.freq - periods)
    info.freqAt += periods * LFU_DECAY_MS
  }

  #forget(key: string, info: KeyInfo): void {
    this.#bytes -= info.bytes
    if (info.vat >= 0) {
      this.#volatileBytes -= info.bytes
      removeAt(this.#volatile, info.vat, 'vat')
    }
    removeAt(this.#all, info.at, 'at')
    if (info.listed) this.#unlist(info)
    this.#info.delete(key)
  }
}

/** Removes `list[i]` in O(1) by moving the last key there, and updates that key's position. */
function removeAt(list: KeyInfo[], i: number, field: 'at' | 'vat'): void {
  const last = list.pop()!
  if (i === list.length) return
  list[i] = last
  last[field] = i
}

/**
 * `n` draws from `pool` at random into `out` (all of the pool when it holds
 * no more than `n`): O(n) whatever `random` returns. A key drawn twice is
 * looked at twice, which changes nothing.
 */
function draw(pool: readonly KeyInfo[], n: number, random: () => number, out: KeyInfo[]): KeyInfo[] {
  out.length = 0
  if (pool.length <= n) {
    for (const info of pool) out.push(info)
    return out
  }
  for (let i = 0; i < n; i++) out.push(pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))]!)
  return out
}
