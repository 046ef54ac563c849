/**
 * Bundling a page for Chromium from the sources: an esbuild plugin that resolves the `@tidekv/*` packages to their
 * TypeScript sources, as vitest's aliases do, for pages bundled for Chromium
 * (the browser benchmark, the client page of the browser tests).
 */
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { sourcePaths } from '../../packages/source-aliases.js'

const sources = sourcePaths(fileURLToPath(new URL('../../', import.meta.url)))

/** The plugin, leaving the packages named in `external` to esbuild's `external` (exact names: `@tidekv/core` must not swallow `@tidekv/core/internal`). */
export function sourcesPluginExcept(external: readonly string[]): Plugin {
  return {
    name: 'tidekv-sources',
    setup(b) {
      b.onResolve({ filter: /^@tidekv\// }, (args) => (sources[args.path] === undefined || external.includes(args.path) ? undefined : { path: sources[args.path] }))
    },
  }
}

export const sourcesPlugin: Plugin = sourcesPluginExcept([])

/** `entry` bundled into one ES module for Chromium, from the sources (React, where it is used, in its production build). */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    plugins: [sourcesPlugin],
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'warning',
  })
  return result.outputFiles[0]!.text
}

/** A page that runs `/page.js` (a bundle), with `title` until the script changes it. */
export function pageFiles(title: string, script: string): Map<string, { type: string; body: string | Uint8Array }> {
  return new Map([
    ['/', { type: 'text/html; charset=utf-8', body: `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/page.js"></script>` }],
    ['/page.js', { type: 'text/javascript; charset=utf-8', body: script }],
    ['/favicon.ico', { type: 'image/x-icon', body: new Uint8Array(0) }],
  ])
}
