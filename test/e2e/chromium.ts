/**
 * Debian's Chromium for the browser tests and `npm run screenshot`, driven by
 * playwright-core (Playwright's own browser download does not work here: the
 * tests use the system's browser, which `scripts/ensure-system.mjs` installs
 * when it is missing).
 *
 * Two ways to start it:
 * - `launchChromium()`: Playwright launches and owns the browser; contexts
 *   from `browser.newContext()` are separate devices (own storage, own
 *   service workers, own network emulation).
 * - `spawnChromium(userDataDir)`: we start the process ourselves on a profile
 *   folder and connect over CDP, so we know its pid and can SIGKILL it (a
 *   crash, not a close), then start another on the same folder. Playwright's
 *   `launchPersistentContext` hides the process (`context.browser()` is null).
 *
 * No test framework in here.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Where the browser is: `TIDEKV_CHROMIUM` or Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.TIDEKV_CHROMIUM ?? '/usr/bin/chromium'

/** Flags for a quiet, headless, container-friendly Chromium that reaches nothing but the test's relay. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox', // reason: the tests run as root in a container, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage', // reason: containers often have a tiny /dev/shm; shared memory goes to /tmp instead
  // Background pages and timers at full speed: the tests drive several pages at once.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
]

/** Throws a message that says what to do when the browser is not installed. */
export function assertChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM_PATH}. Run \`node scripts/ensure-system.mjs\` (npm test does) to install Debian's chromium, or set TIDEKV_CHROMIUM to a Chromium binary.`,
    )
  }
}

/** Launches a headless Chromium owned by Playwright. */
export async function launchChromium(): Promise<Browser> {
  assertChromium()
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true, timeout: 60_000 })
}

/** A Chromium process we started on a profile folder, connected over CDP. */
export interface SpawnedChromium {
  readonly pid: number
  readonly browser: Browser
  /** SIGKILLs the browser and every process it started (one process group); resolves once the process is gone and `browser` is disconnected. */
  kill(): Promise<void>
}

/** Longest wait for Chromium's "DevTools listening on ws://..." line. */
const START_TIMEOUT_MS = 60_000

/** Starts Chromium on `userDataDir` with a DevTools port, and connects Playwright to it. */
export async function spawnChromium(userDataDir: string): Promise<SpawnedChromium> {
  assertChromium()
  const child = spawn(CHROMIUM_PATH, [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', 'about:blank'], {
    // Its own process group, so one kill(-pid) reaches the renderers and utility processes too.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let gone = false
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true
      resolve()
    }),
  )
  const killNow = (): void => {
    if (gone || child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      child.kill('SIGKILL') // reason: the group is already gone; the process itself may not be reaped yet
    }
  }
  // A detached browser would outlive a test process that dies without its teardown.
  process.once('exit', killNow)
  const killGroup = async (): Promise<void> => {
    killNow()
    await exited
    process.off('exit', killNow)
  }
  try {
    const endpoint = await devToolsEndpoint(child, exited)
    const browser = await chromium.connectOverCDP(endpoint, { timeout: START_TIMEOUT_MS })
    const pid = child.pid
    if (pid === undefined) throw new Error('the Chromium process has no pid')
    const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()))
    return {
      pid,
      browser,
      async kill() {
        await killGroup()
        // Playwright learns of it when the DevTools socket closes, a moment after the process is gone.
        if (browser.isConnected()) await disconnected
      },
    }
  } catch (error) {
    await killGroup()
    throw error
  }
}

function devToolsEndpoint(child: ChildProcess, exited: Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = ''
    const timer = setTimeout(() => reject(new Error(`Chromium printed no DevTools endpoint within ${START_TIMEOUT_MS} ms\n${err}`)), START_TIMEOUT_MS)
    // Read stderr to the end (a full pipe would stall the browser); look for the endpoint in its first lines.
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (err.length > 100_000) return
      err += chunk
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(err)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`Chromium exited before it listened\n${err}`))
    })
  })
}
