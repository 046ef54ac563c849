/**
 * What a TideKV value may be, and the one pass that checks a value, copies it
 * (so the store never aliases the caller's objects) and freezes the copy (so a
 * value handed out by `get` cannot change the store either).
 */
import { TideKVError } from './errors.js'
import { isWellFormed } from './key.js'

/** A value TideKV can store: JSON-compatible data, or bytes, nested freely. */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value }

export interface PreparedValue {
  /** A deep copy, frozen (Uint8Arrays cannot be frozen, so they are copied instead). */
  readonly value: Value
  /** True when the value holds a Uint8Array: such values are copied again on every read. */
  readonly binary: boolean
}

const MAX_DEPTH = 256

/**
 * Checks `input` and returns a frozen deep copy.
 * @throws TideKVError `INVALID_VALUE` for undefined, NaN, ±Infinity, functions,
 * symbols, bigints, Dates, Maps, class instances, cycles or nesting deeper than 256.
 */
export function prepareValue(input: unknown): PreparedValue {
  const state = { binary: false, path: new Set<object>() }
  const value = copy(input, state, 0)
  return { value, binary: state.binary }
}

function copy(input: unknown, state: { binary: boolean; path: Set<object> }, depth: number): Value {
  switch (typeof input) {
    case 'string':
      // A lone surrogate has no UTF-8 form: other replicas would read another string.
      if (!isWellFormed(input)) throw invalid('strings must be well-formed UTF-16 (no lone surrogates)')
      return input
    case 'boolean':
      return input
    case 'number':
      if (!Number.isFinite(input)) throw invalid(`${input} is not a finite number`)
      return input
    case 'object':
      break
    default:
      throw invalid(`a ${typeof input} cannot be stored`)
  }
  if (input === null) return null
  if (depth >= MAX_DEPTH) throw invalid(`values nest at most ${MAX_DEPTH} levels deep`)
  if (state.path.has(input)) throw invalid('the value contains a cycle')
  if (input instanceof Uint8Array) {
    state.binary = true
    return new Uint8Array(input)
  }
  state.path.add(input)
  let out: Value
  if (Array.isArray(input)) {
    const arr: Value[] = new Array(input.length)
    for (let i = 0; i < input.length; i++) {
      // Holes in sparse arrays read as undefined, which is refused like any undefined.
      arr[i] = copy(input[i], state, depth + 1)
    }
    out = arr
  } else {
    const proto = Object.getPrototypeOf(input)
    if (proto !== Object.prototype && proto !== null) {
      throw invalid(`a ${proto?.constructor?.name ?? 'class'} instance cannot be stored; use a plain object`)
    }
    const obj: { [key: string]: Value } = {}
    for (const key of Object.keys(input)) {
      // Decoders (lib0's readAny, JSON tools) would turn this key into a prototype,
      // so other replicas could not read the value back as it was written.
      if (key === '__proto__') throw invalid('"__proto__" cannot be an object key')
      if (!isWellFormed(key)) throw invalid('object keys must be well-formed UTF-16')
      obj[key] = copy((input as Record<string, unknown>)[key], state, depth + 1)
    }
    out = obj
  }
  state.path.delete(input)
  if (!state.binary) Object.freeze(out)
  return out
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
    for (const key in value) binary = freezeDecoded(value[key] as Value) || binary
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
  for (const key of Object.keys(value)) out[key] = cloneValue(value[key] as Value)
  return out
}

/** Whether a decoded value (from another replica) is a valid TideKV value. */
export function isValue(input: unknown, depth = 0): input is Value {
  if (input === null || typeof input === 'boolean') return true
  if (typeof input === 'string') return isWellFormed(input)
  if (typeof input === 'number') return Number.isFinite(input)
  if (typeof input !== 'object' || depth >= MAX_DEPTH) return false
  if (input instanceof Uint8Array) return true
  if (Array.isArray(input)) return input.every((v) => isValue(v, depth + 1))
  const proto = Object.getPrototypeOf(input)
  if (proto !== Object.prototype && proto !== null) return false
  for (const key of Object.keys(input)) if (!isValue((input as Record<string, unknown>)[key], depth + 1)) return false
  return true
}

function invalid(reason: string): TideKVError {
  return new TideKVError('INVALID_VALUE', `Invalid value: ${reason}`)
}
