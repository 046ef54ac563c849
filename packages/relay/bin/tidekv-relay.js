#!/usr/bin/env node
// The `tidekv-relay` command: runs the built CLI (dist/cli.js). npm links a
// bin when it installs the package, and only if the file exists by then,
// which dist/ does not in a fresh checkout: so the command is this committed
// file, and it says what to do when the build is missing instead of a stack trace.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const cli = new URL('../dist/cli.js', import.meta.url)

if (!existsSync(cli)) {
  console.error(`tidekv-relay: the relay is not built (${fileURLToPath(cli)} is missing). Run \`npm run build\` in the repository root, then try again.`)
  process.exit(1)
}
try {
  await import(cli.href)
} catch (error) {
  // The relay is built but a package it imports is not (@tidekv/core's dist/, say).
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && /[/\\]dist[/\\]/.test(error.message)) {
    console.error(`tidekv-relay: ${error.message}\nRun \`npm run build\` in the repository root, then try again.`)
    process.exit(1)
  }
  throw error
}
