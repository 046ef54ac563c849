/**
 * Preloaded (`--import`) into each relay child of `npm run bench:relay`, the
 * TideKV relay's CLI and the stock server alike, so both get the same
 * treatment: over the IPC channel it answers `{ id, cmd: 'stats' }` with the
 * process's memory (after two full collections when the child runs with
 * --expose-gc), CPU time and open TCP sockets. It touches nothing of the
 * relay. If the bench process goes away (the IPC channel closes), the relay
 * is sent SIGTERM, so a crashed bench leaves no relay behind.
 */
import type { Reply, Request } from './children.js'

export interface ProbeStats {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  /** process.cpuUsage(), microseconds. */
  cpuUser: number
  cpuSystem: number
  /** Open TCP sockets (accepted WebSocket connections; the listening socket is not one). */
  sockets: number
}

const collect = (globalThis as { gc?: () => void }).gc // reason: gc is a global only with --expose-gc, which no lib types

function stats(gc: boolean): ProbeStats {
  if (gc && collect !== undefined) {
    collect()
    collect()
  }
  const m = process.memoryUsage()
  const cpu = process.cpuUsage()
  const sockets = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, cpuUser: cpu.user, cpuSystem: cpu.system, sockets }
}

if (process.send !== undefined) {
  process.on('message', (message: Request) => {
    // `gc`: collect garbage first (needs --expose-gc).
    const reply: Reply = message?.cmd === 'stats' ? { id: message.id, result: stats(message.gc === true) } : { id: message?.id, error: `unknown command ${message?.cmd}` }
    process.send?.(reply)
  })
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  // The relay's own handles keep the process alive, not the probe's channel.
  process.channel?.unref()
}
