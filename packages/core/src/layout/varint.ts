/**
 * A varUint reader for bytes that come from the network or from disk.
 *
 * lib0's `readVarUint` guards against overflow only after a non-zero group:
 * a run of `0x80` bytes grows its multiplier to Infinity, and a last group
 * multiplies it, so 146 × `0x80` then `0x7f` reads as `Infinity`. Written
 * back with `writeVarUint`, Infinity never ends its loop. Everything a peer
 * sends that is then kept, compared or echoed (entry stamps and expiries, a
 * PERSISTED request id) goes through this reader instead: it reads the same
 * encoding but refuses more than 8 bytes and anything past 2^53 - 1.
 */
import * as decoding from 'lib0/decoding'

/** A varUint's longest honest encoding: 8 groups of 7 bits hold 2^53 - 1. */
const MAX_BYTES = 8

/**
 * Reads a lib0 varUint that must be a safe integer.
 * @throws RangeError when it is longer than 8 bytes, past 2^53 - 1, or truncated
 */
export function readSafeVarUint(decoder: decoding.Decoder): number {
  const arr = decoder.arr
  let num = 0
  let mult = 1
  for (let n = 0; n < MAX_BYTES; n++) {
    if (decoder.pos >= arr.length) throw new RangeError('truncated varint')
    const b = arr[decoder.pos++]!
    num += (b & 0x7f) * mult
    if (b < 0x80) {
      if (num > Number.MAX_SAFE_INTEGER) throw new RangeError('varint past 2^53 - 1')
      return num
    }
    mult *= 128
  }
  throw new RangeError(`varint longer than ${MAX_BYTES} bytes`)
}
