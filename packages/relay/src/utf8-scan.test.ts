/**
 * The UTF-8 and JSON scanner agrees with the decoders it stands in for:
 * `utf16Length` with `TextDecoder('utf-8', { fatal: true })` (lib0 decodes
 * Yjs strings that way), `checkJson` with `JSON.parse` (Yjs parses
 * ContentJSON and ContentEmbed that way), on seeded random inputs.
 *
 * Seeded: the seed is printed, `TIDEKV_SEED=<n>` replays (default: a fixed seed).
 */
import { describe, expect, it } from 'vitest'
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { checkJson, JSON_INVALID, JSON_OK, JSON_TOO_DEEP, utf16Length } from './utf8-scan.js'

/** Each seeded test draws from sequence seed k of this run (k = 0, 1). */
const SEED = baseSeed(0x75f85ca7)
console.log(`utf8-scan.test: ${replayHint(SEED)}`)
const where = (extra: string) => `${replayHint(SEED)} ${extra}`
const utf8 = (text: string) => new TextEncoder().encode(text)

/** `checkJson` over all of `text`, nesting at most `maxDepth` deep. */
function scan(text: string, maxDepth = 64): number {
  const bytes = utf8(text)
  return checkJson(bytes, 0, bytes.length, maxDepth, new Uint8Array(maxDepth + 2))
}

describe('utf16Length', () => {
  it('is the decoded length in UTF-16 code units, or -1 where TextDecoder (fatal) throws: 5,000 random byte strings', () => {
    const rng = new Random(sequenceSeed(SEED, 0))
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
    // valid 2-, 4-, 3-byte sequences, a surrogate, overlongs, past U+10FFFF, a BOM, stray and truncated bytes
    const pieces = [
      [0xc3, 0xa9],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xed, 0xa0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xc0, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xef, 0xbb, 0xbf],
      [0x61],
      [0x80],
      [0xff],
      [0xe2, 0x82],
      [0xf0, 0x9f],
    ]
    for (let n = 0; n < 5000; n++) {
      const bytes: number[] = []
      for (let k = rng.int(0, 6); k > 0; k--) bytes.push(...rng.pick(pieces))
      if (rng.chance(0.5)) bytes.push(rng.int(0, 255))
      const arr = new Uint8Array(bytes)
      let expected = -1
      try {
        expected = decoder.decode(arr).length
      } catch {
        // invalid UTF-8: -1
      }
      expect(utf16Length(arr, 0, arr.length), where(`utf8 ${Buffer.from(arr).toString('hex')}`)).toBe(expected)
    }
  })

  it('reads only [start, end): a sequence cut by `end` is invalid, bytes outside do not count', () => {
    const bytes = new Uint8Array([0xff, ...utf8('aé😀'), 0xff])
    expect(utf16Length(bytes, 1, bytes.length - 1)).toBe(4) // a, é, and a surrogate pair
    expect(utf16Length(bytes, 1, bytes.length - 2)).toBe(-1) // the emoji's last byte left out
    expect(utf16Length(bytes, 1, 1)).toBe(0)
  })
})

describe('checkJson', () => {
  it('accepts exactly what JSON.parse accepts: 10,000 seeded mutations of JSON texts', () => {
    const rng = new Random(sequenceSeed(SEED, 1))
    const seeds = ['{"a":[1,2.5e-3,{"b":null}],"c":"\\u0041\\n"}', '[true,false,null,-0,"x"]', '"s"', '0', '{}', '[]', ' 1 ', '{"é":"😀"}', '[1E+2,0.5,-1e-0]']
    const junk = ['', ' ', ',', ':', '[', ']', '{', '}', '"', '\\', 'e', 'E', '+', '-', '.', '0', '1', 'tru', 'nul', '\u0001', '\t', '\n', 'é', 'undefined', '\\u12', '\\x']
    let valid = 0
    for (let n = 0; n < 10_000; n++) {
      const text = rng.mutate(rng.pick(seeds), junk)
      let parses = true
      try {
        JSON.parse(text)
      } catch {
        parses = false
      }
      if (parses) valid++
      expect(scan(text), where(`JSON ${JSON.stringify(text)}`)).toBe(parses ? JSON_OK : JSON_INVALID)
    }
    expect(valid).toBeGreaterThan(500)
  })

  it('refuses nesting deeper than maxDepth with JSON_TOO_DEEP, without recursion (100,000 levels)', () => {
    expect(scan('[[[]]]', 3)).toBe(JSON_OK)
    expect(scan('[[[[]]]]', 3)).toBe(JSON_TOO_DEEP)
    expect(scan('{"a":{"b":{"c":1}}}', 3)).toBe(JSON_OK)
    expect(scan('{"a":{"b":{"c":{}}}}', 3)).toBe(JSON_TOO_DEEP)
    expect(scan('1', 0)).toBe(JSON_OK)
    expect(scan('[]', 0)).toBe(JSON_TOO_DEEP)
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    expect(scan(deep, 100_000)).toBe(JSON_OK)
    expect(scan(deep, 99_999)).toBe(JSON_TOO_DEEP)
  })

  it('reads only [start, end): a value must fill the range exactly', () => {
    const bytes = utf8('x[1,2]x')
    const stack = new Uint8Array(4)
    expect(checkJson(bytes, 1, 6, 2, stack)).toBe(JSON_OK)
    expect(checkJson(bytes, 1, 5, 2, stack)).toBe(JSON_INVALID)
    expect(checkJson(bytes, 0, 6, 2, stack)).toBe(JSON_INVALID)
    expect(checkJson(bytes, 1, 1, 2, stack)).toBe(JSON_INVALID) // nothing is not a JSON text
  })
})
