/**
 * `npm run lint` (and `npm test`, before vitest): the checks a machine holds the
 * code to, over the source files (scripts/source-files.ts):
 *
 * - format: Biome formats them as biome.jsonc says (`npm run format` rewrites them);
 * - eslint: typescript-eslint's type-aware rules and ESLint's recommended ones (eslint.config.js);
 * - reasons: every cast and suppression says why (scripts/check-reasons.ts);
 * - dts-any: the published declarations have no `any` (scripts/check-dts-any.ts);
 * - cycles: no import cycle, type-only imports aside (dpdm -T), every source file an entry.
 *
 * Two at a time (the machines have 2 cores): ESLint, the longest, on one, the
 * others one after another on the other. Each check's output is printed when it
 * ends, with its time; the exit code is 1 if any failed.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { SOURCE_GLOBS, sourceFiles } from './source-files.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name)

interface Check {
  name: string
  command: string
  args: string[]
}

/** biome.jsonc must format the files that are checked here, so `npm run format` by hand fixes what lint reports. */
function biomeIncludes(): unknown {
  const path = join(ROOT, 'biome.jsonc')
  const parsed = ts.parseConfigFileTextToJson(path, readFileSync(path, 'utf8'))
  const config: unknown = parsed.config
  const error = parsed.error
  if (error !== undefined) throw new Error(`lint: cannot read biome.jsonc: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`)
  const files: unknown = typeof config === 'object' && config !== null && 'files' in config ? config.files : undefined
  return typeof files === 'object' && files !== null && 'includes' in files ? files.includes : undefined
}

function run(check: Check): Promise<{ ok: boolean; seconds: number; output: string }> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(check.command, check.args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' } })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const done = (ok: boolean): void => resolve({ ok, seconds: (performance.now() - started) / 1000, output })
    child.on('error', (e) => {
      output += `${check.command}: ${e.message}\n`
      done(false)
    })
    child.on('close', (code) => done(code === 0))
  })
}

async function main(): Promise<number> {
  const includes = biomeIncludes()
  if (JSON.stringify(includes) !== JSON.stringify(SOURCE_GLOBS)) {
    console.error(`lint: biome.jsonc's files.includes must be scripts/source-files.ts's SOURCE_GLOBS:\n  ${JSON.stringify(SOURCE_GLOBS)}\nnot\n  ${JSON.stringify(includes)}`)
    return 1
  }
  const files = sourceFiles(ROOT)
  const tsx = ['--import', 'tsx']
  const checks: Check[] = [
    { name: 'eslint', command: bin('eslint'), args: ['--max-warnings', '0', ...files] },
    { name: 'format', command: bin('biome'), args: ['format', '--no-errors-on-unmatched', ...files] },
    { name: 'reasons', command: process.execPath, args: [...tsx, 'scripts/check-reasons.ts', ...files] },
    { name: 'cycles', command: bin('dpdm'), args: ['--no-warning', '--no-tree', '--transform', '--exit-code', 'circular:1', ...files.filter((f) => f.endsWith('.ts'))] },
    { name: 'dts-any', command: process.execPath, args: [...tsx, 'scripts/check-dts-any.ts'] },
  ]
  const started = performance.now()
  const results: { name: string; ok: boolean; seconds: number }[] = []
  const queue = [...checks]
  const worker = async (): Promise<void> => {
    for (let check = queue.shift(); check !== undefined; check = queue.shift()) {
      const result = await run(check)
      results.push({ name: check.name, ok: result.ok, seconds: result.seconds })
      const status = result.ok ? 'ok' : 'FAILED'
      console.log(`\n── lint: ${check.name} ${status} (${result.seconds.toFixed(1)} s)`)
      if (!result.ok || check.name !== 'format') process.stdout.write(result.output.trimEnd() === '' ? '' : `${result.output.trimEnd()}\n`)
    }
  }
  await Promise.all([worker(), worker()])
  const failed = results.filter((r) => !r.ok)
  const times = results.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join(', ')
  const total = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`\nlint: ${files.length} files; ${times}; ${total} s in all`)
  if (failed.length > 0) {
    console.error(`lint: failed: ${failed.map((r) => r.name).join(', ')}${failed.some((r) => r.name === 'format') ? ' (npm run format fixes the format)' : ''}`)
    return 1
  }
  return 0
}

process.exitCode = await main()
