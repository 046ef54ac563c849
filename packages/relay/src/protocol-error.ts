/** A message the relay cannot accept: the connection is closed with a protocol error. */
import { CloseCode } from '@tidekv/core'

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  /** Why, as `/metrics` counts it (`tidekv_rejected_connections_total{reason}`). */
  readonly reason: string
  /** The close code: 1002 (protocol error) unless said otherwise. */
  readonly code: number
  /** The reason sent with the close frame (at most 123 bytes of UTF-8). */
  readonly closeReason: string

  constructor(message: string, options?: { cause?: unknown; reason?: string; code?: number; closeReason?: string }) {
    super(message, options)
    this.reason = options?.reason ?? 'protocol-error'
    this.code = options?.code ?? CloseCode.PROTOCOL_ERROR
    this.closeReason = truncateUtf8(options?.closeReason ?? 'invalid message', 123)
  }
}

/** `text` cut to at most `max` bytes of UTF-8, at a character boundary. */
function truncateUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text
  let out = ''
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > max - 3) break
    out += ch
  }
  return `${out}...`
}
