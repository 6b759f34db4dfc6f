// Tests run as native ESM (MikroORM 7 and koa-body are ESM-only), TypeScript stripped by swc.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests', '<rootDir>/activities', '<rootDir>/api', '<rootDir>/workflows', '<rootDir>/lib'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 1,
};
