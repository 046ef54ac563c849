/**
 * The relay's counters, exposed at `GET /metrics` in Prometheus text format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */

/** Upper bounds (seconds) of the storage write latency histogram. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

export class Metrics {
  connections = 0
  roomsLoaded = 0
  messagesIn = 0
  messagesOut = 0
  bytesIn = 0
  bytesOut = 0
  readonly rejected = new Map<string, number>()
  private readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0)
  private writeCount = 0
  private writeSum = 0

  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1)
  }

  storageWrite(seconds: number): void {
    this.writeCount++
    this.writeSum += seconds
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) this.buckets[i]!++
  }

  /** Prometheus text exposition. */
  render(): string {
    const lines: string[] = []
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`)
    }
    metric('tidekv_connections', 'gauge', 'Open WebSocket connections.', [['', this.connections]])
    metric('tidekv_rooms_loaded', 'gauge', 'Rooms loaded in memory.', [['', this.roomsLoaded]])
    metric('tidekv_messages_received_total', 'counter', 'WebSocket messages received.', [['', this.messagesIn]])
    metric('tidekv_messages_sent_total', 'counter', 'WebSocket messages sent.', [['', this.messagesOut]])
    metric('tidekv_bytes_received_total', 'counter', 'Bytes received in WebSocket messages.', [['', this.bytesIn]])
    metric('tidekv_bytes_sent_total', 'counter', 'Bytes sent in WebSocket messages.', [['', this.bytesOut]])
    metric(
      'tidekv_rejected_connections_total',
      'counter',
      'Connections refused or closed by the relay, by reason.',
      [...this.rejected].map(([reason, n]) => [`{reason="${reason}"}`, n]),
    )
    lines.push('# HELP tidekv_storage_write_seconds Latency of durable storage writes.', '# TYPE tidekv_storage_write_seconds histogram')
    LATENCY_BUCKETS.forEach((le, i) => lines.push(`tidekv_storage_write_seconds_bucket{le="${le}"} ${this.buckets[i]}`))
    lines.push(`tidekv_storage_write_seconds_bucket{le="+Inf"} ${this.writeCount}`)
    lines.push(`tidekv_storage_write_seconds_sum ${this.writeSum}`, `tidekv_storage_write_seconds_count ${this.writeCount}`)
    return lines.join('\n') + '\n'
  }
}
