/**
 * The relay's metrics as Prometheus scrapes them: the names, types and labels
 * dashboards rely on, totals that keep counting across scrapes, one registry
 * per relay, and the frozen snapshot `relay.metrics` hands out.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Metrics, type MetricsSources } from './metrics.js'

const open: Metrics[] = []
afterEach(() => {
  for (const m of open.splice(0)) m.close()
})
function newMetrics(sources: MetricsSources = { connections: () => 0, roomsLoaded: () => 0 }): Metrics {
  const metrics = new Metrics(sources)
  open.push(metrics)
  return metrics
}
const lines = (text: string) => text.split('\n')

describe('Metrics', () => {
  it('renders the relay metrics with their names, types and labels, in Prometheus text format', async () => {
    const metrics = newMetrics({ connections: () => 3, roomsLoaded: () => 2 })
    metrics.messagesIn = 5
    metrics.messagesOut = 7
    metrics.bytesIn = 500
    metrics.bytesOut = 700
    metrics.reject('rate-limit')
    metrics.reject('rate-limit')
    metrics.reject('token-expired')
    metrics.storageWrite(0.002)
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = lines(await metrics.render())
    expect(text).toEqual(
      expect.arrayContaining([
        '# TYPE tidekv_connections gauge',
        'tidekv_connections 3',
        '# TYPE tidekv_rooms_loaded gauge',
        'tidekv_rooms_loaded 2',
        '# TYPE tidekv_messages_received_total counter',
        'tidekv_messages_received_total 5',
        '# TYPE tidekv_messages_sent_total counter',
        'tidekv_messages_sent_total 7',
        '# TYPE tidekv_bytes_received_total counter',
        'tidekv_bytes_received_total 500',
        '# TYPE tidekv_bytes_sent_total counter',
        'tidekv_bytes_sent_total 700',
        '# TYPE tidekv_rejected_connections_total counter',
        'tidekv_rejected_connections_total{reason="rate-limit"} 2',
        'tidekv_rejected_connections_total{reason="token-expired"} 1',
        '# TYPE tidekv_storage_write_seconds histogram',
        'tidekv_storage_write_seconds_bucket{le="0.001"} 0',
        'tidekv_storage_write_seconds_bucket{le="0.0025"} 1',
        'tidekv_storage_write_seconds_bucket{le="1"} 1',
        'tidekv_storage_write_seconds_bucket{le="+Inf"} 1',
        'tidekv_storage_write_seconds_sum 0.002',
        'tidekv_storage_write_seconds_count 1',
      ]),
    )
  })

  it('also renders the process metrics that show a stalled relay: event-loop lag, heap, CPU, open handles', async () => {
    const text = await newMetrics().render()
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total', 'nodejs_active_handles_total']) {
      expect(text).toContain(`# TYPE ${name} `)
    }
  })

  it('counters are totals: a scrape neither resets nor doubles them', async () => {
    const metrics = newMetrics()
    metrics.messagesIn = 4
    metrics.reject('origin')
    await metrics.render()
    expect(lines(await metrics.render())).toEqual(expect.arrayContaining(['tidekv_messages_received_total 4', 'tidekv_rejected_connections_total{reason="origin"} 1']))
    metrics.messagesIn += 3
    metrics.reject('origin')
    metrics.reject('bad-room')
    expect(lines(await metrics.render())).toEqual(
      expect.arrayContaining([
        'tidekv_messages_received_total 7',
        'tidekv_rejected_connections_total{reason="origin"} 2',
        'tidekv_rejected_connections_total{reason="bad-room"} 1',
      ]),
    )
  })

  it('each instance has its own registry: two relays in one process count separately', async () => {
    const a = newMetrics()
    const b = newMetrics()
    a.messagesIn = 10
    a.reject('room-full')
    const textB = lines(await b.render())
    expect(textB).toContain('tidekv_messages_received_total 0')
    expect(textB.some((line) => line.startsWith('tidekv_rejected_connections_total{'))).toBe(false)
    expect(lines(await a.render())).toContain('tidekv_messages_received_total 10')
  })

  it('snapshot(): the counts at that moment, frozen', () => {
    let connections = 1
    const metrics = newMetrics({ connections: () => connections, roomsLoaded: () => 1 })
    metrics.messagesIn = 2
    metrics.bytesIn = 20
    metrics.messagesOut = 3
    metrics.bytesOut = 30
    metrics.reject('heartbeat')
    metrics.webhook('delivered')
    metrics.webhook('dropped', 3)
    const snapshot = metrics.snapshot()
    expect(snapshot).toEqual({
      connections: 1,
      roomsLoaded: 1,
      messagesReceived: 2,
      messagesSent: 3,
      bytesReceived: 20,
      bytesSent: 30,
      rejected: { heartbeat: 1 },
      slicedUpdates: 0,
      webhooks: { delivered: 1, dropped: 3 },
    })
    expect(Object.isFrozen(snapshot) && Object.isFrozen(snapshot.rejected)).toBe(true)
    connections = 2
    metrics.reject('heartbeat')
    expect(snapshot.connections).toBe(1)
    expect(snapshot.rejected.heartbeat).toBe(1)
    expect(metrics.snapshot()).toMatchObject({ connections: 2, rejected: { heartbeat: 2 } })
  })
})
