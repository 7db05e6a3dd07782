// ESLint flat config: the recommended JavaScript and typescript-eslint rules for all our code.
// A few type-aware rules run on production code (not tests, which read untyped JSON): a promise nobody
// awaits, a promise where a callback's result is ignored, an object turned into "[object Object]".
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', '.gpuwatch-stack/', 'test/fixtures/', 'test/golden/', '**/golden/', 'bench/fixtures/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter that must exist but is not read (Express knows an error handler by its four arguments).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // A `let` that a callback reads before it is assigned must stay a `let` declared early (a `const` there would throw).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'test/**', '**/testing/**'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // Tests and their helpers read untyped JSON response bodies.
    files: ['**/*.test.ts', 'test/**', '**/testing/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Kysely migrations run against Kysely<any>, as Kysely advises: a migration must not depend on today's table types.
    files: ['**/migrations/**', '**/migrations.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The board's script runs in the browser.
    files: ['alertmanager/templates/static/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Plain JavaScript scripts run under Node.
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
);
