/** Tests run the TypeScript sources through SWC (no type checking here: `tsc --noEmit` does that in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
    // htmlnano (MJML's minifier) loads its modules with import(), which Jest's CommonJS runtime cannot run
    // without --experimental-vm-modules; SWC turns those calls into require(), as Node itself resolves them.
    '/node_modules/htmlnano/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!htmlnano/)'],
  testTimeout: 60000,
  // Integration tests share one Redis and two cores; two at a time keeps them fast without starving the browser test.
  maxWorkers: 2,
};
