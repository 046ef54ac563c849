/**
 * Model test: one store (injected clock) against a plain `Map` implementing
 * the Redis-like semantics documented on `Store` in store.ts, over random
 * sequences of every public call. Each call's result, or the code of the
 * error it throws, must match the model's. Halfway and after each sequence a
 * second replica built only from `Y.encodeStateAsUpdate(store.doc)` must read
 * the same keyspace: the document is the truth, not the in-memory keyspace.
 *
 * Most sequences run on an in-memory store (`persist: false`); more run on a
 * store persisted in memory storage that restarts, so the model's semantics
 * are checked on a store reopened from its snapshot's keys, before its
 * document has loaded (a `LoadGate` holds the load back) and after.
 *
 * Below the property test: deterministic tests of incr results.
 *
 * Seeds: every failure names its seed; `TIDEKV_SEED=<n>` runs sequence seed n
 * first (in memory and persisted).
 */
import * as encoding from 'lib0/encoding'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { type MemoryDisk, memoryStorage, openStore, type ScanOptions, type SetOptions, type Store, type StoreOptions, TideKVError, type Value } from '@tidekv/client'
import { LoadGate } from '../helpers/load-gate.js'
import { baseSeed, illTyped, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'

const SEQUENCES = 300
/** More sequences on a persisted store that restarts, reopening from its snapshot's keys. */
const PERSISTED_SEQUENCES = 100
const OPS_PER_SEQUENCE = 100
const MAX_KEY_BYTES = 16
const MAX_VALUE_BYTES = 64
const T0 = 1_700_000_000_000
const MAX_SAFE = Number.MAX_SAFE_INTEGER

// Keys in a small domain so that ops collide; they include multi-byte keys whose
// UTF-16 order differs from code point order ('\u{1F600}' sorts before '\uFFFF').
const KEYS = ['a', 'b', 'c', 'ab', 'p:1', 'p:2', 'p:10', 'p:1:x', 'q', 'é', '\u{1F600}', '\uFFFF', 'éééééééé'] as const
// '' is refused everywhere; the others can be read (as missing) but never written.
const BAD_KEYS = ['', '\uD800', 'ééééééééé', 'long-key-xxxxxxxxxx'] as const
const PREFIXES = ['', 'p:', 'p:1', 'a', 'é', '\uD83D', 'zz'] as const
const AFTERS = [undefined, '', 'a', 'ab', 'b', 'p:', 'p:1', 'p:10', '\uD83D', '\uFFFF'] as const

// ---- the model ---------------------------------------------------------------

interface Cell {
  value: Value
  /** Epoch ms, 0 for none. */
  expiresAt: number
}

/** A value handed to the store, with what the model needs to know about it. */
interface GenValue {
  input: unknown
  /** False for inputs the store must refuse with INVALID_VALUE. */
  valid: boolean
}

function fail(code: TideKVError['code']): never {
  throw new TideKVError(code, 'model')
}

function encodedLength(value: unknown): number {
  const enc = encoding.createEncoder()
  // reason: writeAny's parameter is lib0's own JSON-like type; this measures whatever a test generated, as the store's encoder would
  encoding.writeAny(enc, value as never)
  return encoding.length(enc)
}

function isWellFormed(s: string): boolean {
  try {
    encodeURIComponent(s)
    return true
  } catch {
    return false // reason: encodeURIComponent throws exactly on lone surrogates
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Redis-like semantics, as documented in store.ts. */
class Model {
  readonly cells = new Map<string, Cell>()

  constructor(private readonly now: () => number) {}

  private readKey(key: unknown): asserts key is string {
    if (typeof key !== 'string' || key.length === 0) fail('INVALID_KEY')
  }

  private writeKey(key: unknown): asserts key is string {
    this.readKey(key)
    if (new TextEncoder().encode(key).length > MAX_KEY_BYTES || !isWellFormed(key)) fail('INVALID_KEY')
  }

  private checkValue(v: GenValue): Value {
    if (!v.valid) fail('INVALID_VALUE')
    if (encodedLength(v.input) > MAX_VALUE_BYTES) fail('VALUE_TOO_LARGE')
    return structuredClone(v.input) as Value // reason: checked above: the generator made a valid Value
  }

  private expiryOf(options: SetOptions | undefined): number {
    if (options === undefined) return 0
    const { ttl, expiresAt } = options
    if (ttl !== undefined && expiresAt !== undefined) fail('INVALID_VALUE')
    if (ttl !== undefined) {
      if (!(ttl > 0) || !Number.isFinite(ttl)) fail('INVALID_VALUE')
      return Math.ceil(this.now() + ttl)
    }
    if (expiresAt !== undefined) {
      if (!(expiresAt > 0) || !Number.isFinite(expiresAt)) fail('INVALID_VALUE')
      return Math.ceil(expiresAt)
    }
    return 0
  }

  /** The cell of a key that holds an unexpired value. */
  private live(key: string): Cell | undefined {
    const cell = this.cells.get(key)
    if (cell === undefined) return undefined
    if (cell.expiresAt !== 0 && cell.expiresAt <= this.now()) {
      this.cells.delete(key)
      return undefined
    }
    return cell
  }

  get(key: string): Value | undefined {
    this.readKey(key)
    return this.live(key)?.value
  }

  has(key: string): boolean {
    this.readKey(key)
    return this.live(key) !== undefined
  }

  getMany(keys: readonly string[]): (Value | undefined)[] {
    return keys.map((k) => this.get(k))
  }

  ttl(key: string): number {
    this.readKey(key)
    const cell = this.live(key)
    if (cell === undefined) return -2
    return cell.expiresAt === 0 ? -1 : cell.expiresAt - this.now()
  }

  entries(options: ScanOptions = {}): [string, Value][] {
    const { prefix = '', after, limit = Infinity } = options
    if (typeof prefix !== 'string' || (after !== undefined && typeof after !== 'string')) fail('INVALID_VALUE')
    if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 0)) fail('INVALID_VALUE')
    const keys = [...this.cells.keys()].filter((k) => this.live(k) !== undefined && k.startsWith(prefix) && (after === undefined || k > after)).sort(compareKeys)
    return keys.slice(0, limit).map((k) => [k, this.cells.get(k)!.value])
  }

  keys(options: ScanOptions = {}): string[] {
    return this.entries(options).map(([k]) => k)
  }

  get size(): number {
    return this.entries().length
  }

  set(key: string, v: GenValue, options?: SetOptions): void {
    this.writeKey(key)
    const expiresAt = this.expiryOf(options)
    this.cells.set(key, { value: this.checkValue(v), expiresAt })
  }

  setMany(pairs: readonly (readonly [string, GenValue])[], options?: SetOptions): void {
    const expiresAt = this.expiryOf(options)
    const checked: [string, Value][] = []
    for (const [key, v] of pairs) {
      this.writeKey(key)
      checked.push([key, this.checkValue(v)])
    }
    for (const [key, value] of checked) this.cells.set(key, { value, expiresAt })
  }

  delete(key: string): boolean {
    this.readKey(key)
    const existed = this.live(key) !== undefined
    this.cells.delete(key)
    return existed
  }

  deleteMany(keys: readonly string[]): number {
    for (const key of keys) this.readKey(key)
    let n = 0
    for (const key of keys) if (this.delete(key)) n++
    return n
  }

  clear(): void {
    this.cells.clear()
  }

  /** INCRBY: a missing key counts from 0, the TTL is kept, a non-integer changes nothing. */
  incr(key: string, by = 1): number {
    this.writeKey(key)
    if (!Number.isSafeInteger(by)) fail('NOT_AN_INTEGER')
    const cell = this.live(key)
    if (cell !== undefined && !(typeof cell.value === 'number' && Number.isSafeInteger(cell.value))) fail('NOT_AN_INTEGER')
    const result = ((cell?.value as number | undefined) ?? 0) + by // reason: checked above: a safe integer or no live value
    if (!Number.isSafeInteger(result)) fail('OUT_OF_RANGE')
    this.cells.set(key, { value: result, expiresAt: cell?.expiresAt ?? 0 })
    return result
  }

  decr(key: string, by = 1): number {
    if (!Number.isSafeInteger(by)) fail('NOT_AN_INTEGER')
    return this.incr(key, -by)
  }

  expire(key: string, ttl: number): boolean {
    this.readKey(key)
    if (typeof ttl !== 'number' || !Number.isFinite(ttl)) fail('INVALID_VALUE')
    const cell = this.live(key)
    if (cell === undefined) return false
    if (ttl <= 0) return this.delete(key)
    cell.expiresAt = Math.ceil(this.now() + ttl)
    return true
  }

  persist(key: string): boolean {
    this.readKey(key)
    const cell = this.live(key)
    if (cell === undefined || cell.expiresAt === 0) return false
    cell.expiresAt = 0
    return true
  }
}

// ---- generators --------------------------------------------------------------

function genKey(rng: Random): string {
  return rng.chance(0.06) ? rng.pick(BAD_KEYS) : rng.pick(KEYS)
}

function genValue(rng: Random): GenValue {
  const valid = (input: unknown): GenValue => ({ input, valid: true })
  const r = rng.float()
  if (r < 0.4) return valid(rng.pick([0, 1, -1, 2, 7, 42, -13, 1000]))
  if (r < 0.47) return valid(rng.pick([MAX_SAFE, -MAX_SAFE, 2 ** 52, -(2 ** 52)]))
  if (r < 0.53) return valid(rng.pick([1.5, -0.25, 2 ** 53, 1e300]))
  if (r < 0.65) return valid(rng.pick(['', 'x', 'hello', 'é😀', 'z'.repeat(62)]))
  if (r < 0.7) return valid(rng.pick([null, true, false]))
  if (r < 0.82) {
    const objects = [{ n: 1, s: 'a' }, { nested: { arr: [1, 2, { b: true }] } }, [1, 'two', null], {}, []]
    return valid(rng.pick(objects))
  }
  if (r < 0.9) return valid(rng.pick([new Uint8Array([1, 2, 3]), { bytes: new Uint8Array([9, 8]) }, new Uint8Array(0)]))
  if (r < 0.94) return valid(rng.pick(['z'.repeat(70), new Uint8Array(100)])) // VALUE_TOO_LARGE
  const invalid: unknown[] = [
    NaN,
    Infinity,
    undefined,
    { x: undefined },
    new Date(0),
    '\uD800',
    JSON.parse('{"__proto__":1}'),
    // reason: an array with a hole is one of the values the store must refuse
    // eslint-disable-next-line no-sparse-arrays
    [1, , 3],
    new Map(),
    [1, [2, { f: () => 1 }]],
  ]
  return { input: rng.pick(invalid), valid: false }
}

function genSetOptions(rng: Random, now: number): SetOptions | undefined {
  const r = rng.float()
  if (r < 0.5) return undefined
  if (r < 0.75) return { ttl: rng.pick([1, 2, 5, 10, 30, 0.5, 12.3, 1000]) }
  if (r < 0.92) return { expiresAt: now + rng.pick([-5, 0, 1, 2.5, 10, 25, 500]) }
  if (r < 0.94) return {}
  return rng.pick<SetOptions>([{ ttl: 0 }, { ttl: -5 }, { ttl: NaN }, { ttl: Infinity }, { ttl: 5, expiresAt: now + 5 }, { expiresAt: 0 }, { expiresAt: -1 }])
}

function genBy(rng: Random): number | undefined {
  const r = rng.float()
  if (r < 0.2) return undefined
  if (r < 0.85) return rng.pick([1, 2, -1, 5, -3, 0, 100, -0])
  if (r < 0.95) return rng.pick([MAX_SAFE, -MAX_SAFE, 2 ** 52, -(2 ** 52)])
  return rng.pick([1.5, NaN, 2 ** 53, Infinity])
}

function genScan(rng: Random): ScanOptions | undefined {
  if (rng.chance(0.15)) return undefined
  const options: ScanOptions = {}
  if (rng.chance(0.6)) options.prefix = rng.pick(PREFIXES)
  const after = rng.pick(AFTERS)
  if (after !== undefined && rng.chance(0.5)) options.after = after
  if (rng.chance(0.5)) options.limit = rng.pick([0, 1, 2, 5, Infinity])
  if (rng.chance(0.04)) options.limit = rng.pick([-1, 1.5, NaN])
  return options
}

/** Changes a value the test passed in or got back, to prove the store does not share it. */
function mutate(value: unknown): void {
  if (value instanceof Uint8Array) {
    if (value.length > 0) value[0] = value[0]! ^ 0xff
  } else if (Array.isArray(value)) {
    if (!Object.isFrozen(value)) value.push(123)
  } else if (value !== null && typeof value === 'object') {
    if (!Object.isFrozen(value)) (value as Record<string, unknown>).mutated = true // reason: a plain object (arrays are above): any key may be added
    for (const v of Object.values(value)) mutate(v)
  }
}

function holdsBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) return true
  if (value === null || typeof value !== 'object') return false
  return Object.values(value).some(holdsBytes)
}

function deeplyFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true
  return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen)
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'function') return 'fn'
  if (v instanceof Uint8Array) return `bytes[${[...v].join(',')}]`
  if (v instanceof Date) return 'Date'
  if (v instanceof Map) return 'Map'
  if (Array.isArray(v)) return `[${Array.from(v, show).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${show((v as Record<string, unknown>)[k])}`) // reason: a non-null object, read by its own keys
      .join(',')}}`
  }
  return String(v)
}

// ---- running a sequence --------------------------------------------------------

type Outcome = { ok: unknown } | { error: string }

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: fn() }
  } catch (e) {
    return { error: e instanceof TideKVError ? e.code : `non-TideKV error: ${String(e)}` }
  }
}

const BATCH_ABORT = new Error('abort the batch')

class Run {
  readonly trace: string[] = []
  now = T0
  readonly clock = (): number => this.now
  readonly model = new Model(this.clock)
  store!: Store
  readonly disk: MemoryDisk = new Map()
  gate: LoadGate | null = null
  readonly compactAfter: number

  constructor(
    readonly seed: number,
    readonly rng: Random,
    /** Persisted in memory storage, with restarts; else `persist: false`. */
    readonly persisted: boolean,
  ) {
    this.compactAfter = rng.pick([3, 10, 500])
  }

  async open(): Promise<Store> {
    const options: StoreOptions = { clock: this.clock, maxKeyBytes: MAX_KEY_BYTES, maxValueBytes: MAX_VALUE_BYTES, tabs: false }
    if (this.persisted) {
      this.gate = new LoadGate()
      options.storage = this.gate.wrap(memoryStorage(this.disk))
      options.compaction = { maxLogRows: this.compactAfter }
    } else {
      options.persist = false
    }
    return openStore('model', options)
  }

  /** Lets the document finish loading (flush and close wait for it). */
  async release(): Promise<void> {
    if (this.gate === null) return
    if (this.gate.held) this.trace.push('storage finishes loading the document')
    this.gate.release()
    this.gate = null
    await this.store.loaded
  }

  message(label: string): string {
    return `${replayHint(this.seed)} op #${this.trace.length} ${label}`
  }

  /** Runs one call on the store and on the model and requires the same outcome. */
  same(label: string, onStore: () => unknown, onModel: () => unknown): Outcome {
    this.trace.push(label)
    const got = outcome(onStore)
    const want = outcome(onModel)
    expect(got, this.message(label)).toEqual(want)
    return got
  }

  /** A synchronous call (allowed inside `batch`). */
  syncOp(depth: number): void {
    const { rng, store, model } = this
    const kind = rng.weighted({
      set: 14,
      get: 10,
      has: 4,
      delete: 6,
      incr: 10,
      decr: 4,
      expire: 6,
      persist: 4,
      ttl: 5,
      keys: 5,
      entries: 4,
      size: 4,
      getMany: 2,
      setMany: 3,
      deleteMany: 2,
      clear: 0.4,
      batch: depth < 2 ? 3 : 0,
      advance: 10,
    })
    switch (kind) {
      case 'set': {
        const key = genKey(rng)
        const v = genValue(rng)
        const options = genSetOptions(rng, this.now)
        this.same(
          `set(${show(key)}, ${show(v.input)}, ${show(options)})`,
          () => store.set(key, illTyped(v.input), options), // invalid inputs on purpose: the store must refuse them as the model does
          () => model.set(key, v, options),
        )
        if (rng.chance(0.3)) mutate(v.input)
        return
      }
      case 'get': {
        const key = genKey(rng)
        const got = this.same(
          `get(${show(key)})`,
          () => store.get(key),
          () => model.get(key),
        )
        if ('ok' in got && got.ok !== null && typeof got.ok === 'object') {
          if (holdsBytes(got.ok)) mutate(got.ok)
          else expect(deeplyFrozen(got.ok), this.message('get returns a deeply frozen object')).toBe(true)
        }
        return
      }
      case 'has': {
        const key = genKey(rng)
        this.same(
          `has(${show(key)})`,
          () => store.has(key),
          () => model.has(key),
        )
        return
      }
      case 'delete': {
        const key = genKey(rng)
        this.same(
          `delete(${show(key)})`,
          () => store.delete(key),
          () => model.delete(key),
        )
        return
      }
      case 'incr':
      case 'decr': {
        const key = genKey(rng)
        const by = genBy(rng)
        this.same(
          `${kind}(${show(key)}, ${show(by)})`,
          () => store[kind](key, by),
          () => model[kind](key, by),
        )
        return
      }
      case 'expire': {
        const key = genKey(rng)
        const ttl = rng.pick([-5, 0, 0.5, 1, 3, 10, 30, 1000, 1000, NaN, Infinity])
        this.same(
          `expire(${show(key)}, ${show(ttl)})`,
          () => store.expire(key, ttl),
          () => model.expire(key, ttl),
        )
        return
      }
      case 'persist': {
        const key = genKey(rng)
        this.same(
          `persist(${show(key)})`,
          () => store.persist(key),
          () => model.persist(key),
        )
        return
      }
      case 'ttl': {
        const key = genKey(rng)
        this.same(
          `ttl(${show(key)})`,
          () => store.ttl(key),
          () => model.ttl(key),
        )
        return
      }
      case 'keys': {
        const options = genScan(rng)
        this.same(
          `keys(${show(options)})`,
          () => store.keys(options),
          () => model.keys(options),
        )
        return
      }
      case 'entries': {
        const options = genScan(rng)
        const got = this.same(
          `entries(${show(options)})`,
          () => store.entries(options),
          () => model.entries(options),
        )
        if ('ok' in got) for (const [, value] of got.ok as [string, Value][]) if (holdsBytes(value)) mutate(value) // reason: what store.entries returned
        return
      }
      case 'size':
        this.same(
          'size',
          () => store.size,
          () => model.size,
        )
        return
      case 'getMany': {
        const keys = Array.from({ length: rng.int(0, 4) }, () => genKey(rng))
        this.same(
          `getMany(${show(keys)})`,
          () => store.getMany(keys),
          () => model.getMany(keys),
        )
        return
      }
      case 'setMany': {
        const pairs = Array.from({ length: rng.int(0, 4) }, () => [genKey(rng), genValue(rng)] as const)
        const options = genSetOptions(rng, this.now)
        this.same(
          `setMany(${show(pairs.map(([k, v]) => [k, v.input]))}, ${show(options)})`,
          () =>
            store.setMany(
              pairs.map(([k, v]) => [k, illTyped(v.input)] as const), // invalid inputs on purpose, as in set
              options,
            ),
          () => model.setMany(pairs, options),
        )
        if (rng.chance(0.3)) for (const [, v] of pairs) mutate(v.input)
        return
      }
      case 'deleteMany': {
        const keys = Array.from({ length: rng.int(0, 4) }, () => genKey(rng))
        this.same(
          `deleteMany(${show(keys)})`,
          () => store.deleteMany(keys),
          () => model.deleteMany(keys),
        )
        return
      }
      case 'clear':
        this.same(
          'clear()',
          () => store.clear(),
          () => model.clear(),
        )
        return
      case 'batch': {
        const n = rng.int(1, 6)
        const abort = rng.chance(0.2)
        this.trace.push(`batch { ${n} calls${abort ? ', then throw' : ''}`)
        let threw = false
        let thrown: unknown = null
        try {
          store.batch(() => {
            for (let i = 0; i < n; i++) this.syncOp(depth + 1)
            if (abort) throw BATCH_ABORT
          })
        } catch (e) {
          threw = true
          thrown = e
        }
        this.trace.push('} end batch')
        // Assertion failures inside must surface as themselves, not as a batch outcome.
        if (threw && thrown !== BATCH_ABORT) throw thrown
        expect(thrown, this.message('batch rethrows what its function threw, writes kept')).toBe(abort ? BATCH_ABORT : null)
        return
      }
      case 'advance': {
        const dt = rng.pick([0, 1, 1, 2, 3, 5, 8, 13, 30, 100])
        this.now += dt
        this.trace.push(`clock += ${dt}`)
        return
      }
    }
  }

  async step(): Promise<void> {
    const kind = this.rng.weighted({
      sync: 92,
      flush: 3,
      tick: 3,
      timers: 2,
      restart: this.persisted ? 2 : 0,
      load: this.gate?.held === true ? 4 : 0,
    })
    switch (kind) {
      case 'sync':
        this.syncOp(0)
        return
      case 'load':
        await this.release()
        return
      case 'restart': {
        // Close and reopen from storage: at once from the snapshot's keys, the document loading behind.
        this.trace.push('restart from storage')
        await this.release()
        await this.store.close()
        this.store = await this.open()
        expect(this.readAll(this.store), this.message('reopened store vs model')).toEqual(this.readModel())
        return
      }
      case 'flush':
        await this.release()
        this.trace.push('await flush()')
        await this.store.flush()
        return
      case 'tick':
        this.trace.push('await a microtask')
        await Promise.resolve()
        return
      case 'timers':
        // The store's expiry timer fires (fake timers keep runs reproducible).
        this.trace.push('run pending timers')
        vi.runOnlyPendingTimers()
        return
    }
  }

  /** Every read the store offers, as one comparable value. */
  readAll(store: Store): unknown {
    return {
      entries: store.entries(),
      keys: store.keys(),
      prefixed: store.keys({ prefix: 'p:' }),
      get: KEYS.map((k) => store.get(k)),
      has: KEYS.map((k) => store.has(k)),
      ttl: KEYS.map((k) => store.ttl(k)),
      size: store.size,
    }
  }

  readModel(): unknown {
    const m = this.model
    return {
      entries: m.entries(),
      keys: m.keys(),
      prefixed: m.keys({ prefix: 'p:' }),
      get: KEYS.map((k) => m.get(k)),
      has: KEYS.map((k) => m.has(k)),
      ttl: KEYS.map((k) => m.ttl(k)),
      size: m.size,
    }
  }

  /** A replica fed only the document must read what the store and the model read. */
  async checkDocument(label: string): Promise<void> {
    await this.release()
    await this.store.flush()
    const copy = await openStore('model-copy', { persist: false, tabs: false, clock: this.clock, maxKeyBytes: MAX_KEY_BYTES, maxValueBytes: MAX_VALUE_BYTES })
    try {
      Y.applyUpdate(copy.doc, Y.encodeStateAsUpdate(this.store.doc), 'net')
      const want = this.readModel()
      expect(this.readAll(this.store), this.message(`${label}: store vs model`)).toEqual(want)
      expect(this.readAll(copy), this.message(`${label}: replica built from store.doc vs model`)).toEqual(want)
    } finally {
      await copy.close()
    }
  }

  async run(): Promise<void> {
    this.store = await this.open()
    try {
      for (let i = 0; i < OPS_PER_SEQUENCE; i++) {
        await this.step()
        if (i === OPS_PER_SEQUENCE / 2) await this.checkDocument('halfway')
      }
      await this.checkDocument('at the end')
      // Later, every TTL has run out on both sides.
      this.now += 10_000
      this.trace.push('clock += 10000')
      await this.checkDocument('after every TTL ran out')
      if (this.persisted) {
        await this.store.close()
        this.store = await this.open()
        await this.release()
        await this.checkDocument('reopened at the end')
      }
    } finally {
      this.gate?.release()
      await this.store.close()
    }
  }
}

async function runSequence(seed: number, persisted: boolean): Promise<void> {
  const run = new Run(seed, new Random(seed), persisted)
  try {
    await run.run()
  } catch (error) {
    const tail = run.trace.slice(-40).join('\n  ')
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(`model sequence failed: ${replayHint(seed)}, ${persisted ? 'persisted' : 'in memory'}\n${message}\nlast calls:\n  ${tail}`, {
      cause: error,
    })
  }
}

describe('store against a Map model', () => {
  const base = baseSeed()

  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    console.log(`replicas/model.test.ts: first seed ${base} (replay with TIDEKV_SEED=${base})`)
  })
  afterAll(() => {
    vi.useRealTimers()
  })

  it(`every call returns or throws what the Redis-like model does, over ${SEQUENCES} random sequences of ${OPS_PER_SEQUENCE} calls`, async () => {
    for (let i = 0; i < SEQUENCES; i++) await runSequence(sequenceSeed(base, i), false)
  })

  it(`a persisted store keeps the model's semantics across restarts, also before its document has loaded (${PERSISTED_SEQUENCES} sequences)`, async () => {
    for (let i = 0; i < PERSISTED_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), true)
  })
})

describe('incr results', () => {
  // TSDoc of incr: OUT_OF_RANGE when "the result would not be" a safe integer.
  it('incr reports OUT_OF_RANGE only when the result leaves the safe integer range', async () => {
    const store = await openStore('out-of-range', { persist: false })
    store.set('n', MAX_SAFE)
    expect(store.incr('n', -MAX_SAFE)).toBe(0)
    expect(store.incr('n', -1)).toBe(-1)
    expect(store.get('n')).toBe(-1)
    await store.close()
  })

  it('incr returns the value it leaves at the key, also when that is -0', async () => {
    const store = await openStore('negative-zero', { persist: false })
    store.set('z', -0)
    const result = store.decr('z', 0) // -0 - 0 is -0 in JavaScript
    expect(Object.is(store.get('z'), result), `incr returned ${Object.is(result, -0) ? '-0' : result}, get gives ${Object.is(store.get('z'), -0) ? '-0' : store.get('z')}`).toBe(
      true,
    )
    await store.close()
  })
})
