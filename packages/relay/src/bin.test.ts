/**
 * The `tidekv-relay` command (bin/tidekv-relay.js, committed so that npm can
 * link it before anything is built): it runs the built CLI with its
 * arguments, and without a build it says to run `npm run build` and exits 1.
 * Each case runs a copy of the bin in a temporary package folder, beside a
 * dist/ made for the case.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../bin/tidekv-relay.js', import.meta.url))

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A package folder holding the bin, and `dist` files when given. */
function packageWith(dist: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidekv-bin-'))
  folders.push(dir)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  mkdirSync(join(dir, 'bin'))
  copyFileSync(BIN, join(dir, 'bin', 'tidekv-relay.js'))
  if (Object.keys(dist).length > 0) mkdirSync(join(dir, 'dist'))
  for (const [name, text] of Object.entries(dist)) writeFileSync(join(dir, 'dist', name), text)
  return dir
}

/** Runs the bin of `dir` with `args`. */
function run(dir: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'bin', 'tidekv-relay.js'), ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
    })
  })
}

describe('bin/tidekv-relay.js', () => {
  it('runs dist/cli.js, which reads its arguments', async () => {
    const dir = packageWith({ 'cli.js': "console.log('cli ran with', JSON.stringify(process.argv.slice(2)))\n" })
    const { code, stdout } = await run(dir, ['--help'])
    expect(code).toBe(0)
    expect(stdout).toBe('cli ran with ["--help"]\n')
  })

  it('without dist/cli.js, says to run npm run build and exits 1', async () => {
    const { code, stdout, stderr } = await run(packageWith())
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^tidekv-relay: the relay is not built \(.*dist[/\\]cli\.js is missing\)\. Run `npm run build` in the repository root, then try again\.\n$/)
  })

  it('when the CLI is built but a module it imports is not, says so and to run npm run build, exit 1', async () => {
    const dir = packageWith({ 'cli.js': "import './missing-part.js'\n" })
    const { code, stderr } = await run(dir)
    expect(code).toBe(1)
    expect(stderr).toMatch(/^tidekv-relay: Cannot find module .*dist[/\\]missing-part\.js.*\nRun `npm run build` in the repository root, then try again\.\n$/s)
  })

  it('any other failure of the CLI is not hidden behind that advice', async () => {
    const dir = packageWith({ 'cli.js': "throw new Error('boom')\n" })
    const { code, stderr } = await run(dir)
    expect(code).toBe(1)
    expect(stderr).toContain('Error: boom')
    expect(stderr).not.toContain('npm run build')
  })
})
