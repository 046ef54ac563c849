import { expect, it } from 'vitest'
import { FORMAT_VERSION, stampOf } from './entry.js'
import { createCounterEntry, createValueEntry, decodeEntry, decodeEntryAddress, decodeEntryValue } from './entry-codec.js'

const stamp = { wall: 1_700_000_000_000, counter: 3, replica: 42 }

it('a value entry decodes to its key, stamp, expiry and value', () => {
  const e = createValueEntry('user:1', stamp, 1_700_000_060_000, { a: [1, 'x', null] })
  const d = decodeEntry(e.bytes, 42, 7, false)
  expect([d.key, d.kind, stampOf(d.stamp), d.expiresAt, d.client, d.clock]).toEqual(['user:1', 0, stamp, 1_700_000_060_000, 42, 7])
  expect(decodeEntryValue(d)).toEqual({ a: [1, 'x', null] })
  expect(decodeEntryAddress(e.bytes)?.key).toBe('user:1')
  expect(e.bytes[0]! >> 4).toBe(FORMAT_VERSION)
})

it('a counter entry decodes to its epoch and sum', () => {
  const e = createCounterEntry('n', stamp, 0, { wall: 5, counter: 1, replica: 9 }, -12)
  const d = decodeEntry(e.bytes, 42, 0, true)
  expect([d.kind, d.epoch, d.sum, d.expiresAt]).toEqual([1, { wall: 5, counter: 1, replica: 9 }, -12, 0])
})

it('bytes that are not an entry are refused with INVALID_ENTRY', () => {
  const bad = [new Uint8Array([]), new Uint8Array([0x20, 1, 97]), new Uint8Array([0x10, 0]), new Uint8Array([0x10, 1, 97, 1, 1, 200])]
  for (const bytes of bad) expect(() => decodeEntry(bytes, 1, 1, true)).toThrow(expect.objectContaining({ code: 'INVALID_ENTRY' }))
  // A value that decodes to something TideKV never writes (undefined) is refused too.
  const undef = createValueEntry('k', stamp, 0, null)
  const bytes = undef.bytes.slice()
  bytes[bytes.length - 1] = 127
  expect(() => decodeEntry(bytes, 1, 1, true)).toThrow(expect.objectContaining({ code: 'INVALID_ENTRY' }))
})
