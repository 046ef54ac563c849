/** What a room needs of a connection (connection.ts is the one there is): who it is, what it may do, and how to reach it. */
import type { WriteRules } from '@tidekv/core'
import type { AccessMode } from './auth.js'

/** A connection as a room sees it. */
export interface Peer {
  readonly mode: AccessMode
  /** Its token's subject (`sub`), or "" (anonymous, or a token without one): who owns the client ids it writes under. */
  readonly subject: string
  /** The keys it may write (its token's `rules.write`), or null for the whole room; see write-rules-check.ts. */
  readonly rules: WriteRules | null
  /** Wants PERSISTED acknowledgements (a TideKV client). */
  readonly acks: boolean
  send(message: Uint8Array): void
  /**
   * Sends a sync answer of one message or many (a large room in pieces), as
   * the peer's socket drains; messages sent after it wait behind it. Its
   * messages are the room's own (shared by every peer that asks), so they do
   * not count as the peer's backlog.
   */
  sendAnswer(messages: readonly Uint8Array[]): void
  /** Whether part of an earlier answer is still waiting to be sent (then a new sync step 1 is not answered). */
  readonly answering: boolean
  /** Handles a message of this peer that the room held back while it was busy (as if it had just arrived). */
  deliver(message: Uint8Array): void
  /** Closes the peer's connection. */
  close(code: number, reason: string): void
}
