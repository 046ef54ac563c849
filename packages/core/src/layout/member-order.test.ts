import { describe, expect, it } from 'vitest'
import { listOrder, listPosition, parseListPosition, parseStreamId, streamId, streamOrder } from './member-order.js'

describe('member order', () => {
  const stamps = [
    { wall: 1_700_000_000_000, counter: 0, replica: 1 },
    { wall: 1_700_000_000_000, counter: 7, replica: 4_294_967_295 },
    { wall: 5, counter: 2 ** 21 + 3, replica: 12345 },
  ]

  it('a list position parses back to the tuple the pushing replica ordered it by', () => {
    for (const stamp of stamps) {
      for (const side of ['L', 'R'] as const) expect(parseListPosition(listPosition(side, stamp, 3))).toEqual(listOrder(side, stamp, 3))
    }
  })

  it('a stream id parses back to the tuple its writer ordered it by, also past 2^53', () => {
    for (const stamp of stamps) expect(parseStreamId(streamId(stamp))).toEqual(streamOrder(stamp))
    expect(streamId(stamps[1]!)).toBe(`1700000000000-${7 * 2 ** 32 + 4_294_967_295}`)
  })
})
