#!/usr/bin/env node
/**
 * `npm run start:cluster`: the demo served by two relays that share rooms
 * through one Redis (issue 11), all on this machine and all throwaway: a
 * `redis-server` with AOF (`appendfsync always`) in a temporary folder on a
 * free port, and two relays (`--redis`) on ports 8787 and 8788 (or
 * TIDEKV_PORT and TIDEKV_PORT + 1) serving demo/dist. Open both URLs: the
 * pages converge through different relays, and each page's status bar shows
 * the relay it is on. Ctrl-C stops everything and removes the folder.
 * Run after `npm run build` (the npm script does).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout } from 'node:timers'

const base = Number(process.env.TIDEKV_PORT ?? 8787)
const redisBinary = process.env.TIDEKV_REDIS_SERVER ?? 'redis-server'
const dir = mkdtempSync(join(tmpdir(), 'tidekv-cluster-'))
const children = []

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })

let stopping = false
function stop(code) {
  if (stopping) return
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  // The relays close their rooms on SIGTERM; after a second, whatever is left is killed and the folder removed.
  setTimeout(() => {
    for (const child of children) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    process.exit(code)
  }, 1000)
}
process.once('SIGINT', () => stop(0))
process.once('SIGTERM', () => stop(0))

/** Spawns a child, prefixes its output, and resolves once a line matches `ready`. */
function start(name, command, args, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let done = false
    const onData = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue
        process.stdout.write(`[${name}] ${line}\n`)
        if (!done && ready.test(line)) {
          done = true
          resolve(child)
        }
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('error', (e) => reject(new Error(`${name}: could not run ${command} (${e.message}); run node scripts/ensure-system.mjs`)))
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${name} exited with ${code} before it was ready`))
      else if (!stopping) {
        console.error(`[${name}] exited with ${code}: stopping`)
        stop(1)
      }
    })
  })
}

try {
  const redisPort = await freePort()
  await start(
    'redis',
    redisBinary,
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
    /Ready to accept connections/,
  )
  const redis = `redis://127.0.0.1:${redisPort}`
  for (const port of [base, base + 1]) {
    await start(
      `relay :${port}`,
      process.execPath,
      ['packages/relay/dist/cli.js', '--allow-anonymous', '--static', 'demo/dist', '--port', String(port), '--redis', redis],
      /listening on/,
    )
  }
  console.log(
    `\nTwo relays sharing rooms through Redis at ${redis} (AOF in ${dir}):\n  http://127.0.0.1:${base}\n  http://127.0.0.1:${base + 1}\nOpen both; Ctrl-C stops everything.`,
  )
} catch (error) {
  console.error(`start:cluster: ${error instanceof Error ? error.message : String(error)}`)
  stop(1)
}
