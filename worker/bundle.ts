import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

const here = fileURLToPath(import.meta.url);
// index.ts when run from sources, index.js from dist/.
export const WORKFLOWS_PATH = join(dirname(here), '..', 'workflows', `index${extname(here)}`);

/**
 * What goes into the workflow bundle: our workflows plus OpenTelemetry's workflow interceptors,
 * so a job's trace continues inside its workflow. The build script, the development worker and
 * the tests all bundle with these options, so they run the same code.
 */
export function bundleOptions(): Pick<BundleOptions, 'workflowsPath' | 'workflowInterceptorModules'> {
  return {
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
  };
}
