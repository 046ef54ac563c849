/**
 * The documentation's TypeScript examples run, so they cannot drift from the
 * API: every ```ts / ```typescript block of README.md, CONTRIBUTING.md,
 * docs/*.md and packages/*\/README.md, and every `@example` of the packages'
 * TSDoc (test files and testing/ folders aside). ```tsx blocks (components:
 * they need a browser and a renderer) are type-checked, not run; ```sh blocks
 * are neither.
 *
 * Each example is one ES module (top-level await allowed; see doc-examples.ts),
 * type-checked with tsconfig.json, then imported, in Node with fake-indexeddb
 * as `indexedDB` (a fresh, empty one per example) and `ws` as `WebSocket`.
 * An example imports what it uses from '@tidekv/client', '@tidekv/core' or
 * '@tidekv/relay', and may use these names without declaring them:
 *   store     an open store, synced with the relay below
 *   relayUrl  the ws:// URL of a relay started here (127.0.0.1, port 0)
 *   secret    that relay's auth secret
 * Afterwards every store opened during the example is closed, and so is every
 * top-level variable of the example that has a `close()` (a relay it started,
 * a storage). A failure names the example's file:line and the error.
 */
import 'fake-indexeddb/auto'
import { randomBytes } from 'node:crypto'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IDBFactory } from 'fake-indexeddb'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import WebSocket from 'ws'
import { openStore, type Store } from '@tidekv/client'
import { createRelay, createToken, memoryRelayStorage, type Relay } from '@tidekv/relay'
import { collectExamples, DOCS_GLOBAL, type ExampleModule, type ExampleTypeError, markdownExamples, typeCheck, writeExampleModule } from './doc-examples.js'

/** How long one example may take before it fails (an await that never resolves). */
const EXAMPLE_TIMEOUT_MS = 10_000

const root = fileURLToPath(new URL('../..', import.meta.url))
const generated = join(root, 'test/docs/.generated')
removeStaleRuns()
// One folder per run: another vitest run in the same tree has its own.
const runDir = join(generated, `${process.pid}-${Date.now()}`)
const modules = collectExamples(root).map((example, i) => writeExampleModule(root, runDir, example, i))

// The harness's own examples, to show it passes the predeclared names and fails where it should.
const SELF_TEST = 'test/docs/self-test.md' // no such file: the text is here
const selfTests = markdownExamples(
  SELF_TEST,
  [
    '```ts',
    "const n: number = 'one'",
    '```',
    '```typescript',
    "store.set('a', 1)",
    "throw new Error('broken on purpose')",
    '```',
    '```ts',
    "import { openStore } from '@tidekv/client'",
    "import { createToken } from '@tidekv/relay'",
    "store.set('greeting', 'hello')",
    'await store.whenSynced()',
    "const token = await createToken({ secret, room: store.name, mode: 'write' })",
    "const other = await openStore('other', { sync: { url: relayUrl, room: store.name, token } }) // WebSocket: the global one",
    "await new Promise<void>((resolve) => other.on('status', (status) => status === 'synced' && resolve()))",
    "if (other.get('greeting') !== 'hello') throw new Error('the other store did not sync')",
    '```',
    '```tsx',
    'const Label = ({ text }: { text: string }) => <b>{text}</b>',
    'const wrong: number = <Label text="one" />',
    '```',
    '```tsx',
    "const Greeting = () => <p>{store.get<string>('greeting')}</p>",
    "throw new Error('a component block is not run')",
    '```',
  ].join('\n'),
).map((example, i) => writeExampleModule(root, runDir, example, modules.length + i))

const globals = globalThis as unknown as Record<string, unknown> // reason: the test sets and restores globals by name (indexedDB, WebSocket, the docs context)
const saved = { indexedDB: globals.indexedDB, WebSocket: globals.WebSocket }
let typeErrors = new Map<string, ExampleTypeError[]>()
let relay: Relay | undefined
let relayUrl = ''
let secret = ''
let token = ''
let examples = 0

/** The stores opened during the current example, and the errors they emitted. */
let opened: Store[] = []
let backgroundErrors: string[] = []
let restoreOpen = (): void => undefined

function track(store: Store): void {
  if (opened.includes(store)) return
  opened.push(store)
  store.on('error', (e) => backgroundErrors.push(`${store.name}: ${e.code} ${e.message}${e.cause instanceof Error ? ` (${e.cause.name}: ${e.cause.message})` : ''}`))
}

beforeAll(async () => {
  typeErrors = typeCheck(
    root,
    [...modules, ...selfTests].map((m) => m.path),
  )
  secret = randomBytes(32).toString('hex')
  relay = await createRelay({ port: 0, host: '127.0.0.1', storage: memoryRelayStorage(), auth: { secret } })
  relayUrl = relay.url.replace(/^http/, 'ws')
  token = await createToken({ secret, room: '*', mode: 'write' })
  globals.WebSocket ??= WebSocket
  // Stores an example opens but does not keep in a top-level variable (or opens before it
  // throws) are closed too: every store goes through its class's `open` once.
  const probe = await openStore('docs-probe', { persist: false, tabs: false })
  // reason: the store class's prototype, whose `open` (checked to be a function below) the test wraps
  const proto = Object.getPrototypeOf(probe) as { open?: (this: Store, ...args: unknown[]) => Promise<void> }
  await probe.close()
  const open = proto.open
  if (typeof open === 'function') {
    proto.open = function (this: Store, ...args: unknown[]) {
      track(this)
      return open.apply(this, args)
    }
    restoreOpen = () => {
      proto.open = open
    }
  }
}, 120_000)

afterAll(async () => {
  restoreOpen()
  await relay?.close()
  globals.indexedDB = saved.indexedDB
  globals.WebSocket = saved.WebSocket
  delete globals[DOCS_GLOBAL]
  rmSync(runDir, { recursive: true, force: true })
})

describe('the harness', () => {
  test('finds examples in Markdown and in TSDoc', () => {
    expect(modules.filter((m) => m.example.kind === 'markdown').length).toBeGreaterThan(0)
    expect(modules.filter((m) => m.example.kind === 'tsdoc').length).toBeGreaterThan(0)
  })

  test('fails an example that does not type-check, at its file:line', async () => {
    await expect(runExample(selfTests[0]!)).rejects.toThrow(`${SELF_TEST}:1: the example does not type-check:\n  ${SELF_TEST}:2 \`const n: number = 'one'\`: TS2322`)
  })

  test('fails an example that throws, at the line that threw', async () => {
    await expect(runExample(selfTests[1]!)).rejects.toThrow(`${SELF_TEST}:6 \`throw new Error('broken on purpose')\`: Error: broken on purpose`)
  })

  test('gives an example a store synced with a relay, its URL and its secret', async () => {
    await runExample(selfTests[2]!)
  })

  test('type-checks a tsx block, with the predeclared names, and does not run it', async () => {
    await expect(runExample(selfTests[3]!)).rejects.toThrow(`${SELF_TEST}:20 \`const wrong: number = <Label text="one" />\`: TS2322`)
    await runExample(selfTests[4]!)
  })
})

for (const module of modules) {
  test(`${module.example.file}:${module.example.line}`, () => runExample(module), EXAMPLE_TIMEOUT_MS * 3)
}

async function runExample(module: ExampleModule): Promise<void> {
  const { file, line } = module.example
  const errors = typeErrors.get(module.path) ?? []
  if (errors.length > 0) {
    throw new Error(`${file}:${line}: the example does not type-check:\n${errors.map((e) => `  ${where(module, e.line)}: ${e.message}`).join('\n')}`)
  }
  if (module.example.tsx === true) return

  opened = []
  backgroundErrors = []
  globals.indexedDB = new IDBFactory()
  const context: Record<string, unknown> = { relayUrl, secret }
  if (module.needs.includes('store')) {
    // Its own room: an example does not see the data of the ones before.
    const store = await openStore(`docs-example-${++examples}`, { sync: { url: relayUrl, token, WebSocket } })
    track(store)
    context.store = store
  }
  globals[DOCS_GLOBAL] = context

  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
  let namespace: Record<string, unknown> | undefined
  let failure: unknown
  try {
    namespace = await withTimeout(import(module.path) as Promise<Record<string, unknown>>, EXAMPLE_TIMEOUT_MS) // reason: a module namespace: its exports by name
  } catch (e) {
    failure = e
  } finally {
    delete globals[DOCS_GLOBAL]
  }

  // Close what the example opened, the latest first (a store before the relay it syncs with).
  const closeFailures: string[] = []
  const closeables: [string, { close: () => unknown }][] = []
  for (const [name, value] of Object.entries(namespace ?? {})) if (hasClose(value)) closeables.push([name, value])
  for (const [name, value] of closeables.reverse()) {
    try {
      await withTimeout(Promise.resolve(value.close()), EXAMPLE_TIMEOUT_MS)
    } catch (e) {
      closeFailures.push(`closing \`${name}\`: ${String(e)}`)
    }
  }
  for (const store of opened.reverse()) {
    try {
      await withTimeout(store.close(), EXAMPLE_TIMEOUT_MS)
    } catch (e) {
      closeFailures.push(`closing the store "${store.name}": ${String(e)}`)
    }
  }
  log.mockRestore()

  if (failure !== undefined) throw new Error(describeFailure(module, failure))
  if (backgroundErrors.length > 0) throw new Error(`${file}:${line}: a store emitted errors:\n  ${backgroundErrors.join('\n  ')}`)
  if (closeFailures.length > 0) throw new Error(`${file}:${line}: ${closeFailures.join('\n  ')}`)
}

/** Whether an example's export can be closed (a store, a relay, a provider). */
function hasClose(value: unknown): value is { close: () => unknown } {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && 'close' in value && typeof value.close === 'function'
}

/** `file:line` of line `line` of the module, and the code there. */
function where(module: ExampleModule, line: number): string {
  const source = module.sourceLine(line)
  if (source === undefined) return `${module.example.file}:${module.example.line}`
  const text = module.example.code.split('\n')[source - module.example.firstLine]?.trim() ?? ''
  return `${module.example.file}:${source} \`${text}\``
}

/** The error, at the example's line that threw (from the stack), with the stack's lines in the example. */
function describeFailure(module: ExampleModule, error: unknown): string {
  const { file, line } = module.example
  const e = error instanceof Error ? error : new Error(String(error))
  const errorCode = 'code' in e ? e.code : undefined
  const code = typeof errorCode === 'string' ? ` [${errorCode}]` : ''
  const frame = new RegExp(`(?:file://)?${module.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)(?::\\d+)?`, 'g')
  const lines = [...(e.stack ?? '').matchAll(frame)].map((m) => Number(m[1]))
  const at = lines.find((l) => module.sourceLine(l) !== undefined)
  const headline = at === undefined ? `${file}:${line}` : where(module, at)
  return `${headline}: ${e.name}${code}: ${e.message}`
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms / 1000} s (an await that never resolves?)`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Removes the folders of earlier runs whose process is gone (killed before its afterAll). */
function removeStaleRuns(): void {
  let names: string[]
  try {
    names = readdirSync(generated)
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0])
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processIsAlive(pid)) continue
    if (pid === process.pid) continue
    rmSync(join(generated, name), { recursive: true, force: true })
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return e instanceof Error && 'code' in e && e.code === 'EPERM'
  }
}
