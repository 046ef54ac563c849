/** A message the relay cannot accept: the connection is closed with a protocol error. */
import { CloseCode } from '@tidekv/core'

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  /** Why, as `/metrics` counts it (`tidekv_rejected_connections_total{reason}`). */
  readonly reason: string
  /** The close code: 1002 (protocol error) unless said otherwise. */
  readonly code: number

  constructor(message: string, options?: { cause?: unknown; reason?: string; code?: number }) {
    super(message, options)
    this.reason = options?.reason ?? 'protocol-error'
    this.code = options?.code ?? CloseCode.PROTOCOL_ERROR
  }
}
