/** The relay's limits, each an explicit option with a documented default. */
import { getHeapStatistics } from 'node:v8'

export interface RelayLimits {
  /** Largest WebSocket message; a larger frame closes that socket with 1009. Default 16 MiB. */
  maxMessageBytes: number
  /** Open connections over all rooms, and HTTP API requests in progress; more are refused with HTTP 503. Default 10,000. */
  maxConnections: number
  /** Open connections per room; more are refused with HTTP 503. Default 1,000. */
  maxConnectionsPerRoom: number
  /** Messages a connection may send per second, on average. Default 500. */
  messagesPerSecond: number
  /** Burst of messages allowed above that rate. Default 2,000. */
  messageBurst: number
  /** A connection whose unsent bytes stay above this is too slow: closed with 1013. Default 32 MiB. */
  maxBufferedBytes: number
  /** Ping interval; a peer that did not answer the previous ping is dropped. Default 30 s. */
  heartbeatMs: number
  /** A room with no connection is unloaded after this long. Default 30 s. */
  idleRoomMs: number
  /** Compact a room's stored log after this many updates. Default 500. */
  compactAfterUpdates: number
  /**
   * Heap the relay may fill before it refuses large updates (those applied in
   * slices, over 5,000 structs: about 0.6 KiB of heap each once applied)
   * with 1013, try again later. Default: 75% of V8's heap limit.
   */
  maxHeapBytes: number
  /**
   * Bytes of messages a room holds back while it applies a large update in
   * slices; past them, a sender is closed with 1013 (try again later). Default 32 MiB.
   */
  maxBacklogBytes: number
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerRoom: 1_000,
  messagesPerSecond: 500,
  messageBurst: 2_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  heartbeatMs: 30_000,
  idleRoomMs: 30_000,
  compactAfterUpdates: 500,
  maxHeapBytes: Math.floor(getHeapStatistics().heap_size_limit * 0.75),
  maxBacklogBytes: 32 * 1024 * 1024,
}
