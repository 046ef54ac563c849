/**
 * A bounded reader over the bytes of a Yjs V1 update, the base of
 * `UpdateChecker`: lib0's varints, strings, JSON text and `writeAny` values,
 * each refused with `UpdateRejected` when truncated, out of range or invalid.
 * Nothing is decoded into objects: a string is only checked for UTF-8, and a
 * value is walked iteratively with a stack no deeper than `maxValueDepth`
 * (lib0 and Yjs recurse, so a deep value could overflow theirs).
 */
import { UpdateRejected } from './update-rejected.js'
import { checkJson, JSON_OK, JSON_TOO_DEEP, utf16Length } from './utf8-scan.js'

const MAX_SAFE = Number.MAX_SAFE_INTEGER

export class UpdateReader {
  protected pos = 0
  protected readonly end: number
  // Stack for nested values (ContentAny) and JSON: remaining entries, kind.
  readonly #stackCount: Float64Array
  readonly #stackKind: Uint8Array

  constructor(
    protected readonly arr: Uint8Array,
    protected readonly maxValueDepth: number,
  ) {
    this.end = arr.length
    const depth = Math.max(0, Math.min(maxValueDepth, arr.length)) + 2
    this.#stackCount = new Float64Array(depth)
    this.#stackKind = new Uint8Array(depth)
  }

  // --- errors -------------------------------------------------------------

  protected malformed(reason: string, detail?: string): never {
    throw new UpdateRejected('MALFORMED_UPDATE', reason, this.pos, detail)
  }

  protected over(reason: string, detail?: string): never {
    throw new UpdateRejected('UPDATE_OVER_BUDGET', reason, this.pos, detail)
  }

  // --- primitives ---------------------------------------------------------

  protected u8(): number {
    if (this.pos >= this.end) this.malformed('truncated')
    return this.arr[this.pos++]!
  }

  /** lib0 varUint, refusing values past 2^53 - 1 (lib0 would return them imprecisely). */
  protected varUint(): number {
    const arr = this.arr
    let num = 0
    let mult = 1
    for (let n = 0; ; n++) {
      if (this.pos >= this.end) this.malformed('truncated')
      const b = arr[this.pos++]!
      num += (b & 0x7f) * mult
      if (b < 0x80) break
      mult *= 128
      if (n === 7) this.malformed('varint too long')
    }
    if (num > MAX_SAFE) this.malformed('varint out of range')
    return num
  }

  /** lib0 varInt (6 bits and a sign in the first byte). */
  protected skipVarInt(): void {
    let b = this.u8()
    if (b < 0x80) return
    let mult = 64
    for (let n = 0; ; n++) {
      b = this.u8()
      if (b < 0x80) {
        if ((b & 0x7f) * mult > MAX_SAFE) this.malformed('varint out of range')
        return
      }
      mult *= 128
      if (n === 6) this.malformed('varint too long')
    }
  }

  protected skip(len: number): void {
    if (len > this.end - this.pos) this.malformed('truncated')
    this.pos += len
  }

  /** Skips a lib0 varString; returns its byte range start. Fails unless valid UTF-8 (lib0 decodes with `fatal: true`). */
  protected string(): number {
    const len = this.varUint()
    if (len > this.end - this.pos) this.malformed('truncated')
    const start = this.pos
    if (utf16Length(this.arr, start, start + len) < 0) this.malformed('invalid UTF-8')
    this.pos += len
    return start
  }

  /** Skips a varString and returns its length in UTF-16 code units (Yjs's ContentString length). */
  protected stringUnits(): number {
    const len = this.varUint()
    if (len > this.end - this.pos) this.malformed('truncated')
    const units = utf16Length(this.arr, this.pos, this.pos + len)
    if (units < 0) this.malformed('invalid UTF-8')
    this.pos += len
    return units
  }

  /** A varString that must be JSON text (or, when `allowUndefined`, the word undefined). */
  protected json(allowUndefined: boolean): void {
    const len = this.varUint()
    if (len > this.end - this.pos) this.malformed('truncated')
    const start = this.pos
    const end = start + len
    if (utf16Length(this.arr, start, end) < 0) this.malformed('invalid UTF-8')
    if (!(allowUndefined && isUndefinedWord(this.arr, start, end))) {
      const r = checkJson(this.arr, start, end, this.maxValueDepth, this.#stackKind)
      if (r === JSON_TOO_DEEP) this.over('maxValueDepth', 'JSON value')
      if (r !== JSON_OK) {
        this.pos = start
        this.malformed('invalid JSON')
      }
    }
    this.pos = end
  }

  /** One lib0 `writeAny` value, iteratively (lib0 and Yjs recurse). */
  protected any(): void {
    const count = this.#stackCount
    const kind = this.#stackKind
    const maxDepth = this.maxValueDepth
    let depth = 0
    for (;;) {
      const t = this.u8()
      let open = -1
      let isObject = 0
      switch (t) {
        case 127: // undefined
        case 126: // null
        case 121: // false
        case 120: // true
          break
        case 125:
          this.skipVarInt()
          break
        case 124:
          this.skip(4)
          break
        case 123: // float64
        case 122: // bigint64
          this.skip(8)
          break
        case 119:
          this.string()
          break
        case 116:
          this.skip(this.varUint())
          break
        case 118: // object: key string + value per entry, at least 2 bytes each
          open = this.varUint()
          if (open > (this.end - this.pos) / 2) this.malformed('truncated', 'object size')
          isObject = 1
          break
        case 117: // array: at least 1 byte per element
          open = this.varUint()
          if (open > this.end - this.pos) this.malformed('truncated', 'array size')
          break
        default:
          this.pos--
          this.malformed('unknown value type', String(t))
      }
      if (open >= 0) {
        if (depth + 1 > maxDepth) this.over('maxValueDepth', 'ContentAny value')
        if (open > 0) {
          depth++
          count[depth] = open
          kind[depth] = isObject
        }
      }
      while (depth > 0 && count[depth] === 0) depth--
      if (depth === 0) return
      count[depth] = count[depth]! - 1
      if (kind[depth] === 1) this.string() // the entry's key
    }
  }
}

function isUndefinedWord(arr: Uint8Array, start: number, end: number): boolean {
  const word = 'undefined'
  if (end - start !== word.length) return false
  for (let i = 0; i < word.length; i++) if (arr[start + i] !== word.charCodeAt(i)) return false
  return true
}
