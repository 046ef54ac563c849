/**
 * The TideKV relay protocol: y-websocket's framing (one varUint message type,
 * then the payload; room = URL path, parameters in the query string) plus one
 * TideKV message. See docs/PROTOCOL.md.
 */

/** Message types. 0-3 are y-websocket's; stock clients never receive the others. */
export const MessageType = {
  /** y-protocols sync: step 1 (state vector), step 2 (missing updates), update. */
  SYNC: 0,
  /** y-protocols awareness update. */
  AWARENESS: 1,
  /** y-protocols auth: the relay tells a read-only client its writes are refused. */
  AUTH: 2,
  /** Ask for every awareness state. */
  QUERY_AWARENESS: 3,
  /**
   * TideKV: relay → client, `varUint8Array` state vector of what the relay has
   * durably stored for the room; client → relay, empty: please send it now.
   * Sent only to clients that connected with `acks=1`.
   */
  PERSISTED: 100,
  /**
   * TideKV pub/sub: client → relay, `varUint` op then SUBSCRIBE (0) /
   * UNSUBSCRIBE (1) `varString` channel, PSUBSCRIBE (2) / PUNSUBSCRIBE (3)
   * `varString` glob pattern, or PUBLISH (4) `varString` channel,
   * `varUint8Array` id, `varUint8Array` message (an encoded TideKV value);
   * relay → client, PUBLISH only, and only to connections subscribed to it.
   */
  PUBSUB: 101,
} as const

/** The ops of a PUBSUB message. */
export const PubSubOp = {
  SUBSCRIBE: 0,
  UNSUBSCRIBE: 1,
  PSUBSCRIBE: 2,
  PUNSUBSCRIBE: 3,
  PUBLISH: 4,
} as const

/** Query parameters of the WebSocket URL. */
export const QueryParam = {
  /** A signed token (see the relay's `createToken`). */
  TOKEN: 'token',
  /** `1`: the client understands PERSISTED messages and wants them. */
  ACKS: 'acks',
} as const

/**
 * WebSocket close codes the relay uses. 1000-1015 are RFC 6455's; 4400-4499
 * tell y-websocket clients not to reconnect (the server decided), 4500-4599 to
 * try again later.
 */
export const CloseCode = {
  NORMAL: 1000,
  /** The relay is shutting down. */
  GOING_AWAY: 1001,
  /** A frame that is not a valid message (malformed, unknown type, over the decode budget). */
  PROTOCOL_ERROR: 1002,
  /** Policy: too many messages per second. */
  POLICY_VIOLATION: 1008,
  /** A frame larger than the relay's limit. */
  MESSAGE_TOO_BIG: 1009,
  /** The relay failed internally. */
  INTERNAL_ERROR: 1011,
  /** The client reads too slowly (its send buffer stayed over the limit), or the room is full. */
  TRY_AGAIN_LATER: 1013,
  /** The token expired while connected. */
  TOKEN_EXPIRED: 4401,
  /** An update wrote a key outside the token's write rules (`rules.write`): nothing of it was applied. */
  FORBIDDEN: 4403,
} as const
