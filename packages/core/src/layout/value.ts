/**
 * What a TideKV value may be; the one pass that checks a value while encoding
 * it (the store keeps the bytes, so it never aliases the caller's objects);
 * and the freezing of decoded values (so a value handed out by `get` cannot
 * change the store either).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { TideKVError } from '../errors.js'
import { isWellFormed } from './key.js'

/** A value TideKV can store: JSON-compatible data, or bytes, nested freely. */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value }

const MAX_DEPTH = 256
/** Objects on the path from the root to the value being written: cycle detection without allocating. */
const ancestors: object[] = []

/**
 * Checks `input` and writes it with lib0's `writeAny` encoding (the same
 * bytes `writeAny` would produce, so any lib0 `readAny` reads it), in one
 * pass. Returns whether the value holds a Uint8Array.
 * @throws TideKVError `INVALID_VALUE` for undefined, NaN, ±Infinity, functions,
 * symbols, bigints, Dates, Maps, class instances, cycles, lone surrogates,
 * a "__proto__" key, or nesting deeper than 256. The encoder is then unusable
 * for this value; the caller discards what was written.
 */
export function writeValue(enc: encoding.Encoder, input: unknown, maxBytes = Infinity): boolean {
  ancestors.length = 0
  limit = encoding.length(enc) + maxBytes
  return write(enc, input)
}

/** Where the encoding must stop: a value built from shared sub-objects can be exponentially larger than its object graph. */
let limit = Infinity

function write(enc: encoding.Encoder, input: unknown): boolean {
  switch (typeof input) {
    case 'string':
      // A lone surrogate has no UTF-8 form: other replicas would read another string.
      if (!isWellFormed(input)) throw invalid('strings must be well-formed UTF-16 (no lone surrogates)')
      encoding.writeUint8(enc, 119)
      writeString(enc, input)
      return false
    case 'boolean':
      encoding.writeUint8(enc, input ? 120 : 121)
      return false
    case 'number':
      if (!Number.isFinite(input)) throw invalid(`${input} is not a finite number`)
      if (Number.isInteger(input) && Math.abs(input) <= 0x7fffffff) {
        encoding.writeUint8(enc, 125)
        // `+ 0` turns -0 into 0 (lib0 would keep the sign), as JSON does.
        encoding.writeVarInt(enc, input + 0)
      } else if (Math.fround(input) === input) {
        encoding.writeUint8(enc, 124)
        encoding.writeFloat32(enc, input)
      } else {
        encoding.writeUint8(enc, 123)
        encoding.writeFloat64(enc, input)
      }
      return false
    case 'object':
      break
    default:
      throw invalid(`a ${typeof input} cannot be stored`)
  }
  if (input === null) {
    encoding.writeUint8(enc, 126)
    return false
  }
  // Bytes count as a level too: readers refuse anything at depth 256.
  if (ancestors.length >= MAX_DEPTH) throw invalid(`values nest at most ${MAX_DEPTH} levels deep`)
  if (encoding.length(enc) > limit) throw new TideKVError('VALUE_TOO_LARGE', 'The value is larger than maxValueBytes once encoded')
  if (input instanceof Uint8Array) {
    encoding.writeUint8(enc, 116)
    encoding.writeVarUint8Array(enc, input)
    return true
  }
  if (ancestors.includes(input)) throw invalid('the value contains a cycle')
  ancestors.push(input)
  let binary = false
  if (Array.isArray(input)) {
    encoding.writeUint8(enc, 117)
    encoding.writeVarUint(enc, input.length)
    // Holes in sparse arrays read as undefined, which is refused like any undefined.
    for (let i = 0; i < input.length; i++) binary = write(enc, input[i]) || binary
  } else {
    const proto: unknown = Object.getPrototypeOf(input)
    if (proto !== Object.prototype && proto !== null) {
      const name = typeof proto === 'object' && typeof proto.constructor === 'function' ? proto.constructor.name : 'class'
      throw invalid(`a ${name} instance cannot be stored; use a plain object`)
    }
    const fields: [string, unknown][] = Object.entries(input)
    encoding.writeUint8(enc, 118)
    encoding.writeVarUint(enc, fields.length)
    for (const [key, value] of fields) {
      // Decoders (lib0's readAny, JSON tools) would turn this key into a prototype,
      // so other replicas could not read the value back as it was written.
      if (key === '__proto__') throw invalid('"__proto__" cannot be an object key')
      if (!isWellFormed(key)) throw invalid('object keys must be well-formed UTF-16')
      writeString(enc, key)
      binary = write(enc, value) || binary
    }
  }
  ancestors.pop()
  return binary
}

/**
 * lib0's `writeVarString`, with a fast path for short ASCII strings (most keys
 * and small values): calling TextEncoder for a dozen bytes costs more than
 * copying them. Same bytes either way.
 */
export function writeString(enc: encoding.Encoder, s: string): void {
  const n = s.length
  if (n < 128 && enc.cbuf.length - enc.cpos > n + 1) {
    const buf = enc.cbuf
    let pos = enc.cpos + 1
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[pos++] = c
    }
    if (i === n) {
      buf[enc.cpos] = n // a varUint below 128 is one byte
      enc.cpos = pos
      return
    }
  }
  encoding.writeVarString(enc, s)
}

/**
 * Freezes a value decoded from the document (already a fresh copy).
 * Returns whether it holds bytes, in which case it is left unfrozen and copied on reads.
 */
export function freezeDecoded(value: Value): boolean {
  if (value === null || typeof value !== 'object') return false
  if (value instanceof Uint8Array) return true
  let binary = false
  if (Array.isArray(value)) {
    for (const v of value) binary = freezeDecoded(v) || binary
  } else {
    for (const v of Object.values(value)) binary = freezeDecoded(v) || binary
  }
  if (!binary) Object.freeze(value)
  return binary
}

/** A deep copy of a value holding bytes, so the caller can never reach the store's copy. */
export function cloneValue(value: Value): Value {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return new Uint8Array(value)
  if (Array.isArray(value)) return value.map(cloneValue)
  const out: { [key: string]: Value } = {}
  for (const [key, v] of Object.entries(value)) out[key] = cloneValue(v)
  return out
}

/** Slots of the short-string cache (a power of two). */
const STRING_CACHE_SLOTS = 1024
/** Strings up to this long (ASCII) go through the cache. */
const CACHED_STRING_LENGTH = 16
const stringCache: (string | undefined)[] = new Array<string | undefined>(STRING_CACHE_SLOTS).fill(undefined)

/**
 * lib0's `readVarString`, with short ASCII strings read through a small
 * direct-mapped cache: values repeat the same short strings across keys
 * ('dark', 'en', 'pending'), and each decode would otherwise keep a copy of
 * its own (~24 B each, ~50 B a key for `{ theme, lang }`). A hit returns the
 * cached string without decoding anything; the cache holds at most 1,024
 * strings of 16 characters.
 */
export function readString(dec: decoding.Decoder): string {
  const arr = dec.arr
  const start = dec.pos
  // A length below 128 is one varUint byte; ≤ 16 and in bounds, else lib0 reads it (and throws on truncation).
  const n = arr[start]
  if (n === undefined || n > CACHED_STRING_LENGTH || start + 1 + n > arr.length) return decoding.readVarString(dec)
  let hash = n
  for (let i = start + 1; i <= start + n; i++) {
    const c = arr[i]!
    if (c >= 0x80) return decoding.readVarString(dec)
    hash = (Math.imul(hash, 31) + c) | 0
  }
  dec.pos = start + 1 + n
  const slot = (hash ^ (hash >>> 10)) & (STRING_CACHE_SLOTS - 1)
  const cached = stringCache[slot]
  if (cached !== undefined && cached.length === n) {
    let same = true
    for (let i = 0; i < n && same; i++) same = cached.charCodeAt(i) === arr[start + 1 + i]
    if (same) return cached
  }
  // One flat string (adding characters one by one would build cons strings past 12 of them).
  // reason: fromCharCode takes the bytes' numbers as its arguments; a Uint8Array is array-like
  const s = String.fromCharCode.apply(null, arr.subarray(start + 1, start + 1 + n) as unknown as number[])
  stringCache[slot] = s
  return s
}

/**
 * Reads a value that lib0's `writeAny` wrote, as lib0's `readAny` would, but
 * refusing what no TideKV value holds instead of letting it through:
 * `readAny` assigns object keys, so a `"__proto__"` key became the object's
 * prototype and no check after it could see the key; and it recurses without
 * a bound. Here a `"__proto__"` key, `undefined`, a bigint, or nesting past
 * 256 levels throws.
 * @throws RangeError for bytes that are not a TideKV value
 */
export function readValue(dec: decoding.Decoder, depth = 0): unknown {
  const type = decoding.readUint8(dec)
  switch (type) {
    case 126:
      return null
    case 125:
      return decoding.readVarInt(dec)
    case 124:
      return decoding.readFloat32(dec)
    case 123:
      return decoding.readFloat64(dec)
    case 121:
      return false
    case 120:
      return true
    case 119:
      return readString(dec)
    case 116:
      return decoding.readVarUint8Array(dec)
    case 118: {
      if (depth >= MAX_DEPTH) throw new RangeError(`values nest at most ${MAX_DEPTH} levels deep`)
      const n = decoding.readVarUint(dec)
      const obj: Record<string, unknown> = {}
      for (let i = 0; i < n; i++) {
        const key = readString(dec)
        if (key === '__proto__') throw new RangeError('"__proto__" cannot be an object key')
        obj[key] = readValue(dec, depth + 1)
      }
      return obj
    }
    case 117: {
      if (depth >= MAX_DEPTH) throw new RangeError(`values nest at most ${MAX_DEPTH} levels deep`)
      const n = decoding.readVarUint(dec)
      const arr: unknown[] = []
      for (let i = 0; i < n; i++) arr.push(readValue(dec, depth + 1))
      return arr
    }
    default:
      throw new RangeError(`not a TideKV value (lib0 type ${type})`)
  }
}

/** Whether a decoded value (from another replica) is a valid TideKV value. */
export function isValue(input: unknown, depth = 0): input is Value {
  if (input === null || typeof input === 'boolean') return true
  if (typeof input === 'string') return isWellFormed(input)
  if (typeof input === 'number') return Number.isFinite(input)
  if (typeof input !== 'object' || depth >= MAX_DEPTH) return false
  if (input instanceof Uint8Array) return true
  if (Array.isArray(input)) return input.every((v) => isValue(v, depth + 1))
  const proto: unknown = Object.getPrototypeOf(input)
  if (proto !== Object.prototype && proto !== null) return false
  const values: unknown[] = Object.values(input)
  return values.every((v) => isValue(v, depth + 1))
}

function invalid(reason: string): TideKVError {
  return new TideKVError('INVALID_VALUE', `Invalid value: ${reason}`)
}
