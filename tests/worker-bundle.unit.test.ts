import { prebuiltBundle, tracedBundlePath } from '#worker/bundle.js';

test('the traced bundle sits beside the plain one', () => {
  expect(tracedBundlePath('/app/dist/workflow-bundle.js')).toBe('/app/dist/workflow-bundle.traced.js');
  expect(tracedBundlePath('/bundles/jobs')).toBe('/bundles/jobs.traced.js');
});

test('a worker exporting spans loads the traced bundle, or the plain one (said missing) where the build left it out', () => {
  const plain = '/app/dist/workflow-bundle.js';
  expect(prebuiltBundle(plain, false, () => true)).toEqual({ path: plain });
  expect(prebuiltBundle(plain, true, (p) => p === '/app/dist/workflow-bundle.traced.js')).toEqual({ path: '/app/dist/workflow-bundle.traced.js' });
  expect(prebuiltBundle(plain, true, () => false)).toEqual({ path: plain, missing: '/app/dist/workflow-bundle.traced.js' });
});
