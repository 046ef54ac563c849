import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'
import { sourceAliases } from './packages/source-aliases.js'

// Tests import the packages by name and run their TypeScript sources directly,
// so `npm test` needs no build step.
const alias = sourceAliases(fileURLToPath(new URL('.', import.meta.url)))

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/**'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          // The demo in Debian's Chromium (playwright-core), served by a relay process.
          // After the other projects (groupOrder 1) and one file at a time: the machine has
          // 2 cores, and browsers beside the relay and Node tests would starve each other.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
})
