/** The options of a store and of its writes and scans, and the checks that refuse a bad one. */
import { TideKVError } from './errors.js'
import { MAX_WALL } from './layout/hlc.js'

/** Options of a store over a document (`createDocStore`; `openStore` takes them too). */
export interface DocStoreOptions {
  /** Largest encoded value accepted by `set`, in bytes. Default 1 MiB. */
  maxValueBytes?: number
  /** Longest key accepted, in bytes of UTF-8. Default 1 KiB. */
  maxKeyBytes?: number
  /** Milliseconds since the epoch. Default `Date.now`. Drives TTL and the hybrid logical clock. */
  clock?: () => number
}

/** Expiry of a `set`: a time to live in ms, or an absolute time in epoch ms. Neither: no expiry. */
export interface SetOptions {
  ttl?: number
  expiresAt?: number
}

/** Range of a `keys`/`entries` scan. Keys come in JavaScript string order (UTF-16 code units). */
export interface ScanOptions {
  /** Only keys starting with this. */
  prefix?: string
  /** Only keys after this one (exclusive): pass the last key of a page to get the next. */
  after?: string
  /** At most this many keys. */
  limit?: number
}

/** Events of `store.on`. */
export interface DocStoreEvents {
  /** A background failure: storage (`STORAGE_FAILED`), an invalid remote entry, a throwing watcher. */
  error: (error: TideKVError) => void
}

export const DEFAULT_MAX_VALUE_BYTES = 1 << 20
export const DEFAULT_MAX_KEY_BYTES = 1024

/** The expiry `options` ask for (0: none), a TTL counted from `clock()`. @throws TideKVError `INVALID_VALUE` */
export function expiryOf(options: SetOptions | undefined, clock: () => number): number {
  if (options === undefined) return 0
  const { ttl, expiresAt } = options
  if (ttl !== undefined && expiresAt !== undefined) throw new TideKVError('INVALID_VALUE', 'Pass ttl or expiresAt, not both')
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
      throw new TideKVError('INVALID_VALUE', `ttl must be a positive number of milliseconds, got ${ttl}`)
    }
    return safeExpiry(clock() + ttl)
  }
  if (expiresAt !== undefined) {
    if (typeof expiresAt !== 'number' || !(expiresAt > 0) || !Number.isFinite(expiresAt)) {
      throw new TideKVError('INVALID_VALUE', `expiresAt must be a positive epoch time in milliseconds, got ${expiresAt}`)
    }
    return safeExpiry(expiresAt)
  }
  return 0
}

/** An expiry in whole milliseconds that every replica accepts (up to `MAX_WALL`, the end of year 9999). */
export function safeExpiry(at: number): number {
  const ms = Math.ceil(at)
  if (!(ms <= MAX_WALL)) throw new TideKVError('INVALID_VALUE', `The expiry ${at} is beyond the last representable time (the end of year 9999)`)
  return ms
}

/** A positive integer option, or `fallback` when absent. @throws TideKVError `INVALID_VALUE` */
export function positiveOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!(Number.isInteger(value) && value > 0)) throw new TideKVError('INVALID_VALUE', `${name} must be a positive integer, got ${value}`)
  return value
}
