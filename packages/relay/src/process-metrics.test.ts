/**
 * The process metrics: prom-client's default metrics in the registry given
 * (never the global one), and a stop function that really stops the
 * event-loop delay monitor and the GC observer prom-client starts for them.
 */
import perfHooks from 'node:perf_hooks'
import { register as globalRegistry, Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { collectProcessMetrics } from './process-metrics.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('collectProcessMetrics', () => {
  it('registers CPU, memory, heap, event-loop lag, GC and handle metrics in the given registry, not the global one', async () => {
    const registry = new Registry()
    const stop = collectProcessMetrics(registry)
    try {
      const text = await registry.metrics()
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_gc_duration_seconds',
        'nodejs_active_handles_total',
      ]) {
        expect(text).toContain(`# TYPE ${name} `)
      }
      expect(globalRegistry.getSingleMetric('nodejs_eventloop_lag_seconds')).toBeUndefined()
    } finally {
      stop()
    }
  })

  it('can run for many registries in one process (each relay has its own)', async () => {
    const registries = [new Registry(), new Registry(), new Registry()]
    const stops = registries.map((r) => collectProcessMetrics(r))
    for (const r of registries) expect(await r.metrics()).toContain('nodejs_heap_size_used_bytes')
    for (const stop of stops) stop()
  })

  it('stop() disables the event-loop delay histogram and disconnects the GC observer it started', () => {
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay')
    const observe = vi.spyOn(perfHooks.PerformanceObserver.prototype, 'observe')
    const disconnect = vi.spyOn(perfHooks.PerformanceObserver.prototype, 'disconnect')
    const stop = collectProcessMetrics(new Registry())

    expect(monitor).toHaveBeenCalledTimes(1)
    const histogram = monitor.mock.results[0]!.value as perfHooks.IntervalHistogram // reason: the spy wraps monitorEventLoopDelay, which returns one
    expect(observe).toHaveBeenCalledTimes(1)
    expect(observe.mock.calls[0]![0]).toEqual({ entryTypes: ['gc'] })
    const observer = observe.mock.contexts[0]
    // enable() answers false when the histogram already runs (and then changes nothing)
    expect(histogram.enable()).toBe(false)
    expect(disconnect).not.toHaveBeenCalled()

    stop()
    // disable() answers false when the histogram was already stopped
    expect(histogram.disable()).toBe(false)
    expect(disconnect).toHaveBeenCalledTimes(1)
    expect(disconnect.mock.contexts[0]).toBe(observer)
  })

  it('leaves perf_hooks as it found it, even when prom-client throws', () => {
    const { monitorEventLoopDelay, PerformanceObserver } = perfHooks
    const registry = new Registry()
    const stop = collectProcessMetrics(registry)
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay)
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver)
    // The same names twice in one registry: prom-client refuses.
    expect(() => collectProcessMetrics(registry)).toThrow(/already been registered/)
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay)
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver)
    stop()
  })
})
