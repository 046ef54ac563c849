/**
 * Builds the demo into demo/dist (`npm run build -w @tidekv/demo`), for the
 * browser tests and `npm run screenshot`. The demo imports the packages from
 * their sources, so nothing else needs building; it takes a second or two.
 *
 * No test framework in here.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Runs the demo's production build; rejects with its output if it fails. */
export function buildDemo(): Promise<void> {
  return new Promise((resolve, reject) => {
    // Not vitest's NODE_ENV=test: under it, Vite builds in development mode (import.meta.env.DEV is true),
    // and the demo would look for a relay on port 8787 and skip its service worker.
    const { NODE_ENV: _, ...env } = process.env
    const args = ['run', 'build', '-w', '@tidekv/demo']
    const child = spawn('npm', args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`\`npm ${args.join(' ')}\` failed (code ${code}, signal ${signal})\n${output}`))
    })
  })
}
