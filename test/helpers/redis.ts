/**
 * A real `redis-server` for tests that compare TideKV with Redis: a child
 * process on 127.0.0.1 and a free port, with persistence off and its working
 * folder in a fresh temporary directory, plus an `ioredis` client on it.
 *
 * The test starts its own server and never uses the service Debian's package
 * may have started (nothing may be listening on 6379 in CI, or something
 * unrelated may be). `scripts/ensure-system.mjs` installs the binary;
 * TIDEKV_REDIS_SERVER overrides its path, as it does there.
 *
 * No test framework in here: the caller stops the server (`stop()`), e.g. in
 * `afterAll`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** Longest wait for the server to answer PING. */
const START_TIMEOUT_MS = 15_000
/** Between PING attempts while it starts. */
const POLL_MS = 25
/** Attempts at a fresh port when another process took ours between probing and binding. */
const BIND_ATTEMPTS = 5

export interface RedisServer {
  readonly port: number
  /** Connected over RESP2; `client.call('CMD', ...args)` gives the raw reply (strings, integers, null, arrays). */
  readonly client: Redis
  /** Everything the server logged so far. */
  output(): string
  /** Disconnects the client, kills the server, removes its folder. */
  stop(): Promise<void>
  /** SIGKILLs the server (a crash), keeping its folder; `client` is dead until `restart`. */
  kill(): Promise<void>
  /** Starts the server again on the same port and folder (its AOF, when `durable`), with a new `client`. */
  restart(): Promise<void>
}

export interface StartRedisOptions {
  /** The `redis-server` binary; default env TIDEKV_REDIS_SERVER, else `redis-server` on the PATH. */
  binary?: string
  /** Persist as a relay needs: `appendonly yes`, `appendfsync always` (every write on disk before its reply). Default off. */
  durable?: boolean
  /** Start as a replica of the server on this port (127.0.0.1). */
  replicaOf?: number
  /** Start as a Redis Cluster node (`cluster-enabled`, its bus on another free port); redis-cluster.ts joins nodes into a cluster. */
  clusterNode?: boolean
}

/**
 * Starts `redis-server` on 127.0.0.1 and a free port with `--save ''` and
 * `--appendonly no` (or, `durable`, `yes` with `--appendfsync always`);
 * resolves once it answers PING, with a connected client.
 * @throws when it does not start within 15 s (the message carries what it logged)
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? process.env.TIDEKV_REDIS_SERVER ?? 'redis-server'
  const dir = mkdtempSync(join(tmpdir(), 'tidekv-redis-'))
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      const durable = options.durable === true
      const extra = options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(options.replicaOf)]
      // The cluster bus defaults to port + 10,000, which may be taken or past 65,535: pick it too.
      if (options.clusterNode === true) extra.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(await freePort()))
      const server = await launch(binary, port, dir, durable, extra)
      if (server.ok) return await connect(server.child, port, dir, server.output, () => launch(binary, port, dir, durable, extra))
      // The port was free when probed, but something bound it before redis-server did.
      if (attempt < BIND_ATTEMPTS && /address already in use/i.test(server.output())) continue
      throw new Error(`redis-server (${binary}) did not start on 127.0.0.1:${port}: ${server.reason}\n${server.output()}`)
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** A port nothing listens on right now: the kernel's pick for port 0, released again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from listen(0)'))))
    })
  })
}

type Launched = { ok: true; child: ChildProcess; output: () => string } | { ok: false; reason: string; output: () => string }

/** Spawns the server and waits until it answers PING, it exits, or the time is up (then it is killed). */
async function launch(binary: string, port: number, dir: string, durable: boolean, extra: readonly string[] = []): Promise<Launched> {
  const persistence = durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
  const child = spawn(
    binary,
    // '' for --save turns RDB snapshots off; the log goes to stdout, kept for error messages.
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  const output = (): string => log
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk))
  let exit: string | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exit = `could not run it (${error.message})`
      resolve()
    })
    child.once('exit', (code, signal) => {
      exit ??= `it exited (code ${code}, signal ${signal})`
      resolve()
    })
  })

  const deadline = Date.now() + START_TIMEOUT_MS
  while (exit === undefined) {
    if (await answersPing(port)) return { ok: true, child, output }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      await exited
      return { ok: false, reason: `no answer to PING within ${START_TIMEOUT_MS} ms`, output }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  await exited
  return { ok: false, reason: exit, output }
}

/** One PING in Redis's inline protocol on a fresh connection; false on any error. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

async function connect(first: ChildProcess, port: number, dir: string, firstOutput: () => string, relaunch: () => Promise<Launched>): Promise<RedisServer> {
  let child = first
  let output = firstOutput
  const exitOf = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve()
      else c.once('exit', () => resolve())
    })
  let exited = exitOf(child)
  // RESP2: the reply shapes redis.io documents (flat arrays, scores as strings), the same for
  // `call('ZRANGE', ...)` as for `zrange(...)`; under ioredis's default RESP3 only the
  // lower-case named methods are mapped back to them.
  // No reconnects and no offline queue: a server that dies mid-test fails the next command at once.
  const newClient = () =>
    new Redis({
      host: '127.0.0.1',
      port,
      protocol: 2,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    })
  let client = newClient()
  const kill = async (): Promise<void> => {
    client.disconnect()
    child.kill('SIGKILL')
    await exited
  }
  const stop = async (): Promise<void> => {
    await kill()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await client.connect()
  } catch (error) {
    await stop()
    throw new Error(`could not connect to redis-server on 127.0.0.1:${port}\n${output()}`, { cause: error })
  }
  return {
    port,
    get client() {
      return client
    },
    output: () => output(),
    stop,
    kill,
    async restart() {
      const server = await relaunch()
      if (!server.ok) throw new Error(`redis-server did not restart on 127.0.0.1:${port}: ${server.reason}\n${server.output()}`)
      child = server.child
      output = server.output
      exited = exitOf(child)
      client = newClient()
      await client.connect()
    },
  }
}
