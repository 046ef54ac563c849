// ESLint: the lint rules that need types (no floating promises, no `any` leaking
// through), from typescript-eslint's recommendedTypeChecked set and ESLint's own
// recommended set. Formatting is Biome's (biome.jsonc); this config has no style rules.
//
// Why typescript-eslint and not Biome's linter: Biome's noFloatingPromises infers
// types itself, and missed `store.flush()` without await in a test (a method of a
// class defined in another package, reached through `openStore`'s return type);
// typescript-eslint asks the TypeScript compiler, so it sees every such call.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

export default defineConfig(
  // `npm run lint` passes the files (scripts/source-files.ts: git's list, so .gitignore
  // applies); these ignores keep a bare `npx eslint .` to the same files.
  { ignores: ['**/dist/**', 'test/bench/results/**', '**/.generated/**', 'packages/*/bin/**', 'demo/public/**', '*.config.js'] },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parserOptions: {
        // Each file is checked with the tsconfig that compiles it (as an editor does):
        // core's own (no DOM, no Node), the relay's, the demo's, else the root one.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `_`-prefixed names are the codebase's mark for a binding kept on purpose:
      // `const { device: _, ...rest } = fields`, a parameter an interface requires.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Off: storage adapters and test doubles are `async` without an `await` on
      // purpose, so that a synchronous throw becomes a rejected promise like the real
      // adapter's (the relay storage conformance suite checks exactly that).
      '@typescript-eslint/require-await': 'off',
      // Off: the code writes two statements as one branch or loop body with the comma
      // operator, `if (x < min) (min = x), (count = 0)`, and the rule has no option to
      // allow that; a forgotten `await` (the costly unused expression) is
      // no-floating-promises' job.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Off, both: error messages and test labels echo a value of unknown type on
      // purpose (`${what} must be an integer, got ${n}`): whatever the caller passed is
      // what the message should show, `[object Object]` included.
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Rethrowing a caught value (typed `unknown`) is how an error goes on up.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // The one plain-JavaScript script (it runs before anything is installed, with no
    // TypeScript loader): no tsconfig compiles it, so no type-aware rules; Node's globals.
    files: ['**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  // The demo's service worker (WebWorker globals) and its vite.config.ts (Node) have
  // tsconfigs of their own not named tsconfig.json, which the project service would not find.
  {
    files: ['demo/src/sw/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './demo/tsconfig.sw.json' } },
  },
  {
    files: ['demo/vite.config.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './demo/tsconfig.node.json' } },
  },
)
