/**
 * How the differential test (test/redis/differential.test.ts) compares a
 * TideKV result with a Redis reply: both are put into one shape, the one
 * Redis replies in over RESP2 where that is unambiguous (strings, integers,
 * nil as null, flat arrays), and a sorted or parsed one where Redis's is not
 * (unordered members, scores as strings). Errors become TideKV's error codes.
 */
import { TideKVError, type Value } from '@tidekv/client'

/** What one side answered: a reply in the shared shape, or an error code. */
export type Outcome = { ok: unknown } | { error: string }

/** Runs a TideKV call: its result through `shape`, or the code of the TideKVError it threw. */
export function outcomeOf<T>(run: () => T, shape: (result: T) => unknown): Outcome {
  try {
    return { ok: shape(run()) }
  } catch (error) {
    if (error instanceof TideKVError) return { error: error.code }
    return { error: `threw ${error instanceof Error ? `${error.name}: ${error.message}` : fmt(error)}` }
  }
}

/** Redis error messages, by the TideKV error code that means the same; any other is a mismatch. */
const REDIS_ERRORS: readonly (readonly [RegExp, string])[] = [
  [/^WRONGTYPE /, 'WRONG_TYPE'],
  [/^ERR (hash )?value is not an integer/, 'NOT_AN_INTEGER'],
  [/^ERR (index out of range|no such key)/, 'OUT_OF_RANGE'],
]

/** A Redis reply through `shape`, or the TideKV code of the Redis error. */
export async function redisOutcome(reply: Promise<unknown>, shape: (reply: unknown) => unknown): Promise<Outcome> {
  try {
    return { ok: shape(await reply) }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const known = REDIS_ERRORS.find(([pattern]) => pattern.test(message))
    return { error: known === undefined ? `Redis error: ${message}` : known[1] }
  }
}

/** A TideKV value as Redis would return it (a string); undefined is nil. */
export function str(v: Value | undefined): string | null {
  if (v === undefined) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number') return String(v)
  return `<not a string: ${fmt(v)}>`
}

/** A TideKV boolean as Redis's integer reply (HSET, SISMEMBER, DEL, ...). */
export const int = (b: boolean): number => (b ? 1 : 0)
/** A TideKV "nothing" as Redis's nil. */
export const nil = <T>(v: T | undefined): T | null => (v === undefined ? null : v)
/** Redis's members in code-unit order, which TideKV's sorted lists use. */
export const sorted = (reply: unknown): unknown => (Array.isArray(reply) ? [...(reply as string[])].sort() : reply) // reason: the lists sorted here are members or keys: bulk strings
/** A Redis score (a string, printed with up to 17 digits) as the number it stands for. */
export const score = (reply: unknown): unknown => (typeof reply === 'string' ? Number.parseFloat(reply) : reply)
export const asIs = (reply: unknown): unknown => reply

/** A flat Redis reply [a1, b1, a2, b2, ...] as pairs. */
function pairs(reply: unknown): unknown {
  if (!Array.isArray(reply)) return reply
  const out: [unknown, unknown][] = []
  for (let i = 0; i < reply.length; i += 2) out.push([reply[i], reply[i + 1]])
  return out
}

/** A field record as [field, string value] pairs sorted by field, the shape both sides compare in. */
export function entries(record: Record<string, Value>): [string, string | null][] {
  return Object.entries(record)
    .map(([f, v]): [string, string | null] => [f, str(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}
/** HGETALL's (or a stream entry's) flat [field, value, ...] as `entries` has them. */
export function redisEntries(reply: unknown): unknown {
  const list = pairs(reply)
  if (!Array.isArray(list)) return list
  return (list as [string, string][]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // reason: a flat field/value reply is bulk strings
}

/** ZRANGE ... WITHSCORES: Redis's flat [member, "score", ...] as [member, score] pairs, TideKV's shape. */
export function scoredPairs(reply: unknown): unknown {
  const list = pairs(reply)
  if (!Array.isArray(list)) return list
  return (list as [string, string][]).map(([member, text]) => [member, Number.parseFloat(text)]) // reason: WITHSCORES replies bulk strings, the score as text
}

/** Stream entries: TideKV's `{ id, fields }[]` or Redis's `[id, [f, v, ...]][]`, as `[id, entries][]`. */
export function tideStream(list: readonly { id: string; fields: Record<string, Value> }[]): unknown {
  return list.map(({ id, fields }) => [id, entries(fields)])
}

/** XRANGE's `[id, [f, v, ...]][]` as `tideStream` has them. */
export function redisStream(reply: unknown): unknown {
  if (!Array.isArray(reply)) return reply
  return (reply as [string, unknown][]).map(([id, flat]) => [id, redisEntries(flat)]) // reason: XRANGE replies one [id, fields] array per entry
}

/** XRANGE/XREVRANGE ... COUNT 0 on an existing stream: Redis 7.0 answers a nil array, not an empty one (a quirk of its reply code); TideKV no entries. */
export function countZero(reply: unknown): unknown {
  return reply === null ? [] : redisStream(reply)
}

/** A value for failure messages: like JSON, but -0, Infinity and undefined stay visible. */
export function fmt(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`
  if (v !== null && typeof v === 'object')
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${fmt(x)}`)
      .join(', ')} }`
  return JSON.stringify(v)
}
