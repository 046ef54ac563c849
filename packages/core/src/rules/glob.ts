/**
 * Redis's glob patterns (`KEYS`, `SCAN MATCH`, ACL key patterns), over whole
 * keys: `*` any run of characters (`/` and `:` included), `?` one character,
 * `[abc]`, `[a-z]` and `[^abc]` one character of (or not of) a class, and `\`
 * to take the next character literally. As in Redis, an unclosed `[` matches
 * to the end of the pattern, and a `\` at the very end is a literal `\`.
 *
 * Redis matches recursively, and its worst case is exponential in the number
 * of stars (it added a cap on nesting after a CVE). This matcher is the
 * iterative one with a single backtrack point: on a mismatch it resumes after
 * the last `*` only, one character further on. That is exact for these
 * patterns (a later star can absorb whatever an earlier one would have), and
 * costs at most O(pattern × key) steps: patterns come from tokens, keys from
 * peers, and neither may make the relay loop.
 */

/** Whether `key` matches `pattern` as a whole. Characters are UTF-16 code units, as in JavaScript strings. */
export function globMatch(pattern: string, key: string): boolean {
  let p = 0
  let k = 0
  let starP = -1
  let starK = 0
  while (k < key.length) {
    if (p < pattern.length) {
      const c = pattern[p]!
      if (c === '*') {
        // Runs of stars are one star.
        while (p < pattern.length && pattern[p] === '*') p++
        if (p === pattern.length) return true
        starP = p
        starK = k
        continue
      }
      const next = matchOne(pattern, p, key.charCodeAt(k))
      if (next >= 0) {
        p = next
        k++
        continue
      }
    }
    if (starP < 0) return false
    p = starP
    k = ++starK
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

/** Matches one character of the key at pattern position `p`; returns the position after that pattern element, or -1. */
function matchOne(pattern: string, p: number, ch: number): number {
  const c = pattern[p]!
  if (c === '?') return p + 1
  if (c === '\\' && p + 1 < pattern.length) return pattern.charCodeAt(p + 1) === ch ? p + 2 : -1
  if (c !== '[') return pattern.charCodeAt(p) === ch ? p + 1 : -1
  let i = p + 1
  const negate = pattern[i] === '^'
  if (negate) i++
  let found = false
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      if (pattern.charCodeAt(i + 1) === ch) found = true
      i += 2
    } else if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      let lo = pattern.charCodeAt(i)
      let hi = pattern.charCodeAt(i + 2)
      if (lo > hi) [lo, hi] = [hi, lo]
      if (ch >= lo && ch <= hi) found = true
      i += 3
    } else {
      if (pattern.charCodeAt(i) === ch) found = true
      i++
    }
  }
  // An unclosed class runs to the end of the pattern (as in Redis).
  const after = i < pattern.length ? i + 1 : i
  return found !== negate ? after : -1
}
