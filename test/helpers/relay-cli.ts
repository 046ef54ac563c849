/**
 * The relay as a separate process, started through its CLI (`cli.ts` under
 * tsx, so no build is needed) on 127.0.0.1 port 0. The port is read from the
 * CLI's "listening on http://HOST:PORT" line.
 *
 * No test framework in here: the browser tests and `npm run screenshot` use
 * it as it is; `relay-process.ts` adds the per-test teardown.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Longest wait for the CLI's "listening" line. */
const START_TIMEOUT_MS = 30_000

export interface RelayProcess {
  readonly pid: number
  readonly port: number
  /** `ws://127.0.0.1:PORT` */
  readonly ws: string
  /** `http://127.0.0.1:PORT` (where `--static` files are served) */
  readonly http: string
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything it printed so far. */
  stdout(): string
  stderr(): string
  /** Sends a signal (no-op once it has exited). */
  signal(signal: NodeJS.Signals): void
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>
  /** SIGTERM (the relay closes its rooms and storage), and resolves once it is gone. */
  stop(): Promise<void>
}

export interface SpawnRelayOptions {
  /** The data folder (`--data`). */
  dataDir: string
  /** More CLI arguments, e.g. `['--static', 'demo/dist']`. */
  args?: readonly string[]
  /** Environment variables on top of this process's, e.g. `{ TIDEKV_REDIS_CLUSTER: '...' }`. */
  env?: Readonly<Record<string, string>>
}

/**
 * Starts `tidekv-relay --port 0 --host 127.0.0.1 --data <dataDir> --allow-anonymous ...args`;
 * resolves once it listens. The caller ends it (`kill()` or `stop()`).
 */
export async function spawnRelay({ dataDir, args = [], env = {} }: SpawnRelayOptions): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/relay/src/cli.ts', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--allow-anonymous', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  let gone = false
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true
      resolve({ code, signal })
    }),
  )
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the relay did not start within ${START_TIMEOUT_MS} ms\n${out}${err}`)), START_TIMEOUT_MS)
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
        if (match !== null) {
          clearTimeout(timer)
          resolve(Number(match[1]))
        }
      })
      void exited.then(({ code, signal }) => {
        clearTimeout(timer)
        reject(new Error(`the relay exited (code ${code}, signal ${signal}) before listening\n${out}${err}`))
      })
    })
  } catch (error) {
    if (!gone) child.kill('SIGKILL')
    await exited
    throw error
  }
  const pid = child.pid
  if (pid === undefined) throw new Error('the relay process has no pid')
  return {
    pid,
    port,
    ws: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    exited,
    stdout: () => out,
    stderr: () => err,
    signal(signal) {
      if (!gone) child.kill(signal)
    },
    async kill() {
      if (!gone) child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (!gone) child.kill('SIGTERM')
      await exited
    },
  }
}
