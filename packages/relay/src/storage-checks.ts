/**
 * Argument checks every RelayStorage adapter makes, so that the twins reject
 * the same calls with the same messages.
 */

// SQLite stores text as UTF-8, where a lone surrogate cannot be written: it
// comes back as U+FFFD, so `rooms()` would list a name nobody used. With the
// `u` flag a surrogate pair is one code point, so only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u

/** A room name short enough to quote in an error message. */
export function quoteRoom(room: string): string {
  return JSON.stringify(room.length > 64 ? `${room.slice(0, 64)}…` : room)
}

/**
 * Throws unless `room` can be stored and listed back unchanged.
 *
 * @throws Error when the name holds a lone surrogate (not well-formed Unicode).
 */
export function checkRoom(room: string): void {
  if (LONE_SURROGATE.test(room)) {
    throw new Error(`Room name ${quoteRoom(room)} is not well-formed Unicode (it has a lone surrogate)`)
  }
}

/**
 * Throws unless `upToSeq` names an update the room has: a compaction up to a
 * later seq would claim updates that were never stored (or that a
 * `deleteRoom` removed since the caller loaded the room).
 *
 * @throws Error when `upToSeq` is not an integer in 1..`lastSeq`.
 */
export function checkUpToSeq(room: string, upToSeq: number, lastSeq: number): void {
  if (!Number.isSafeInteger(upToSeq) || upToSeq < 1 || upToSeq > lastSeq) {
    throw new Error(`Cannot compact room ${quoteRoom(room)} up to seq ${upToSeq}: its last seq is ${lastSeq}`)
  }
}
