// Tests run as native ESM (MikroORM 7 and koa-body are ESM-only), TypeScript stripped by swc.
// Three tiers, chosen by file name (README, "Tests"):
//   unit         *.unit.test.ts      no services: no Postgres, Temporal or MinIO (local binaries such
//                                   as ffmpeg and sharp, and in-process fakes, are fine)
//   workflow     *.workflow.test.ts  workflows in a Temporal test environment with mocked activities
//   integration  every other *.test.ts, against real Postgres, Temporal and MinIO (global setup)
const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests', '<rootDir>/activities', '<rootDir>/api', '<rootDir>/domain', '<rootDir>/workflows', '<rootDir>/lib'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
  // Relative imports and the package.json "imports" aliases (#domain/…) name the .js the build emits.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '^#(api|activities|domain|entities|lib|workflows|worker)/(.*)\\.js$': '<rootDir>/$1/$2' },
};

export default {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['**/*.unit.test.ts'] },
    { ...base, displayName: 'workflow', testMatch: ['**/*.workflow.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.test\\.ts$', '\\.workflow\\.test\\.ts$'],
      // Runs only when at least one integration test is selected.
      globalSetup: '<rootDir>/tests/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
    },
  ],
  testTimeout: 120000,
  maxWorkers: 1,
  // One worker process runs the files in turn, replaced once its heap passes 1 GB after a file: the
  // ESM module registries a single in-band process keeps add up and slow every later file (the whole
  // run: 2492 s in band, 1565 s recycled; the upload memory test 252 s late in band, 33 s recycled).
  workerIdleMemoryLimit: '1GB',
};
