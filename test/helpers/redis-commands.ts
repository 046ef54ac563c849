/**
 * The random commands of the differential test (test/redis/differential.test.ts,
 * whose header has the table of what maps to what): each is one Redis command
 * line and the TideKV call that must answer the same, with how each side's
 * reply is put into one shape to compare (the shapes: redis-replies.ts).
 * What they draw keys, members and values from: redis-domains.ts.
 */
import type { Store } from '@tidekv/client'
import type { Random } from '@tidekv/core/testing'
import { type Context, FIELDS, index, INT_STEPS, KEYS, key, SCORE_STEPS, some, streamBound, tideValue, VALUES } from './redis-domains.js'
import { asIs, countZero, entries, fmt, int, nil, type Outcome, outcomeOf, redisEntries, redisStream, score, scoredPairs, sorted, str, tideStream } from './redis-replies.js'

export interface Step {
  /** The TideKV call, as text for failure messages. */
  readonly call: string
  /** The keys it reads or writes (their whole state is compared after it). */
  readonly keys: readonly string[]
  /** Runs the call on TideKV; its result in the shared shape, or its error's code. */
  tide: (store: Store) => Outcome
  /** The Redis command line; XADD's depends on TideKV's outcome (the id it chose). */
  redis: (tide: Outcome) => readonly string[]
  /** Redis's reply in the shared shape. */
  shape: (reply: unknown) => unknown
}

/** A score as a Redis argument. */
function num(n: number): string {
  return n === Infinity ? '+inf' : n === -Infinity ? '-inf' : String(n)
}

interface Spec<T> {
  call: string
  keys: readonly string[]
  run: (store: Store) => T
  /** TideKV's result in the shared shape; default as is. */
  tide?: (result: T) => unknown
  redis: readonly (string | number)[] | ((tide: Outcome) => readonly string[])
  /** Redis's reply in the shared shape; default as is. */
  shape?: (reply: unknown) => unknown
}

function step<T>(spec: Spec<T>): Step {
  const { redis } = spec
  return {
    call: spec.call,
    keys: spec.keys,
    tide: (store) => outcomeOf(() => spec.run(store), spec.tide ?? asIs),
    redis: typeof redis === 'function' ? redis : () => redis.map(String),
    shape: spec.shape ?? asIs,
  }
}

/** `handle("key").method(args)` as text. */
function call(handle: string, key: string, method: string, ...args: unknown[]): string {
  return `${handle}(${fmt(key)}).${method}(${args.map(fmt).join(', ')})`
}
function getter(handle: string, key: string, property: string): string {
  return `${handle}(${fmt(key)}).${property}`
}

// ---- the reads that compare a key's whole state --------------------------------

export function typeStep(k: string): Step {
  return step({ call: `type(${fmt(k)})`, keys: [k], run: (s) => s.type(k), tide: (t) => (t === 'counter' ? 'string' : t), redis: ['TYPE', k] })
}

/** Reads all of `k` as a Redis key of `type` holds it (after TYPE agreed). */
export function stateStep(k: string, type: string): Step | undefined {
  switch (type) {
    case 'string':
      return step({ call: `get(${fmt(k)})`, keys: [k], run: (s) => s.get(k), tide: str, redis: ['GET', k] })
    case 'hash':
      return step({ call: call('hash', k, 'getAll'), keys: [k], run: (s) => s.hash(k).getAll(), tide: entries, redis: ['HGETALL', k], shape: redisEntries })
    case 'list':
      return step({ call: call('list', k, 'range', 0, -1), keys: [k], run: (s) => s.list(k).range(0, -1).map(str), redis: ['LRANGE', k, 0, -1] })
    case 'set':
      return step({ call: call('collection', k, 'members'), keys: [k], run: (s) => s.collection(k).members(), redis: ['SMEMBERS', k], shape: sorted })
    case 'zset':
      return zrange(k, 0, -1, false, true)
    case 'stream':
      return step({ call: call('stream', k, 'range'), keys: [k], run: (s) => s.stream(k).range(), tide: tideStream, redis: ['XRANGE', k, '-', '+'], shape: redisStream })
    default:
      return undefined
  }
}

function zrange(k: string, start: number, stop: number, rev: boolean, withScores: boolean): Step {
  const options = { ...(rev ? { rev } : {}), ...(withScores ? { withScores } : {}) }
  return step({
    call: call('sortedSet', k, 'range', start, stop, ...(rev || withScores ? [options] : [])),
    keys: [k],
    run: (s) => s.sortedSet(k).range(start, stop, options),
    redis: ['ZRANGE', k, start, stop, ...(rev ? ['REV'] : []), ...(withScores ? ['WITHSCORES'] : [])],
    shape: withScores ? scoredPairs : asIs,
  })
}

// ---- the commands -----------------------------------------------------------------

type Generator = (r: Random, ctx: Context) => Step

export const COMMANDS = {
  // The keyspace and plain values.
  TYPE: (r) => typeStep(r.pick(KEYS)),
  DEL: (r) => {
    const k = r.pick(KEYS)
    return step({ call: `delete(${fmt(k)})`, keys: [k], run: (s) => s.delete(k), tide: int, redis: ['DEL', k] })
  },
  EXISTS: (r) => {
    const k = r.pick(KEYS)
    return step({ call: `has(${fmt(k)})`, keys: [k], run: (s) => s.has(k), tide: int, redis: ['EXISTS', k] })
  },
  SET: (r, ctx) => {
    const [k, v] = [key(r, 'string', ctx.domain), r.pick(VALUES)]
    return step({ call: `set(${fmt(k)}, ${fmt(tideValue(v))})`, keys: [k], run: (s) => s.set(k, tideValue(v)), tide: () => 'OK', redis: ['SET', k, v] })
  },
  GET: (r, ctx) => {
    const k = key(r, 'string', ctx.domain)
    return step({ call: `get(${fmt(k)})`, keys: [k], run: (s) => s.get(k), tide: str, redis: ['GET', k] })
  },
  INCR: (r, ctx) => {
    const k = key(r, 'string', ctx.domain)
    return step({ call: `incr(${fmt(k)})`, keys: [k], run: (s) => s.incr(k), redis: ['INCR', k] })
  },
  INCRBY: (r, ctx) => {
    const [k, by] = [key(r, 'string', ctx.domain), r.pick(INT_STEPS)]
    return step({ call: `incr(${fmt(k)}, ${by})`, keys: [k], run: (s) => s.incr(k, by), redis: ['INCRBY', k, by] })
  },

  // Hashes.
  HSET: (r, ctx) => {
    const k = key(r, 'hash', ctx.domain)
    const record = Object.fromEntries(r.sample(FIELDS, r.int(1, 3)).map((f) => [f, r.pick(VALUES)]))
    const flat = Object.entries(record).flat()
    const tide = Object.fromEntries(Object.entries(record).map(([f, v]) => [f, tideValue(v)]))
    const [only] = Object.entries(tide)
    if (flat.length === 2 && only !== undefined) {
      return step({ call: call('hash', k, 'set', ...only), keys: [k], run: (s) => s.hash(k).set(...only), tide: int, redis: ['HSET', k, ...flat] })
    }
    return step({ call: call('hash', k, 'setMany', tide), keys: [k], run: (s) => s.hash(k).setMany(tide), redis: ['HSET', k, ...flat] })
  },
  HGET: (r, ctx) => {
    const [k, f] = [key(r, 'hash', ctx.domain), r.pick(FIELDS)]
    return step({ call: call('hash', k, 'get', f), keys: [k], run: (s) => s.hash(k).get(f), tide: str, redis: ['HGET', k, f] })
  },
  HGETALL: (r, ctx) => stateStep(key(r, 'hash', ctx.domain), 'hash')!,
  HDEL: (r, ctx) => {
    const [k, fs] = [key(r, 'hash', ctx.domain), some(r, FIELDS, 3)]
    return step({ call: call('hash', k, 'delete', ...fs), keys: [k], run: (s) => s.hash(k).delete(...fs), redis: ['HDEL', k, ...fs] })
  },
  HEXISTS: (r, ctx) => {
    const [k, f] = [key(r, 'hash', ctx.domain), r.pick(FIELDS)]
    return step({ call: call('hash', k, 'has', f), keys: [k], run: (s) => s.hash(k).has(f), tide: int, redis: ['HEXISTS', k, f] })
  },
  HINCRBY: (r, ctx) => {
    const [k, f, by] = [key(r, 'hash', ctx.domain), r.pick(FIELDS), r.pick(INT_STEPS)]
    return step({ call: call('hash', k, 'incr', f, by), keys: [k], run: (s) => s.hash(k).incr(f, by), redis: ['HINCRBY', k, f, by] })
  },
  HKEYS: (r, ctx) => {
    const k = key(r, 'hash', ctx.domain)
    return step({ call: call('hash', k, 'keys'), keys: [k], run: (s) => s.hash(k).keys(), redis: ['HKEYS', k], shape: sorted })
  },
  HLEN: (r, ctx) => {
    const k = key(r, 'hash', ctx.domain)
    return step({ call: getter('hash', k, 'size'), keys: [k], run: (s) => s.hash(k).size, redis: ['HLEN', k] })
  },

  // Lists.
  LPUSH: (r, ctx) => {
    const [k, vs] = [key(r, 'list', ctx.domain), some(r, ctx.domain.listValues, ctx.domain.batch)]
    return step({ call: call('list', k, 'pushLeft', ...vs), keys: [k], run: (s) => s.list(k).pushLeft(...vs), redis: ['LPUSH', k, ...vs] })
  },
  RPUSH: (r, ctx) => {
    const [k, vs] = [key(r, 'list', ctx.domain), some(r, ctx.domain.listValues, ctx.domain.batch)]
    return step({ call: call('list', k, 'pushRight', ...vs), keys: [k], run: (s) => s.list(k).pushRight(...vs), redis: ['RPUSH', k, ...vs] })
  },
  LPOP: (r, ctx) => {
    const k = key(r, 'list', ctx.domain)
    return step({ call: call('list', k, 'popLeft'), keys: [k], run: (s) => s.list(k).popLeft(), tide: str, redis: ['LPOP', k] })
  },
  RPOP: (r, ctx) => {
    const k = key(r, 'list', ctx.domain)
    return step({ call: call('list', k, 'popRight'), keys: [k], run: (s) => s.list(k).popRight(), tide: str, redis: ['RPOP', k] })
  },
  LRANGE: (r, ctx) => {
    const [k, start, stop] = [key(r, 'list', ctx.domain), index(r, ctx.domain), index(r, ctx.domain)]
    return step({ call: call('list', k, 'range', start, stop), keys: [k], run: (s) => s.list(k).range(start, stop).map(str), redis: ['LRANGE', k, start, stop] })
  },
  LINDEX: (r, ctx) => {
    const [k, i] = [key(r, 'list', ctx.domain), index(r, ctx.domain)]
    return step({ call: call('list', k, 'at', i), keys: [k], run: (s) => s.list(k).at(i), tide: str, redis: ['LINDEX', k, i] })
  },
  LSET: (r, ctx) => {
    const [k, i, v] = [key(r, 'list', ctx.domain), index(r, ctx.domain), r.pick(ctx.domain.listValues)]
    return step({ call: call('list', k, 'set', i, v), keys: [k], run: (s) => s.list(k).set(i, v), tide: () => 'OK', redis: ['LSET', k, i, v] })
  },
  LREM: (r, ctx) => {
    const [k, count, v] = [key(r, 'list', ctx.domain), r.int(-2, 2), r.pick(ctx.domain.listValues)]
    return step({ call: call('list', k, 'remove', v, count), keys: [k], run: (s) => s.list(k).remove(v, count), redis: ['LREM', k, count, v] })
  },
  LTRIM: (r, ctx) => {
    const [k, start, stop] = [key(r, 'list', ctx.domain), index(r, ctx.domain), index(r, ctx.domain)]
    return step({ call: call('list', k, 'trim', start, stop), keys: [k], run: (s) => s.list(k).trim(start, stop), tide: () => 'OK', redis: ['LTRIM', k, start, stop] })
  },
  LLEN: (r, ctx) => {
    const k = key(r, 'list', ctx.domain)
    return step({ call: getter('list', k, 'length'), keys: [k], run: (s) => s.list(k).length, redis: ['LLEN', k] })
  },

  // Sets.
  SADD: (r, ctx) => {
    const [k, ms] = [key(r, 'set', ctx.domain), some(r, ctx.domain.members, ctx.domain.batch)]
    return step({ call: call('collection', k, 'add', ...ms), keys: [k], run: (s) => s.collection(k).add(...ms), redis: ['SADD', k, ...ms] })
  },
  SREM: (r, ctx) => {
    const [k, ms] = [key(r, 'set', ctx.domain), some(r, ctx.domain.members, ctx.domain.batch)]
    return step({ call: call('collection', k, 'remove', ...ms), keys: [k], run: (s) => s.collection(k).remove(...ms), redis: ['SREM', k, ...ms] })
  },
  SISMEMBER: (r, ctx) => {
    const [k, m] = [key(r, 'set', ctx.domain), r.pick(ctx.domain.members)]
    return step({ call: call('collection', k, 'has', m), keys: [k], run: (s) => s.collection(k).has(m), tide: int, redis: ['SISMEMBER', k, m] })
  },
  SMEMBERS: (r, ctx) => stateStep(key(r, 'set', ctx.domain), 'set')!,
  SCARD: (r, ctx) => {
    const k = key(r, 'set', ctx.domain)
    return step({ call: getter('collection', k, 'size'), keys: [k], run: (s) => s.collection(k).size, redis: ['SCARD', k] })
  },
  SUNION: (r, ctx) => setAlgebra(r, ctx, 'union', 'SUNION'),
  SINTER: (r, ctx) => setAlgebra(r, ctx, 'intersect', 'SINTER'),
  SDIFF: (r, ctx) => setAlgebra(r, ctx, 'diff', 'SDIFF'),

  // Sorted sets.
  ZADD: (r, ctx) => {
    const [k, m, sc] = [key(r, 'zset', ctx.domain), r.pick(ctx.domain.members), r.pick(ctx.domain.scores)]
    return step({ call: call('sortedSet', k, 'add', m, sc), keys: [k], run: (s) => s.sortedSet(k).add(m, sc), tide: int, redis: ['ZADD', k, num(sc), m] })
  },
  ZINCRBY: (r, ctx) => {
    const [k, m, by] = [key(r, 'zset', ctx.domain), r.pick(ctx.domain.members), r.pick(SCORE_STEPS)]
    return step({ call: call('sortedSet', k, 'incr', m, by), keys: [k], run: (s) => s.sortedSet(k).incr(m, by), redis: ['ZINCRBY', k, num(by), m], shape: score })
  },
  ZREM: (r, ctx) => {
    const [k, ms] = [key(r, 'zset', ctx.domain), some(r, ctx.domain.members, ctx.domain.batch)]
    return step({ call: call('sortedSet', k, 'remove', ...ms), keys: [k], run: (s) => s.sortedSet(k).remove(...ms), redis: ['ZREM', k, ...ms] })
  },
  ZSCORE: (r, ctx) => {
    const [k, m] = [key(r, 'zset', ctx.domain), r.pick(ctx.domain.members)]
    return step({ call: call('sortedSet', k, 'score', m), keys: [k], run: (s) => s.sortedSet(k).score(m), tide: nil, redis: ['ZSCORE', k, m], shape: score })
  },
  ZRANK: (r, ctx) => {
    const [k, m, rev] = [key(r, 'zset', ctx.domain), r.pick(ctx.domain.members), r.chance(0.5)]
    return step({
      call: call('sortedSet', k, 'rank', m, ...(rev ? [{ rev }] : [])),
      keys: [k],
      run: (s) => s.sortedSet(k).rank(m, { rev }),
      tide: nil,
      redis: [rev ? 'ZREVRANK' : 'ZRANK', k, m],
    })
  },
  ZRANGE: (r, ctx) => zrange(key(r, 'zset', ctx.domain), index(r, ctx.domain), index(r, ctx.domain), r.chance(0.4), r.chance(0.5)),
  ZRANGEBYSCORE: (r, ctx) => {
    const k = key(r, 'zset', ctx.domain)
    const bounds: [number, number] = [r.pick([-Infinity, ...ctx.domain.scores]), r.pick([...ctx.domain.scores, Infinity])]
    // Mostly min <= max; sometimes the other way round (an empty range).
    const [min, max] = r.chance(0.85) ? [Math.min(...bounds), Math.max(...bounds)] : bounds
    const page = r.chance(0.35) ? { offset: r.int(0, ctx.domain.page), limit: r.int(0, ctx.domain.page) } : undefined
    const options = {
      ...(r.chance(0.4) ? { rev: true } : {}),
      ...(r.chance(0.5) ? { withScores: true } : {}),
      ...(r.chance(0.3) ? { minExclusive: true } : {}),
      ...(r.chance(0.3) ? { maxExclusive: true } : {}),
      ...page,
    }
    const lo = `${options.minExclusive === true ? '(' : ''}${num(min)}`
    const hi = `${options.maxExclusive === true ? '(' : ''}${num(max)}`
    return step({
      call: call('sortedSet', k, 'rangeByScore', min, max, options),
      keys: [k],
      run: (s) => s.sortedSet(k).rangeByScore(min, max, options),
      redis: [
        ...(options.rev === true ? ['ZREVRANGEBYSCORE', k, hi, lo] : ['ZRANGEBYSCORE', k, lo, hi]),
        ...(options.withScores === true ? ['WITHSCORES'] : []),
        ...(page === undefined ? [] : ['LIMIT', page.offset, page.limit]),
      ],
      shape: options.withScores === true ? scoredPairs : asIs,
    })
  },
  ZCARD: (r, ctx) => {
    const k = key(r, 'zset', ctx.domain)
    return step({ call: getter('sortedSet', k, 'size'), keys: [k], run: (s) => s.sortedSet(k).size, redis: ['ZCARD', k] })
  },

  // Streams.
  XADD: (r, ctx) => {
    const k = key(r, 'stream', ctx.domain)
    const fields = Object.fromEntries(r.sample(FIELDS, r.int(1, 2)).map((f) => [f, r.pick(ctx.domain.members)]))
    return step({
      call: call('stream', k, 'add', fields),
      keys: [k],
      run: (s) => {
        const id = s.stream(k).add(fields)
        ctx.ids.push(id)
        return id
      },
      // Redis gets the id TideKV chose (any id above the stream's last is accepted);
      // when TideKV refused, '*' lets Redis refuse (or not) on its own.
      redis: (tide) => ['XADD', k, 'ok' in tide && typeof tide.ok === 'string' ? tide.ok : '*', ...Object.entries(fields).flat()],
    })
  },
  XRANGE: (r, ctx) => {
    const [k, start, end] = [key(r, 'stream', ctx.domain), streamBound(r, ctx, '-'), streamBound(r, ctx, '+')]
    const count = r.chance(0.4) ? r.int(0, ctx.domain.page) : undefined
    return step({
      call: call('stream', k, 'range', start, end, ...(count === undefined ? [] : [{ count }])),
      keys: [k],
      run: (s) => s.stream(k).range(start, end, count === undefined ? {} : { count }),
      tide: tideStream,
      redis: ['XRANGE', k, start, end, ...(count === undefined ? [] : ['COUNT', count])],
      shape: count === 0 ? countZero : redisStream,
    })
  },
  XREVRANGE: (r, ctx) => {
    const [k, end, start] = [key(r, 'stream', ctx.domain), streamBound(r, ctx, '+'), streamBound(r, ctx, '-')]
    const count = r.chance(0.4) ? r.int(0, ctx.domain.page) : undefined
    return step({
      call: call('stream', k, 'revRange', end, start, ...(count === undefined ? [] : [{ count }])),
      keys: [k],
      run: (s) => s.stream(k).revRange(end, start, count === undefined ? {} : { count }),
      tide: tideStream,
      redis: ['XREVRANGE', k, end, start, ...(count === undefined ? [] : ['COUNT', count])],
      shape: count === 0 ? countZero : redisStream,
    })
  },
  XLEN: (r, ctx) => {
    const k = key(r, 'stream', ctx.domain)
    return step({ call: getter('stream', k, 'length'), keys: [k], run: (s) => s.stream(k).length, redis: ['XLEN', k] })
  },
  XTRIM: (r, ctx) => {
    const [k, maxLen] = [key(r, 'stream', ctx.domain), r.int(0, ctx.domain.page)]
    return step({ call: call('stream', k, 'trim', { maxLen }), keys: [k], run: (s) => s.stream(k).trim({ maxLen }), redis: ['XTRIM', k, 'MAXLEN', maxLen] })
  },
} satisfies Record<string, Generator>

export type CommandName = keyof typeof COMMANDS

function setAlgebra(r: Random, ctx: Context, method: 'union' | 'intersect' | 'diff', command: string): Step {
  const k = key(r, 'set', ctx.domain)
  const others = Array.from({ length: r.int(0, 2) }, () => key(r, 'set', ctx.domain))
  return step({
    call: call('collection', k, method, ...others),
    keys: [k, ...others],
    run: (s) => s.collection(k)[method](...others),
    redis: [command, k, ...others],
    shape: sorted,
  })
}
