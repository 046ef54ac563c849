/**
 * What the differential test's random commands draw from (test/redis/differential.test.ts;
 * the commands: redis-commands.ts): the keys and which command family works
 * on which, the fields, members, values and scores, and how big things get.
 *
 * Small on purpose (`SMALL`): seven keys, each family working mostly on its
 * own and sometimes on its neighbour's or any, and a handful of fields,
 * members and values, so that collisions, WRONGTYPE and the deletion of
 * emptied structures happen often. `LARGE` grows lists, sorted sets and
 * streams past the chunk size of their ordered index.
 */
import type { Value } from '@tidekv/client'
import type { Random } from '@tidekv/core/testing'

/** What a sequence draws from, and what it learned on the way. */
export interface Context {
  readonly domain: Domain
  /** Ids TideKV's streams returned so far, for XRANGE bounds. */
  readonly ids: string[]
}

/** The sizes a sequence works at. */
export interface Domain {
  /** Set and sorted set members. */
  readonly members: readonly string[]
  /** List values: few, so a list holds repeats for LREM's count to matter. */
  readonly listValues: readonly string[]
  readonly scores: readonly number[]
  /** The most values one push, SADD, SREM, ZREM or HDEL carries. */
  readonly batch: number
  /** List indices and ranks are drawn from [-span, span]. */
  readonly span: number
  /** LIMIT offset and count, COUNT and MAXLEN are drawn from [0, page]. */
  readonly page: number
  /** How often a command leaves its family's home keys. */
  readonly stray: number
}

export const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const

export type Family = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream'
/** The keys a family mostly works on; sets get two, so that SUNION & co. meet other sets. */
const HOME: Record<Family, readonly string[]> = {
  string: ['a'],
  hash: ['b'],
  list: ['c'],
  set: ['d', 'g'],
  zset: ['e'],
  stream: ['f'],
}
/** The family whose home a family's commands stray into most (a WRONGTYPE, or moving in once it is empty). */
const NEIGHBOUR: Record<Family, Family> = { string: 'hash', hash: 'list', list: 'set', set: 'zset', zset: 'stream', stream: 'string' }
/** Hash and stream field names: not integer-like, as JS objects would reorder those. */
export const FIELDS = ['f', 'g', 'h', 'name'] as const
/** Plain and hash values; the integer-like ones are numbers in TideKV (see `tideValue`). */
export const VALUES = ['0', '1', '7', '-2', 'x', 'yy', ''] as const
/** Integers and dyadic fractions: every sum of them is exact in doubles, as in Redis. */
const SCORES = [-2, -1, -0.5, 0, 0.25, 1, 1.5, 3] as const
export const SCORE_STEPS = [-2, -0.5, 0.25, 1, 2] as const
export const INT_STEPS = [-3, -1, 0, 1, 2, 5] as const

/** Structures of a few items: every edge (empty, one, WRONGTYPE) comes up often. */
export const SMALL: Domain = {
  members: ['m', 'n', 'o', 'p', '7'],
  listValues: ['m', 'n', '7'],
  scores: SCORES,
  batch: 3,
  span: 4,
  page: 3,
  stray: 0.35,
}

/**
 * Lists, sorted sets and streams of thousands of items: their ordered index
 * (ranked-index.ts) splits a chunk past 1,024 items and folds one under 256,
 * which small structures never reach. Many tied scores, so member order counts.
 */
export const LARGE: Domain = {
  members: Array.from({ length: 4000 }, (_, i) => `m${String(i).padStart(4, '0')}`),
  listValues: ['m', 'n', '7'],
  scores: [...Array.from({ length: 41 }, (_, i) => i - 20), ...SCORES],
  batch: 300,
  span: 3000,
  page: 1500,
  stray: 0.05,
}

/**
 * TideKV's form of a plain or hash value: Redis stores strings and INCR/HINCRBY
 * read "7" as 7, while TideKV's incr counts only numbers, so integer-like
 * strings go in as numbers.
 */
export function tideValue(v: string): Value {
  return /^-?\d+$/.test(v) ? Number(v) : v
}

/** Mostly a home key of the family, else (`stray`) its neighbour's or any key. */
export function key(r: Random, family: Family, { stray }: Domain): string {
  const x = r.float()
  return r.pick(x >= stray ? HOME[family] : x >= stray / 3 ? HOME[NEIGHBOUR[family]] : KEYS)
}
/** 1..max picks, repeats allowed (HDEL f f counts f once). */
export function some<T>(r: Random, items: readonly T[], max: number): T[] {
  return Array.from({ length: r.int(1, max) }, () => r.pick(items))
}
export const index = (r: Random, { span }: Domain): number => r.int(-span, span)

/** A stream id bound: '-', '+', a seen id, its ms part, or either with '(' (exclusive). */
export function streamBound(r: Random, ctx: Context, open: '-' | '+'): string {
  if (ctx.ids.length === 0 || r.chance(0.3)) return open
  const id = r.pick(ctx.ids)
  const base = r.chance(0.25) ? id.split('-')[0]! : id
  return r.chance(0.3) ? `(${base}` : base
}
