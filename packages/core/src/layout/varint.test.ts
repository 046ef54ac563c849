/**
 * readSafeVarUint reads what lib0 writes and refuses what lib0's own reader
 * would turn into Infinity or an imprecise number.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { readSafeVarUint } from './varint.js'

const read = (bytes: number[]) => readSafeVarUint(decoding.createDecoder(new Uint8Array(bytes)))

describe('readSafeVarUint', () => {
  it('reads every safe integer lib0 writes, to the last one', () => {
    for (const n of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, n)
      const dec = decoding.createDecoder(encoding.toUint8Array(enc))
      expect(readSafeVarUint(dec)).toBe(n)
      expect(decoding.hasContent(dec)).toBe(false)
    }
  })

  it('refuses the 147-byte varint that lib0 reads as Infinity', () => {
    const attack = [...new Array<number>(146).fill(0x80), 0x7f]
    expect(decoding.readVarUint(decoding.createDecoder(new Uint8Array(attack)))).toBe(Infinity) // what lib0 does
    expect(() => read(attack)).toThrow(RangeError)
  })

  it('refuses 2^53 and beyond, and more than 8 bytes even when small', () => {
    for (const [n, message] of [
      [2 ** 53, /2\^53/],
      [2 ** 55, /2\^53/],
      [2 ** 60, /longer than 8/],
    ] as const) {
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, n)
      expect(() => readSafeVarUint(decoding.createDecoder(encoding.toUint8Array(enc)))).toThrow(message)
    }
    expect(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).toThrow(/longer than 8/)
  })

  it('refuses a varint cut short', () => {
    expect(() => read([0x80, 0x80])).toThrow(/truncated/)
  })
})
