/**
 * Child processes of `npm run bench:relay`: the two relays and the reader
 * workers. Each is a Node process with an IPC channel that answers
 * `{ id, cmd, ...args }` with `{ id, result }` or `{ id, error }`. Every
 * child is killed when the bench exits, however it exits (children also
 * stop themselves when the IPC channel closes).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A request over the IPC channel. */
export interface Request {
  id: number
  cmd: string
  [arg: string]: unknown
}

/** The answer to a request. */
export interface Reply {
  id: number
  result?: unknown
  error?: string
}

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const proc of live) proc.kill('SIGKILL')
})

export interface SpawnOptions {
  /** Node flags before the script. */
  execArgv?: string[]
  /** Run under `taskset -c <cpus>`. */
  cpus?: string
  env?: NodeJS.ProcessEnv
}

export class Child {
  readonly proc: ChildProcess
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private out = ''
  private readonly exited: Promise<number | null>

  constructor(
    readonly name: string,
    script: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    const nodeArgs = [...(options.execArgv ?? []), script, ...args]
    const [cmd, argv] = options.cpus === undefined ? [process.execPath, nodeArgs] : ['taskset', ['-c', options.cpus, process.execPath, ...nodeArgs]]
    this.proc = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: options.env ?? process.env })
    live.add(this.proc)
    const keep = (chunk: Buffer) => {
      this.out = (this.out + chunk.toString()).slice(-20_000)
    }
    this.proc.stdout?.on('data', keep)
    this.proc.stderr?.on('data', keep)
    this.proc.on('message', (message: Reply) => {
      const waiter = this.pending.get(message?.id)
      if (waiter === undefined) return
      this.pending.delete(message.id)
      if (message.error !== undefined) waiter.reject(new Error(`${this.name}: ${message.error}`))
      else waiter.resolve(message.result)
    })
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code) => {
        live.delete(this.proc)
        for (const w of this.pending.values()) w.reject(new Error(`${this.name} exited (code ${code}); output:\n${this.output()}`))
        this.pending.clear()
        resolve(code)
      }),
    )
  }

  /** What the child printed (last 20 kB). */
  output(): string {
    return this.out
  }

  /** Resolves with the first match of `pattern` in the child's output. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.out.match(pattern)
        if (match === null) return false
        cleanUp()
        resolve(match)
        return true
      }
      const onData = () => void check()
      const onExit = () => {
        cleanUp()
        reject(new Error(`${this.name} exited before printing ${pattern}; output:\n${this.out}`))
      }
      const timer = setTimeout(() => {
        cleanUp()
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms; output:\n${this.out}`))
      }, timeoutMs)
      const cleanUp = () => {
        clearTimeout(timer)
        this.proc.stdout?.off('data', onData)
        this.proc.stderr?.off('data', onData)
        this.proc.off('exit', onExit)
      }
      this.proc.stdout?.on('data', onData)
      this.proc.stderr?.on('data', onData)
      this.proc.once('exit', onExit)
      // Listeners added after the data arrived: the output may hold it already.
      setImmediate(check)
    })
  }

  /** Sends a request and resolves with the child's answer; rejects after `timeoutMs`. */
  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name}: '${cmd}' took over ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v as T) // reason: T is the caller's word for what the worker answers to `cmd` (its handler is the other side of this protocol)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      const request: Request = { ...args, id, cmd }
      this.proc.send(request, (error) => {
        if (error == null) return
        this.pending.delete(id)
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }
}

/** Node flags that run a TypeScript entry point through tsx. */
export const TSX = ['--import', 'tsx']

/** A file under test/bench/ as a URL string (for `--import`) or a path (for the script). */
export const benchFile = (name: string): { url: string; path: string } => {
  const url = new URL(`./${name}`, import.meta.url)
  return { url: url.href, path: fileURLToPath(url) }
}
