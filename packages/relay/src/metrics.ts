/**
 * The relay's metrics, served at `GET /metrics` by prom-client in Prometheus
 * text format (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * its own (connections, rooms, messages, bytes, rejections, storage write
 * latency) and prom-client's process metrics (see process-metrics.ts).
 *
 * One registry per relay, never prom-client's global one: a process may run
 * several relays (the tests do), and each must report only its own counts.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { collectProcessMetrics } from './process-metrics.js'

/** Upper bounds (seconds) of the storage write latency histogram. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

/** The relay's counts at one moment (`relay.metrics`); latency and process metrics are at `GET /metrics`. */
export interface RelayMetrics {
  /** Open WebSocket connections. */
  readonly connections: number
  /** Rooms loaded in memory. */
  readonly roomsLoaded: number
  readonly messagesReceived: number
  readonly messagesSent: number
  readonly bytesReceived: number
  readonly bytesSent: number
  /** Connections refused or closed by the relay, by reason ('rate-limit', 'token-expired', ...). */
  readonly rejected: Readonly<Record<string, number>>
  /** Updates large enough to be applied in slices, a slice per event-loop turn. */
  readonly slicedUpdates: number
  /** Webhook POSTs by result ('delivered', 'failed'), and changes dropped from a full outbox ('dropped'). */
  readonly webhooks: Readonly<Record<string, number>>
}

/** What the gauges read when scraped. */
export interface MetricsSources {
  readonly connections: () => number
  readonly roomsLoaded: () => number
  /** With Redis: whether its connections are up (1) or not (0), the errors they reported, their reconnect attempts. */
  readonly redis?: { readonly up: () => number; readonly errors: () => number; readonly reconnects: () => number }
}

export class Metrics {
  // Plain fields, read by prom-client only when scraped: they change on every message.
  messagesIn = 0
  messagesOut = 0
  bytesIn = 0
  bytesOut = 0
  slicedUpdates = 0
  private readonly rejected = new Map<string, number>()
  private readonly webhookPosts = new Map<string, number>()
  private webhookDrops = 0
  private readonly registry = new Registry()
  private readonly writeLatency: Histogram
  private readonly redisLatency: Histogram<'op'> | undefined
  private readonly stopProcessMetrics: () => void

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry]
    new Gauge({ name: 'tidekv_connections', help: 'Open WebSocket connections.', registers, collect: gauge(sources.connections) })
    new Gauge({ name: 'tidekv_rooms_loaded', help: 'Rooms loaded in memory.', registers, collect: gauge(sources.roomsLoaded) })
    countsOf(this.registry, 'tidekv_messages_received_total', 'WebSocket messages received.', () => this.messagesIn)
    countsOf(this.registry, 'tidekv_messages_sent_total', 'WebSocket messages sent.', () => this.messagesOut)
    countsOf(this.registry, 'tidekv_bytes_received_total', 'Bytes received in WebSocket messages.', () => this.bytesIn)
    countsOf(this.registry, 'tidekv_bytes_sent_total', 'Bytes sent in WebSocket messages.', () => this.bytesOut)
    if (sources.redis !== undefined) {
      new Gauge({ name: 'tidekv_redis_up', help: 'Whether the relay is connected to Redis (1) or not (0).', registers, collect: gauge(sources.redis.up) })
      countsOf(this.registry, 'tidekv_redis_errors_total', 'Errors reported by the Redis connections.', sources.redis.errors)
      countsOf(this.registry, 'tidekv_redis_reconnects_total', 'Reconnect attempts of the Redis connections.', sources.redis.reconnects)
      this.redisLatency = new Histogram({
        name: 'tidekv_redis_command_seconds',
        help: 'Latency of what the relay asks Redis, by op: load (a room, or what a room missed), append, compact, publish.',
        labelNames: ['op'],
        buckets: LATENCY_BUCKETS,
        registers,
      })
    }
    countsOf(this.registry, 'tidekv_sliced_updates_total', 'Updates applied in slices, one per event-loop turn, to keep the relay responsive.', () => this.slicedUpdates)
    countsOf(this.registry, 'tidekv_rejected_connections_total', 'Connections refused or closed by the relay, by reason.', () => this.rejected, 'reason')
    countsOf(this.registry, 'tidekv_webhook_posts_total', 'Webhook POSTs, by result: delivered (2xx) or failed (retried).', () => this.webhookPosts, 'result')
    countsOf(this.registry, 'tidekv_webhook_dropped_total', 'Changed keys not queued for a webhook because its outbox was full.', () => this.webhookDrops)
    this.writeLatency = new Histogram({
      name: 'tidekv_storage_write_seconds',
      help: 'Latency of durable storage writes.',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.stopProcessMetrics = collectProcessMetrics(this.registry)
  }

  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1)
  }

  webhook(event: 'delivered' | 'failed' | 'dropped', n = 1): void {
    if (event === 'dropped') this.webhookDrops += n
    else this.webhookPosts.set(event, (this.webhookPosts.get(event) ?? 0) + n)
  }

  storageWrite(seconds: number): void {
    this.writeLatency.observe(seconds)
  }

  redisCommand(op: string, seconds: number): void {
    this.redisLatency?.observe({ op }, seconds)
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  /** The `Content-Type` of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType
  }

  snapshot(): RelayMetrics {
    return Object.freeze({
      connections: this.sources.connections(),
      roomsLoaded: this.sources.roomsLoaded(),
      messagesReceived: this.messagesIn,
      messagesSent: this.messagesOut,
      bytesReceived: this.bytesIn,
      bytesSent: this.bytesOut,
      rejected: Object.freeze(Object.fromEntries(this.rejected)),
      slicedUpdates: this.slicedUpdates,
      webhooks: Object.freeze({ ...Object.fromEntries(this.webhookPosts), dropped: this.webhookDrops }),
    })
  }

  /** Stops the process metrics' monitors (an event-loop timer, a GC observer). */
  close(): void {
    this.stopProcessMetrics()
  }
}

function gauge(read: () => number): (this: Gauge) => void {
  return function () {
    this.set(read())
  }
}

/**
 * A counter that reads its count from `read` when scraped, adding what was
 * counted since the scrape before (as prom-client's own CPU counters do).
 * With `label`, `read` gives a count per label value.
 */
function countsOf(registry: Registry, name: string, help: string, read: () => number): void
function countsOf(registry: Registry, name: string, help: string, read: () => ReadonlyMap<string, number>, label: string): void
function countsOf(registry: Registry, name: string, help: string, read: () => number | ReadonlyMap<string, number>, label?: string): void {
  const reported = new Map<string, number>()
  new Counter({
    name,
    help,
    labelNames: label === undefined ? [] : [label],
    registers: [registry],
    collect() {
      const counts = read()
      for (const [value, count] of typeof counts === 'number' ? [['', counts] as const] : counts) {
        const added = count - (reported.get(value) ?? 0)
        reported.set(value, count)
        if (label === undefined) this.inc(added)
        else this.inc({ [label]: value }, added)
      }
    },
  })
}
