import { mkdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { systemClock } from '../activities/deps.js';
import { loadConfig, type Config } from '../lib/config.js';
import { createAiRegistry } from '../lib/ai/registry.js';
import { createLogger } from '../lib/logger.js';
import { installTemporalLogging } from '../lib/temporal-logging.js';
import { actionLimits, createCommon } from '../lib/runtime.js';

const here = fileURLToPath(import.meta.url);
// index.ts when run from sources, index.js from dist/.
export const WORKFLOWS_PATH = join(dirname(here), '..', 'workflows', `index${extname(here)}`);

/**
 * Creates the worker. Production passes the prebuilt bundle (WORKFLOW_BUNDLE_PATH); development
 * bundles from source at start; tests pass a bundle they built once per file.
 */
export async function createWorker(config: Config, workflows?: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>) {
  const logger = createLogger(config.logLevel, 'worker');
  installTemporalLogging(logger);
  const { orm, storage, actions } = await createCommon(config);
  await mkdir(config.worker.tmpDir, { recursive: true });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflows ??
      (config.temporal.workflowBundlePath
        ? { workflowBundle: { codePath: config.temporal.workflowBundlePath } }
        : { workflowsPath: WORKFLOWS_PATH })),
    activities: createActivities({
      orm,
      storage,
      actions,
      limits: actionLimits(config),
      ai: createAiRegistry([]),
      logger,
      clock: systemClock,
      tmpDir: config.worker.tmpDir,
      retentionDays: config.media.retentionDays,
    }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    shutdownGraceTime: config.http.shutdownGraceMs,
  });
  const close = async () => {
    await connection.close();
    await orm.close();
  };
  return { worker, close, logger };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  const { worker, close, logger } = await createWorker(config);
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  // Worker.run() handles SIGINT/SIGTERM: it stops polling and lets running activities finish.
  await worker.run();
  await close();
}
