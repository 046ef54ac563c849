/**
 * Scans UTF-8 bytes in place, without decoding them: whether they are valid
 * UTF-8 (and how many UTF-16 code units they decode to), and whether they are
 * one JSON text. The decode budget runs them on every string and JSON value
 * of an untrusted update, before Yjs decodes anything: decoding to check
 * would allocate a string per value of a frame not yet judged, and
 * `JSON.parse` has no depth limit (a deep value breaks the room later, see
 * update-budget.ts).
 */

/**
 * Validates UTF-8 as `TextDecoder('utf-8', { fatal: true })` does and returns
 * the decoded length in UTF-16 code units, or -1 when invalid.
 */
export function utf16Length(arr: Uint8Array, start: number, end: number): number {
  let units = 0
  let i = start
  while (i < end) {
    const b = arr[i]!
    if (b < 0x80) {
      units++
      i++
      continue
    }
    let need: number
    let lo = 0x80
    let hi = 0xbf
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      if (b === 0xe0) lo = 0xa0
      else if (b === 0xed) hi = 0x9f // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      if (b === 0xf0) lo = 0x90
      else if (b === 0xf4) hi = 0x8f // nothing past U+10FFFF
    } else {
      return -1
    }
    if (i + need >= end) return -1
    const c1 = arr[i + 1]!
    if (c1 < lo || c1 > hi) return -1
    for (let k = 2; k <= need; k++) {
      const c = arr[i + k]!
      if (c < 0x80 || c > 0xbf) return -1
    }
    units += need === 3 ? 2 : 1
    i += need + 1
  }
  return units
}

/** What `checkJson` found. */
export const JSON_OK = 0
export const JSON_INVALID = 1
export const JSON_TOO_DEEP = 2

const C_QUOTE = 0x22
const C_BACKSLASH = 0x5c
const C_COMMA = 0x2c
const C_COLON = 0x3a
const C_LBRACKET = 0x5b
const C_RBRACKET = 0x5d
const C_LBRACE = 0x7b
const C_RBRACE = 0x7d
const C_MINUS = 0x2d
const C_PLUS = 0x2b
const C_DOT = 0x2e
const C_0 = 0x30
const C_9 = 0x39

/**
 * Checks that bytes [start, end) are one JSON text that `JSON.parse` accepts
 * (RFC 8259: whitespace, objects, arrays, strings, numbers, true, false,
 * null), nesting at most `maxDepth` deep. Iterative; `stack` must hold
 * `maxDepth + 2` entries. The bytes are already known to be valid UTF-8.
 */
export function checkJson(arr: Uint8Array, start: number, end: number, maxDepth: number, stack: Uint8Array): number {
  let p = start
  let depth = 0
  const ws = () => {
    while (p < end) {
      const c = arr[p]!
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) p++
      else break
    }
  }
  const str = (): boolean => {
    // at an opening quote
    p++
    while (p < end) {
      const c = arr[p++]!
      if (c === C_QUOTE) return true
      if (c < 0x20) return false
      if (c === C_BACKSLASH) {
        if (p >= end) return false
        const e = arr[p++]!
        if (e === 0x75) {
          // \uXXXX
          if (p + 4 > end) return false
          for (let k = 0; k < 4; k++) {
            const h = arr[p++]!
            const hex = (h >= C_0 && h <= C_9) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66)
            if (!hex) return false
          }
        } else if (!(e === C_QUOTE || e === C_BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
          return false
        }
      }
    }
    return false
  }
  const digits = (): boolean => {
    const s = p
    while (p < end && arr[p]! >= C_0 && arr[p]! <= C_9) p++
    return p > s
  }
  const num = (): boolean => {
    if (arr[p] === C_MINUS) p++
    if (p >= end) return false
    if (arr[p] === C_0) p++
    else if (!digits()) return false
    if (p < end && arr[p] === C_DOT) {
      p++
      if (!digits()) return false
    }
    if (p < end && (arr[p] === 0x65 || arr[p] === 0x45)) {
      p++
      if (p < end && (arr[p] === C_PLUS || arr[p] === C_MINUS)) p++
      if (!digits()) return false
    }
    return true
  }
  const word = (w: string): boolean => {
    if (p + w.length > end) return false
    for (let k = 0; k < w.length; k++) if (arr[p + k] !== w.charCodeAt(k)) return false
    p += w.length
    return true
  }
  /** After a key string in an object: whitespace, colon, whitespace. */
  const colon = (): boolean => {
    ws()
    if (p >= end || arr[p] !== C_COLON) return false
    p++
    return true
  }

  ws()
  // Each turn of the loop reads one value, then closes finished containers.
  for (;;) {
    ws()
    if (p >= end) return JSON_INVALID
    const c = arr[p]!
    let afterValue = true
    if (c === C_LBRACE || c === C_LBRACKET) {
      if (depth + 1 > maxDepth) return JSON_TOO_DEEP
      depth++
      stack[depth] = c === C_LBRACE ? 1 : 0
      p++
      ws()
      const close = c === C_LBRACE ? C_RBRACE : C_RBRACKET
      if (p < end && arr[p] === close) {
        p++
        depth--
      } else if (c === C_LBRACE) {
        if (p >= end || arr[p] !== C_QUOTE || !str() || !colon()) return JSON_INVALID
        afterValue = false // read the first member's value
      } else {
        afterValue = false // read the first element
      }
    } else if (c === C_QUOTE) {
      if (!str()) return JSON_INVALID
    } else if (c === C_MINUS || (c >= C_0 && c <= C_9)) {
      if (!num()) return JSON_INVALID
    } else if (c === 0x74) {
      if (!word('true')) return JSON_INVALID
    } else if (c === 0x66) {
      if (!word('false')) return JSON_INVALID
    } else if (c === 0x6e) {
      if (!word('null')) return JSON_INVALID
    } else {
      return JSON_INVALID
    }
    if (!afterValue) continue
    // A value is complete: continue or close the enclosing containers.
    for (;;) {
      ws()
      if (depth === 0) return p === end ? JSON_OK : JSON_INVALID
      if (p >= end) return JSON_INVALID
      const d = arr[p]!
      const inObject = stack[depth] === 1
      if (d === C_COMMA) {
        p++
        if (inObject) {
          ws()
          if (p >= end || arr[p] !== C_QUOTE || !str() || !colon()) return JSON_INVALID
        }
        break // read the next value
      }
      if (d === (inObject ? C_RBRACE : C_RBRACKET)) {
        p++
        depth--
        continue
      }
      return JSON_INVALID
    }
  }
}
