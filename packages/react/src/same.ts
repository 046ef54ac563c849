/**
 * Whether a freshly read result is the same as the one a component already
 * has, so the hook can hand back the old reference and React skips the
 * render: values, arrays of them (keys, ranges, `[member, score]` pairs),
 * plain objects one level deep, and bytes compared by content (the store
 * hands out a fresh copy of a binary value on every read).
 */
export function same(a: unknown, b: unknown, depth = 2): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth === 0) return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i])
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i], depth - 1))
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  // reason: both are plain objects (checked above); their own fields are read by name
  const [ra, rb] = [a, b] as Record<string, unknown>[]
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && same(ra[k], rb[k], depth - 1))
}
