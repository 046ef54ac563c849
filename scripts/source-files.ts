/**
 * The files that `npm run lint` formats and checks: the TypeScript and TSX (and the one
 * `.mjs` script) of the packages, the tests, the scripts and the demo. biome.jsonc's
 * `files.includes` names the same globs, for `biome format --write` run by hand.
 *
 * Listed by git (tracked files and new ones not yet added), so every .gitignore
 * applies: no dist/, no node_modules, no generated files (test/docs/.generated).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** The globs, relative to the repository root (git pathspecs with `:(glob)` magic: `**` spans folders, `*` does not). */
export const SOURCE_GLOBS = [
  'packages/*/src/**/*.ts',
  'packages/*/src/**/*.tsx',
  'packages/*.ts',
  'test/**/*.ts',
  'scripts/**/*.ts',
  'scripts/**/*.mjs',
  'demo/src/**/*.ts',
  'demo/src/**/*.tsx',
  'demo/*.ts',
  'vite.config.ts',
] as const

/** The source files under the repository root `root`, as paths relative to it, sorted. */
export function sourceFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...SOURCE_GLOBS.map((g) => `:(glob)${g}`)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  // A file deleted but not yet committed is still listed by --cached.
  const files = new Set(out.split('\0').filter((f) => f !== '' && existsSync(join(root, f))))
  return [...files].sort()
}
