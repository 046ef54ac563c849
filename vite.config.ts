import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests import the packages by name and run their TypeScript sources directly,
// so `npm test` needs no build step.
const alias = {
  '@tidekv/client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)),
  '@tidekv/protocol': fileURLToPath(new URL('./packages/protocol/src/index.ts', import.meta.url)),
  '@tidekv/relay': fileURLToPath(new URL('./packages/relay/src/index.ts', import.meta.url)),
}

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
          environment: 'node',
          testTimeout: 120_000,
        },
      },
    ],
  },
})
