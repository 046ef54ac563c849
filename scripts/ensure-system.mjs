#!/usr/bin/env node
/**
 * Makes sure the system packages the tests need are there, and installs them
 * when they are not: `npm test` runs this first, so a fresh machine (CI runs
 * `npm ci && npm test` on one) needs no manual step.
 *
 * What it checks:
 * - Chromium at /usr/bin/chromium (or TIDEKV_CHROMIUM): the browser tests
 *   (test/e2e) and `npm run screenshot` drive it through playwright-core.
 *   Playwright's own browser download is not used: Debian's chromium is.
 * - redis-server at /usr/bin/redis-server (or TIDEKV_REDIS_SERVER): the
 *   differential test (test/redis/differential.test.ts) runs the data
 *   structures against a real Redis, and relays share rooms through it. The
 *   tests start their own servers on free ports; the service Debian's
 *   package may start is never used.
 * - redis-cli at /usr/bin/redis-cli (or TIDEKV_REDIS_CLI), Debian's
 *   redis-tools: the Cluster tests join their nodes with
 *   `redis-cli --cluster create`.
 *
 * When anything is missing it runs `apt-get update` once, then one
 * `apt-get install -y <every missing package>`, as root or through
 * passwordless sudo.
 * Otherwise it says what to install and exits with 1. Nothing to install:
 * it exits at once, without touching the network.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Each need: how to tell it is met, and the Debian package that meets it. */
const NEEDS = [
  {
    what: 'Chromium (for the browser tests and npm run screenshot)',
    path: process.env.TIDEKV_CHROMIUM ?? '/usr/bin/chromium',
    env: 'TIDEKV_CHROMIUM',
    custom: process.env.TIDEKV_CHROMIUM !== undefined,
    aptPackage: 'chromium',
  },
  {
    what: 'redis-server (for the tests against Redis)',
    path: process.env.TIDEKV_REDIS_SERVER ?? '/usr/bin/redis-server',
    env: 'TIDEKV_REDIS_SERVER',
    custom: process.env.TIDEKV_REDIS_SERVER !== undefined,
    aptPackage: 'redis-server',
  },
  {
    what: 'redis-cli (to build the Redis Cluster of the tests)',
    path: process.env.TIDEKV_REDIS_CLI ?? '/usr/bin/redis-cli',
    env: 'TIDEKV_REDIS_CLI',
    custom: process.env.TIDEKV_REDIS_CLI !== undefined,
    aptPackage: 'redis-tools',
  },
]

function fail(message) {
  console.error(`ensure-system: ${message}`)
  process.exit(1)
}

const missing = NEEDS.filter((need) => !existsSync(need.path))
if (missing.length === 0) process.exit(0)

for (const need of missing) {
  // A path the user chose is theirs to fix: installing Debian's package would not put anything there.
  if (need.custom) fail(`${need.what}: ${need.env} is ${need.path}, which does not exist.`)
}
const packages = [...new Set(missing.map((need) => need.aptPackage))]
const manual = `Install it yourself (Debian/Ubuntu: \`sudo apt-get install ${packages.join(' ')}\`), or set ${missing.map((need) => need.env).join(' / ')} to the binary.`
console.error(`ensure-system: missing ${missing.map((need) => `${need.what} at ${need.path}`).join('; ')}.`)

if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) fail(`no apt-get on this machine. ${manual}`)

/** The command prefix that runs apt-get with root rights: none as root, `sudo -n` with passwordless sudo. */
function privilege() {
  if (process.getuid?.() === 0) return []
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' })
  if (sudo.error === undefined && sudo.status === 0) return ['sudo', '-n']
  return null
}
const prefix = privilege()
if (prefix === null) fail(`installing needs root, and this user is not root and has no passwordless sudo. ${manual}`)

function run(args) {
  const [command, ...rest] = [...prefix, ...args]
  console.error(`ensure-system: ${[command, ...rest].join(' ')}`)
  const result = spawnSync(command, rest, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (result.error !== undefined) fail(`${command} could not run: ${result.error.message}. ${manual}`)
  if (result.status !== 0) fail(`\`${[command, ...rest].join(' ')}\` failed (exit ${result.status ?? result.signal}). ${manual}`)
}

run(['apt-get', 'update'])
run(['apt-get', 'install', '-y', ...packages])

const still = missing.filter((need) => !existsSync(need.path))
if (still.length > 0) fail(`installed ${packages.join(' ')}, but ${still.map((need) => need.path).join(', ')} is still missing. ${manual}`)
console.error(`ensure-system: installed ${packages.join(' ')}.`)
