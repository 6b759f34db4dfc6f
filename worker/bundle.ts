import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

const here = fileURLToPath(import.meta.url);
// index.ts when run from sources, index.js from dist/.
export const WORKFLOWS_PATH = join(dirname(here), '..', 'workflows', `index${extname(here)}`);
const TRACE_CONTEXT_PATH = join(dirname(here), '..', 'workflows', `trace-context${extname(here)}`);

/**
 * What goes into the workflow bundle: our workflows, and with `traced` OpenTelemetry's workflow
 * interceptors, so a job's trace continues inside its workflow with spans of its own. Those cost
 * a workflow run about a third of its CPU (their modules are evaluated again for every run, and
 * each promise they create records a stack trace for the SDK's stack-trace query), so a worker
 * that exports no spans runs the bundle without them, where workflows/trace-context.ts only hands
 * the trace context on to the activities. Neither adds commands: either bundle replays the other's
 * histories. The build script, the development worker and the tests all bundle with these options.
 */
export function bundleOptions(opts: { traced: boolean }): Pick<BundleOptions, 'workflowsPath' | 'workflowInterceptorModules'> {
  return {
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [opts.traced ? createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors') : TRACE_CONTEXT_PATH],
  };
}

/** The traced bundle the build writes beside the plain one that WORKFLOW_BUNDLE_PATH names. */
export const tracedBundlePath = (plain: string): string => plain.replace(/(\.js)?$/, '.traced.js');

/**
 * The prebuilt bundle a worker loads: the traced one beside `plain` when it exports spans, or
 * `plain` with the traced one reported `missing` (a build without it still runs, tracing stopping
 * at the workflow).
 */
export function prebuiltBundle(plain: string, traced: boolean, exists: (path: string) => boolean = existsSync): { path: string; missing?: string } {
  if (!traced) return { path: plain };
  const path = tracedBundlePath(plain);
  return exists(path) ? { path } : { path: plain, missing: path };
}
