// ESLint flat config (CommonJS: the project has no "type": "module").
// TypeScript under src, workers, test and bench is linted with type information from tsconfig.json;
// plain JavaScript (config files, the browser script in src/http/assets) gets the rules that need no types.
// Formatting is Prettier's job: eslint-config-prettier comes last and turns off every rule that would fight it.
const { defineConfig, globalIgnores } = require('eslint/config');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');
const prettier = require('eslint-config-prettier/flat');

const TS_FILES = ['{src,workers,test,bench}/**/*.ts'];

module.exports = defineConfig([
  globalIgnores(['node_modules/', 'dist/', 'var/', 'coverage/']),

  // Rules for every file ESLint lints.
  {
    extends: [js.configs.recommended],
    rules: {
      eqeqeq: ['error', 'smart'],
      // Off: every control-character regex here is deliberate (stripping or rejecting control characters in input).
      'no-control-regex': 'off',
    },
  },

  // JavaScript run by Node: eslint.config.js, jest.config.js, .dependency-cruiser.cjs, .ci/*.cjs.
  {
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['src/http/assets/**', 'src/http/console/assets/**'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // The browser script served to signup pages: a classic <script>, not a module.
  {
    files: ['src/http/assets/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // The console's browser scripts: ES modules (<script type="module">) importing each other from /admin/assets.
  {
    files: ['src/http/console/assets/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // TypeScript, type-checked through the project service (it finds tsconfig.json, which includes these four folders).
  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Express handlers return promises on purpose: Express 5 passes a rejected one to the error handler.
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },

  // Tests assert on JSON bodies (`await res.json()` is `any`) and on `expect.any(...)` matchers:
  // the no-unsafe-* rules flag nearly every such assertion and find nothing there, so they are off for tests only.
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  prettier,
]);
