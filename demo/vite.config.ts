/**
 * Builds the demo into demo/dist: the page (index.html and its hashed
 * assets) and the service worker (sw.js, at the root so its scope is the
 * whole app). The root vite.config.ts is vitest's; this one is used when Vite
 * runs in demo/ (`npm run build -w @tidekv/demo`).
 *
 * The demo imports the packages from their TypeScript sources, so it needs no
 * package build first and always shows the code in the tree.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'
import { sourceAliases } from '../packages/source-aliases.js'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** The placeholders that service-worker.ts holds until the build fills them in. */
const VERSION_TOKEN = '__TIDEKV_SW_VERSION__'
const SHELL_TOKEN = '__TIDEKV_SW_SHELL__'

export default defineConfig({
  // Relative URLs: the built app works wherever it is served from (the relay serves it at /).
  base: './',
  resolve: {
    alias: sourceAliases(here('..')),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: { index: here('index.html'), react: here('react/index.html'), sw: here('src/sw/service-worker.ts') },
      output: {
        // sw.js must not be hashed: the browser finds an update by fetching the same URL again.
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  plugins: [precacheManifest()],
})

/**
 * Writes the app shell (every built file but sw.js) and a version (a hash of
 * those files' names and bytes) into sw.js once the build is on disk. A build
 * that changes any file changes sw.js, so browsers install the new worker,
 * which caches the new shell under a new cache name and drops the old one.
 */
function precacheManifest(): Plugin {
  let outDir = ''
  return {
    name: 'tidekv-demo:precache-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = join(config.root, config.build.outDir)
    },
    writeBundle() {
      const files = listFiles(outDir)
        .map((file) => relative(outDir, file).split(sep).join('/'))
        .filter((name) => name !== 'sw.js')
        .sort()
      const hash = createHash('sha256')
      for (const name of files)
        hash
          .update(name)
          .update('\0')
          .update(readFileSync(join(outDir, name)))
          .update('\0')
      const version = hash.digest('hex').slice(0, 16)
      const shell = ['./', ...files.filter((name) => name !== 'index.html').map((name) => `./${name.split('/').map(encodeURIComponent).join('/')}`)]
      const swPath = join(outDir, 'sw.js')
      const code = readFileSync(swPath, 'utf8')
      // The shell goes in as the string literal that JSON.parse reads (whatever quotes the minifier chose);
      // the version is hex, safe inside any literal it was folded into.
      const filled = code.replace(new RegExp(`(["'\`])${SHELL_TOKEN}\\1`), () => JSON.stringify(JSON.stringify(shell))).replaceAll(VERSION_TOKEN, version)
      if (filled.includes('__TIDEKV_SW_')) this.error('sw.js: a precache placeholder was left unfilled (did the minifier rewrite it?)')
      writeFileSync(swPath, filled)
    },
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]))
}
