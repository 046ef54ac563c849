/** The error `checkUpdate` throws for an update it refuses, with the stable code a relay closes the connection for. */
export type UpdateRejectedCode = 'MALFORMED_UPDATE' | 'UPDATE_OVER_BUDGET'

/** Why `checkUpdate` refused an update. */
export class UpdateRejected extends Error {
  override readonly name = 'UpdateRejected'
  /**
   * `MALFORMED_UPDATE`: not something a correct Yjs writes (truncated,
   * trailing bytes, bad varint, unknown content, zero-length or overlapping
   * ranges, invalid UTF-8 or JSON...): the sender is broken or hostile.
   * `UPDATE_OVER_BUDGET`: well-formed but over a limit of the budget.
   */
  readonly code: UpdateRejectedCode
  /** Short, stable name of the check that failed (e.g. 'truncated', 'maxStructs'). */
  readonly reason: string
  /** Byte offset where the problem was found. */
  readonly offset: number

  constructor(code: UpdateRejectedCode, reason: string, offset: number, detail?: string) {
    super(`${code}: ${reason}${detail ? ` (${detail})` : ''} at byte ${offset}`)
    this.code = code
    this.reason = reason
    this.offset = offset
  }
}
