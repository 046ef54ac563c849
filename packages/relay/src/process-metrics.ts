/**
 * prom-client's default metrics (CPU, memory, heap, event-loop lag, GC, open
 * handles and requests: what shows a stalled relay) in a registry, with a way
 * to stop them.
 *
 * `collectDefaultMetrics` (prom-client 15) starts two things it gives no way
 * to stop: an event-loop delay histogram (`perf_hooks.monitorEventLoopDelay`,
 * a timer sampling every 10 ms) and a `PerformanceObserver` of GC entries
 * (prometheus/client_js issues 494 and 500). Every closed relay would leave
 * both running. They are captured as prom-client creates them: the two
 * `perf_hooks` exports are wrapped for the duration of the call, which is
 * synchronous, so nothing else can create either meanwhile.
 */
import perfHooks, { type IntervalHistogram, type PerformanceObserver, type PerformanceObserverCallback } from 'node:perf_hooks'
import { collectDefaultMetrics, type Registry } from 'prom-client'

/** Registers the process metrics in `register`; returns what stops their monitors. */
export function collectProcessMetrics(register: Registry): () => void {
  const histograms: IntervalHistogram[] = []
  const observers: PerformanceObserver[] = []
  const { monitorEventLoopDelay, PerformanceObserver: Observer } = perfHooks
  perfHooks.monitorEventLoopDelay = (options) => {
    const histogram = monitorEventLoopDelay(options)
    histograms.push(histogram)
    return histogram
  }
  perfHooks.PerformanceObserver = class extends Observer {
    constructor(callback: PerformanceObserverCallback) {
      super(callback)
      observers.push(this)
    }
  }
  try {
    collectDefaultMetrics({ register })
  } finally {
    perfHooks.monitorEventLoopDelay = monitorEventLoopDelay
    perfHooks.PerformanceObserver = Observer
  }
  return () => {
    for (const histogram of histograms.splice(0)) histogram.disable()
    for (const observer of observers.splice(0)) observer.disconnect()
  }
}
