/**
 * The relay as a separate process, started through its CLI (`cli.ts` under
 * tsx) on 127.0.0.1 port 0, so a test can kill it for real: SIGKILL (a
 * crash), SIGSTOP/SIGCONT (a stall), SIGTERM (a graceful shutdown). The port
 * is read from the CLI's "listening on http://HOST:PORT" line. A process
 * still running after the test is SIGKILLed.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onCleanup } from './relay.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Longest wait for the CLI's "listening" line. */
const START_TIMEOUT_MS = 30_000

export interface RelayProcess {
  readonly pid: number
  readonly port: number
  /** `ws://127.0.0.1:PORT` */
  readonly ws: string
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything it printed so far. */
  stdout(): string
  stderr(): string
  /** Sends a signal (no-op once it has exited). */
  signal(signal: NodeJS.Signals): void
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>
}

/** Starts `tidekv-relay --port 0 --host 127.0.0.1 --data <dataDir> --allow-anonymous`; resolves once it listens. */
export async function startRelayProcess(dataDir: string): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/relay/src/cli.ts', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--allow-anonymous'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  let gone = false
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true
      resolve({ code, signal })
    }),
  )
  onCleanup(async () => {
    if (!gone) child.kill('SIGKILL')
    await exited
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const port = await new Promise<number>((resolve, reject) => {
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
  const pid = child.pid
  if (pid === undefined) throw new Error('the relay process has no pid')
  return {
    pid,
    port,
    ws: `ws://127.0.0.1:${port}`,
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
  }
}
