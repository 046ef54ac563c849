import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'
import { sourceAliases } from './packages/source-aliases.js'

// Tests import the packages by name and run their TypeScript sources directly,
// so `npm test` needs no build step.
const alias = sourceAliases(fileURLToPath(new URL('.', import.meta.url)))

// @tidekv/react's tests run a second time on React 18, installed by the test/react18 workspace.
const react18 = fileURLToPath(new URL('./test/react18/node_modules/', import.meta.url))
const react18Alias = [
  { find: /^react$/, replacement: `${react18}react/index.js` },
  { find: /^react\/(.*)$/, replacement: `${react18}react/$1` },
  { find: /^react-dom$/, replacement: `${react18}react-dom/index.js` },
  { find: /^react-dom\/(.*)$/, replacement: `${react18}react-dom/$1` },
  // Its ES module build, compiled by Vite (below), so that its imports of react and react-dom take these aliases too.
  { find: /^@testing-library\/react$/, replacement: fileURLToPath(new URL('./node_modules/@testing-library/react/dist/@testing-library/react.esm.js', import.meta.url)) },
]

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test.tsx'],
          environment: 'node',
        },
      },
      {
        resolve: { alias: [...alias, ...react18Alias] },
        test: {
          name: 'react18',
          include: ['packages/react/src/**/*.test.tsx'],
          environment: 'node',
          server: { deps: { inline: [/@testing-library\/react/] } },
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
