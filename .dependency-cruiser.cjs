// The layer rule (README, "Layout"), checked by `npm run depcruise` in .ci/run.
// Application code only: tests, scripts and benchmarks may reach into any layer.
const APP = '^(api|worker|workflows|activities|domain|entities|lib)/';
const TESTS = '(^|/)tests/|\\.test\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lib-is-an-adapter',
      comment: 'lib/ holds adapters and helpers: it imports nothing of the application, only its own modules and packages.',
      severity: 'error',
      from: { path: '^lib/', pathNot: TESTS },
      to: { path: '^(api|worker|workflows|activities|domain|entities)/' },
    },
    {
      name: 'api-not-worker',
      comment: 'api/ reaches what it shares with the worker through domain/, never activities/ or worker/.',
      severity: 'error',
      from: { path: '^api/', pathNot: TESTS },
      to: { path: '^(activities|worker)/' },
    },
    {
      name: 'domain-below-apps',
      comment: 'domain/ is shared by the API and the worker: it imports neither of them.',
      severity: 'error',
      from: { path: '^domain/', pathNot: TESTS },
      to: { path: '^(api|worker|activities)/' },
    },
    {
      name: 'entities-below-domain',
      comment: 'entities/ are the ORM mapping: they import lib/ and the status lists of workflows/, nothing that uses them.',
      severity: 'error',
      from: { path: '^entities/', pathNot: TESTS },
      to: { path: '^(api|worker|activities|domain)/' },
    },
    {
      name: 'activities-not-api',
      comment: 'activities/ run in the worker: what they share with the API lives in domain/.',
      severity: 'error',
      from: { path: '^activities/', pathNot: TESTS },
      to: { path: '^(api|worker)/' },
    },
    {
      name: 'workflows-deterministic',
      comment:
        'Workflows run in the deterministic sandbox: besides each other they import only types, @temporalio/workflow ' +
        'and @temporalio/common (which @temporalio/workflow is built on; search attribute keys are defined there).',
      severity: 'error',
      from: { path: '^workflows/', pathNot: TESTS },
      to: {
        pathNot: ['^workflows/', '@temporalio/(workflow|common)/'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-circular-layers',
      comment:
        'No cycle of value imports through application code. Type-only imports may close a loop: a workflow ' +
        'types its activity proxies with the activities it calls (the Temporal pattern).',
      severity: 'error',
      from: { path: APP, pathNot: TESTS },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
