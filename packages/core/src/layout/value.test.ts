import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { readString, readValue, writeString } from './value.js'

const encode = (write: (enc: encoding.Encoder) => void): Uint8Array => {
  const enc = encoding.createEncoder()
  write(enc)
  return encoding.toUint8Array(enc)
}
const read = (bytes: Uint8Array) => readString(decoding.createDecoder(bytes))

describe('readString', () => {
  it('reads what lib0 writes, short or long, ASCII or not, and leaves the decoder after it', () => {
    const samples = ['', 'a', 'dark', 'x'.repeat(16), 'x'.repeat(17), 'é', 'naïve', '🦀 crab', 'x'.repeat(300), '\u0000\u007f']
    for (const s of samples) {
      const bytes = encode((enc) => {
        encoding.writeVarString(enc, s)
        encoding.writeUint8(enc, 42)
      })
      const dec = decoding.createDecoder(bytes)
      expect(readString(dec)).toBe(s)
      expect(decoding.readUint8(dec)).toBe(42)
    }
  })

  it('gives the same string for the same short ASCII bytes, so values repeated across keys share it', () => {
    const bytes = encode((enc) => writeString(enc, 'pending'))
    const [a, b] = [read(bytes), read(bytes.slice())]
    expect(a).toBe('pending')
    expect(a).toBe(b)
    // Many strings (colliding in the cache) are each still read right.
    const many = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36)}`)
    for (const s of many) expect(read(encode((enc) => writeString(enc, s)))).toBe(s)
    for (const s of many.slice(0, 100)) expect(read(encode((enc) => writeString(enc, s)))).toBe(s)
  })

  it('throws on a truncated string, as lib0 does', () => {
    const bytes = encode((enc) => writeString(enc, 'truncated'))
    expect(() => read(bytes.subarray(0, 5))).toThrow()
    expect(() => read(new Uint8Array([]))).toThrow()
  })

  it('reads object keys and string values of a value through it', () => {
    const bytes = encode((enc) => encoding.writeAny(enc, { theme: 'dark', lang: 'en', tags: ['a', 'é'] }))
    expect(readValue(decoding.createDecoder(bytes))).toEqual({ theme: 'dark', lang: 'en', tags: ['a', 'é'] })
  })
})
