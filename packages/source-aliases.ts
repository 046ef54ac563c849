/**
 * The packages by name, resolved to their TypeScript sources: used by vitest,
 * the demo's Vite build and the benchmarks, so none of them needs a package
 * build first and all of them run the code in the tree. (tsconfig.json's
 * `paths` says the same to the type checker.)
 */
import { join } from 'node:path'

/** Each package entry point (`@tidekv/core/internal` included) and its source file, under the repository root `root`. */
export function sourcePaths(root: string): Record<string, string> {
  const source = (path: string): string => join(root, 'packages', path)
  return {
    '@tidekv/core': source('core/src/index.ts'),
    '@tidekv/core/internal': source('core/src/internal.ts'),
    '@tidekv/core/testing': source('core/src/testing/index.ts'), // test-only: not in the package's exports
    '@tidekv/core/wire': source('core/src/wire.ts'),
    '@tidekv/client': source('client/src/index.ts'),
    '@tidekv/relay': source('relay/src/index.ts'),
    '@tidekv/react': source('react/src/index.ts'),
    '@tidekv/vue': source('vue/src/index.ts'),
    '@tidekv/inspector': source('inspector/src/index.ts'),
  }
}

/** Vite `resolve.alias` entries (exact matches: `@tidekv/core` must not swallow `@tidekv/core/internal`). */
export function sourceAliases(root: string): { find: RegExp; replacement: string }[] {
  return Object.entries(sourcePaths(root)).map(([name, path]) => ({ find: new RegExp(`^${name.replace('/', '\\/')}$`), replacement: path }))
}
