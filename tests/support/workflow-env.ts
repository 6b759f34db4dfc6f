// The workflow tier (*.workflow.test.ts): a Temporal dev server of its own per test file, started from
// the CLI binary bootstrap built (never a download), with the job's search attributes registered,
// and a worker running the real workflow bundle against activities the test hands in.
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { createLogger } from '#lib/logger.js';
import { installTemporalLogging } from '#lib/temporal-logging.js';
import { binary } from '../../scripts/services.js';
import { bundleOptions } from '#worker/bundle.js';
import { searchAttributes } from '#workflows/search-attributes.js';

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  /**
   * Runs `fn` while a worker on a fresh task queue serves the workflows with `activities`
   * (plain functions: mocks of the real ones), then shuts it down.
   */
  withWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>, options?: Partial<WorkerOptions>): Promise<T>;
  /** The workflow bundle the workers run (for replays). */
  workflowBundle: WorkflowBundle;
  teardown(): Promise<void>;
}

let bundle: Promise<{ code: string }> | undefined;

export async function createWorkflowTestEnv(): Promise<WorkflowTestEnv> {
  // The SDK logs every worker state change; LOG_LEVEL=info shows them.
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent', 'workflow-test');
  installTemporalLogging(logger);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binary('TEMPORAL_BIN', 'temporal') },
      ip: '127.0.0.1',
      ui: false,
      searchAttributes: Object.values(searchAttributes),
    },
  });
  // One webpack build per test file: it is the slow part.
  const quiet = () => undefined;
  const bundlerLogger = { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m) };
  bundle ??= bundleWorkflowCode({ ...bundleOptions({ traced: false }), logger: bundlerLogger });
  const workflowBundle = await bundle;
  return {
    env,
    workflowBundle,
    async withWorker(activities, fn, options = {}) {
      const taskQueue = `wf-test-${randomUUID()}`;
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities, ...options });
      return worker.runUntil(() => fn(taskQueue));
    },
    teardown: () => env.teardown(),
  };
}
